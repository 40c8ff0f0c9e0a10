import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { lineLog, type LineLog, type Logger } from '../common';
import { CLOUD_IDS, listRegions, useCatalogSettings, type CloudId, type CloudProvider, type ProvidersConfig, type RegionAccount } from '../providers';
import { createProviderContainer, providerFor } from '../providers/drivers';
import { place, withReportedRegions } from './placement';
import { buildApi, type SchedulerControl } from './api';
import type { SchedulerConfig } from './config';
import { Metrics } from './metrics';
import { Reconciler, type Residency } from './reconciler';
import { lockDataDir, SqliteStateStore, type DataDirLock, type StateStore, type StoredPolicy } from './store';
import { statusPage } from './ui';
import { computeEndpoints, WatchHub } from './watch';
import { documentValidation, regionPolicyAdapter } from './wiring';

/** How to start the scheduler service. */
export interface SchedulerServiceOptions {
  readonly config: SchedulerConfig;
  /** Driver settings (endpoints, credentials, resilience) for the provider container. */
  readonly providers: ProvidersConfig;
  /** Overrides the drivers (tests); by default they come from the provider container. */
  readonly provider?: (cloud: CloudId) => CloudProvider;
  /**
   * The JSON logger: one line per API request and per cloud call, and the operational messages.
   * Without it requests and cloud calls are not logged.
   */
  readonly logger?: Logger;
  /** Where operational messages go instead of `logger` (default: `logger`, else stderr as text). */
  readonly log?: LineLog;
  /** GeoDNS admin APIs known only once running (the sandbox's own server), shown after `ui.geoDnsAdminUrls`. */
  readonly geoDnsAdminUrls?: () => readonly string[];
  /**
   * The caller's hold on `config.dataDir` (the sandbox takes it before its emulators use the
   * directory); the caller releases it. Without it the service takes the directory itself, and
   * gives it back on `stop()`.
   */
  readonly dataDirLock?: DataDirLock;
}

/** A running scheduler: store, reconciler and HTTP API. */
export interface SchedulerService {
  /** `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly store: StateStore;
  readonly reconciler: Reconciler<unknown>;
  readonly api: FastifyInstance;
  readonly watch: WatchHub;
  readonly metrics: Metrics;
  /**
   * Stops the reconciler's new work and the API, waits (at most `shutdownGraceSeconds`) for the
   * cloud calls in flight and their journal writes, then closes the watch hub and the store.
   */
  stop(): Promise<void>;
}

/** The configured account plus the opt-in regions each cloud reports as enabled (asked once, in parallel). */
async function reportedAccount(
  settings: RegionAccount, provider: (cloud: CloudId) => CloudProvider, log: LineLog,
): Promise<RegionAccount> {
  const answers = await Promise.all(CLOUD_IDS.map(async (cloud) => {
    const driver = provider(cloud);
    if (!driver.enabledRegions) return { cloud, regions: [] as readonly string[] };
    try {
      return { cloud, regions: await driver.enabledRegions() };
    } catch (err) {
      // Placement still has the configured regions; a cloud that cannot answer adds none.
      log(`${cloud}: cannot list the account's enabled regions: ${err instanceof Error ? err.message : String(err)}`, 'warn', { cloud });
      return { cloud, regions: [] as readonly string[] };
    }
  }));
  return answers.reduce((acc, a) => withReportedRegions(acc, a.cloud, a.regions), settings);
}

/**
 * Parts of a scheduler without the HTTP listener (tests use `api.inject()`). Throws
 * `DataDirLockedError` when another process (or another scheduler in this one) holds the data directory.
 */
export async function createScheduler(options: SchedulerServiceOptions): Promise<Omit<SchedulerService, 'url' | 'port'>> {
  const { config } = options;
  // A second scheduler on the same state would run a second reconciler on the same clouds.
  const ownLock = options.dataDirLock || config.dataDir === ':memory:' ? undefined : lockDataDir(config.dataDir);
  let store: SqliteStateStore;
  try {
    store = new SqliteStateStore({ dataDir: config.dataDir });
  } catch (err) {
    ownLock?.release();
    throw err;
  }
  const container = options.provider ? undefined : createProviderContainer(options.providers);
  const drivers = new Map<CloudId, CloudProvider>();
  const provider = options.provider ?? ((cloud: CloudId) => {
    let d = drivers.get(cloud);
    if (!d) { d = providerFor(container as NonNullable<typeof container>, cloud); drivers.set(cloud, d); }
    return d;
  });
  const metrics = new Metrics();
  const log: LineLog = options.log ?? (options.logger ? lineLog(options.logger) : (m) => { process.stderr.write(`${m}\n`); });
  const account = config.regions.fromClouds ? await reportedAccount(config.regions, provider, log) : config.regions;
  const reconciler = new Reconciler({
    store, provider, place: (w, p, ctx) => place(w, p, ctx, { account }), policies: regionPolicyAdapter, config: config.reconciler, metrics, log,
    logCloudCalls: options.logger !== undefined,
  }) as unknown as Reconciler<unknown>;
  // Residency of each policy, worked out once per generation of its document.
  const residencies = new Map<string, { generation: number; residency: Residency | null }>();
  const residencyOf = (doc: StoredPolicy): Residency | null => {
    const hit = residencies.get(doc.name);
    if (hit?.generation === doc.generation) return hit.residency;
    const parsed = regionPolicyAdapter.parse(doc.spec);
    const residency = parsed.ok ? regionPolicyAdapter.residency(parsed.policy) : null;
    residencies.set(doc.name, { generation: doc.generation, residency });
    return residency;
  };
  const watch = new WatchHub(store, (name) => computeEndpoints(store, reconciler, residencyOf, name), {
    logEvents: config.api.watchLogEvents,
    onOpen: (start) => metrics.inc('meridian_watch_streams_total', 'Watch streams opened, by how they started: a full snapshot, or only the events the watcher missed.', { start }),
  });
  // The store says what each write changed: only those workloads' endpoints are recomputed.
  store.onChange((c) => {
    if (c.kind === 'policy') for (const name of store.workloadsUsingPolicy(c.name)) watch.invalidate(name);
    else watch.invalidate(c.name);
  });
  // Region health is not in the store.
  reconciler.onChange((name) => watch.invalidate(name));
  // Workloads with series: a purged one's label sets are removed at the next collection.
  let exposed = new Set<string>();
  metrics.onCollect(() => {
    const now = new Set<string>();
    for (const w of store.listWorkloads()) {
      const s = reconciler.status(w.name);
      if (!s) continue;
      now.add(w.name);
      for (const [state, n] of Object.entries({ ready: s.ready, pending: s.pending, terminating: s.terminating })) {
        metrics.set('meridian_instances', 'Instances of each workload by state.', { workload: w.name, state }, n);
      }
      metrics.set('meridian_instances_desired', 'Desired replicas of each workload.', { workload: w.name }, s.desired);
    }
    for (const name of exposed) {
      if (now.has(name)) continue;
      for (const state of ['ready', 'pending', 'terminating']) metrics.remove('meridian_instances', { workload: name, state });
      metrics.remove('meridian_instances_desired', { workload: name });
    }
    exposed = now;
    // Every catalog region has a series, so that an alert on 0 also sees regions no workload uses yet.
    const unhealthy = new Set(reconciler.health.unhealthy().map((h) => `${h.cloud}/${h.region}`));
    for (const r of listRegions()) {
      metrics.set('meridian_region_healthy', 'Whether the region\'s API answers (1) or is failing (0), for every catalog region.',
        { cloud: r.cloud, region: r.id }, unhealthy.has(`${r.cloud}/${r.id}`) ? 0 : 1);
    }
    metrics.set('meridian_watch_revision', 'Current revision of the watch stream.', {}, store.currentRevision());
  });
  const control: SchedulerControl = {
    health: reconciler.health,
    status: (name) => reconciler.status(name),
    exclusions: () => reconciler.exclusions(),
    plan: (w, p) => reconciler.plan(w, p),
    // The store's change feed has queued what the write changed, for the reconciler and the watch.
    trigger: () => { reconciler.trigger(); },
    notReady: () => (reconciler.isRunning ? [] : ['the reconciler is not running (starting or stopping)']),
  };
  const api = await buildApi({
    store, scheduler: control, watch, metrics, validation: documentValidation, token: config.api.token,
    watchPingSeconds: config.api.watchPingSeconds, dnsZones: config.dnsZones, logger: options.logger, account,
  });
  await api.register(statusPage, { geoDnsAdminUrls: () => [...config.ui.geoDnsAdminUrls, ...(options.geoDnsAdminUrls?.() ?? [])] });
  return {
    token: config.api.token, store, reconciler, api, watch, metrics,
    stop: async () => {
      // In order: no new cloud call starts; no new request or watch stream is taken (open streams
      // end); the calls in flight finish and journal their outcome, for at most the grace period;
      // then nothing is left that could write, and the store closes.
      const drained = reconciler.stop(config.shutdownGraceSeconds * 1000);
      await api.close();
      const abandoned = await drained;
      if (abandoned > 0) {
        log(`stopped waiting for ${abandoned} cloud calls after ${config.shutdownGraceSeconds} s; the next start replays them`, 'warn');
      }
      watch.close();
      store.close();
      ownLock?.release();
    },
  };
}

/** Starts store, reconciler and the HTTP API listening on `config.api.host:port`. */
export async function startScheduler(options: SchedulerServiceOptions): Promise<SchedulerService> {
  // Placement, the regions API and the watch stream read the catalog: the configured one goes in first.
  useCatalogSettings(options.config.catalog);
  const parts = await createScheduler(options);
  try {
    await parts.api.listen({ host: options.config.api.host, port: options.config.api.port });
  } catch (err) {
    await parts.stop();
    throw err;
  }
  parts.reconciler.start();
  const addr = parts.api.server.address() as AddressInfo;
  return { ...parts, url: `http://${options.config.api.host}:${addr.port}`, port: addr.port };
}
