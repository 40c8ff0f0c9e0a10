import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { lineLog, type LineLog, type Logger } from '../common';
import { CLOUD_IDS, listRegions, useCatalogSettings, type CloudId, type CloudProvider, type ProvidersConfig, type RegionAccount } from '../providers';
import { createProviderContainer, providerFor } from '../providers/drivers';
import { place, withReportedRegions } from './placement';
import { buildApi, type SchedulerControl } from './api';
import { redactStoreUrl, type SchedulerConfig } from './config';
import type { LeaderLease } from './lease';
import { Metrics, setLeaseGauges, type LeaseView } from './metrics';
import { NotLeaderError, Reconciler, type Residency } from './reconciler';
import { lockDataDir, openSqliteStore, type DataDirLock, type StateStore, type StoredPolicy } from './store';
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
  /** The password of `config.store.url`'s user (the entry point reads it from the environment or `store.passwordFile`). */
  readonly storePassword?: string;
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
  /** The leader lease, when the state is shared (`config.store.url`); undefined with SQLite. */
  readonly lease?: LeaderLease;
  /** This scheduler's role: `leader` (it reconciles), `follower` (it serves only), or `single` (SQLite). */
  role(): 'leader' | 'follower' | 'single';
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
  const log: LineLog = options.log ?? (options.logger ? lineLog(options.logger) : (m) => { process.stderr.write(`${m}\n`); });
  let store: StateStore;
  let lease: LeaderLease | undefined;
  let ownLock: DataDirLock | undefined;
  if (config.store.url) {
    ({ store, lease } = await sharedStore(config, options.storePassword, log));
  } else {
    // A second scheduler on the same state would run a second reconciler on the same clouds.
    ownLock = options.dataDirLock || config.dataDir === ':memory:' ? undefined : lockDataDir(config.dataDir);
    try {
      store = openSqliteStore({ dataDir: config.dataDir });
    } catch (err) {
      ownLock?.release();
      throw err;
    }
  }
  const container = options.provider ? undefined : createProviderContainer(options.providers);
  const drivers = new Map<CloudId, CloudProvider>();
  const provider = options.provider ?? ((cloud: CloudId) => {
    let d = drivers.get(cloud);
    if (!d) { d = providerFor(container as NonNullable<typeof container>, cloud); drivers.set(cloud, d); }
    return d;
  });
  const metrics = new Metrics();
  const account = config.regions.fromClouds ? await reportedAccount(config.regions, provider, log) : config.regions;
  const reconciler = new Reconciler({
    store, provider, place: (w, p, ctx) => place(w, p, ctx, { account }), policies: regionPolicyAdapter, config: config.reconciler, metrics, log,
    logCloudCalls: options.logger !== undefined,
    ...(lease ? { fence: () => lease.currentToken() } : {}),
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
  try {
    // Region health as last stored: a follower's watch stream, metrics and status say what the leader found.
    await reconciler.loadStoredHealth();
    await watch.load();
  } catch (err) {
    await store.close();
    ownLock?.release();
    throw err;
  }
  // The store says what each write changed (here or, on a shared store, in another scheduler):
  // only those workloads' endpoints are recomputed.
  store.onChange((c) => {
    if (c.kind === 'resync') void watch.invalidateAll().catch((err: unknown) => { log(`watch resync failed: ${String(err)}`); });
    else if (c.kind === 'policy') {
      store.workloadsUsingPolicy(c.name).then((names) => { for (const name of names) watch.invalidate(name); },
        (err: unknown) => { log(`cannot list the workloads of policy '${c.name}': ${String(err)}`); });
    } else watch.invalidate(c.name);
  });
  reconciler.onChange((name) => watch.invalidate(name));
  // A region's health flipped (this scheduler's calls found out, or it followed the stored health):
  // only the workloads using that region are recomputed.
  reconciler.health.onChange((h) => watch.invalidateRegion(h.cloud, h.region));
  // Gauges read from the store are gathered before each scrape (the store answers asynchronously).
  let gauges: { instances: Array<{ name: string; desired: number; ready: number; pending: number; terminating: number }>; revision: number } = { instances: [], revision: 0 };
  let leaseView: LeaseView | undefined;
  const gather = async (): Promise<void> => {
    // Two reads for every workload's counts, however many workloads there are.
    const instances = [...await reconciler.allCounts()].map(([name, c]) => ({ name, ...c }));
    gauges = { instances, revision: await store.currentRevision() };
    leaseView = await describeLease(lease);
  };
  // Workloads with series: a purged one's label sets are removed at the next collection.
  let exposed = new Set<string>();
  metrics.onCollect(() => {
    const now = new Set<string>();
    for (const s of gauges.instances) {
      now.add(s.name);
      for (const [state, n] of Object.entries({ ready: s.ready, pending: s.pending, terminating: s.terminating })) {
        metrics.set('meridian_instances', 'Instances of each workload by state.', { workload: s.name, state }, n);
      }
      metrics.set('meridian_instances_desired', 'Desired replicas of each workload.', { workload: s.name }, s.desired);
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
    metrics.set('meridian_watch_revision', 'Current revision of the watch stream.', {}, gauges.revision);
    if (leaseView) setLeaseGauges(metrics, leaseView);
  });
  const control: SchedulerControl = {
    health: reconciler.health,
    status: (name) => reconciler.status(name),
    exclusions: () => reconciler.exclusions(),
    plan: (w, p) => reconciler.plan(w, p),
    // The store's change feed has queued what the write changed, for the reconciler and the watch.
    trigger: () => { reconciler.trigger(); },
    // A follower serves the API and the watch stream: it is ready without a reconciler.
    notReady: () => (reconciler.isRunning || (lease && !stopping) ? [] : ['the reconciler is not running (starting or stopping)']),
    lease: async () => describeLease(lease),
  };
  let stopping = false;
  const api = await buildApi({
    store, scheduler: control, watch, metrics, validation: documentValidation, token: config.api.token,
    watchPingSeconds: config.api.watchPingSeconds, dnsZones: config.dnsZones, logger: options.logger, account,
  });
  await api.register(statusPage, { geoDnsAdminUrls: () => [...config.ui.geoDnsAdminUrls, ...(options.geoDnsAdminUrls?.() ?? [])] });
  api.addHook('onRequest', async (req) => {
    if (req.url === '/metrics') await gather();
  });
  return {
    token: config.api.token, store, reconciler, api, watch, metrics, ...(lease ? { lease } : {}),
    role: () => (!lease ? 'single' : lease.isLeader() ? 'leader' : 'follower'),
    stop: async () => {
      stopping = true;
      // In order: no new cloud call starts; no new request or watch stream is taken (open streams
      // end); the calls in flight finish and journal their outcome, for at most the grace period;
      // then nothing is left that could write, the lease is given back and the store closes.
      const drained = reconciler.stop(config.shutdownGraceSeconds * 1000);
      await api.close();
      const abandoned = await drained;
      if (abandoned > 0) {
        log(`stopped waiting for ${abandoned} cloud calls after ${config.shutdownGraceSeconds} s; the next start replays them`, 'warn');
      }
      watch.close();
      await lease?.stop();
      await store.close();
      ownLock?.release();
    },
  };
}

/** What `/healthz`, `/readyz` and the metrics say of the lease; undefined without one. */
async function describeLease(lease: LeaderLease | undefined): Promise<LeaseView | undefined> {
  if (!lease) return undefined;
  const role = lease.isLeader() ? 'leader' : 'follower';
  try {
    const row = await lease.describe();
    return { role, self: lease.holder, ...(row && !row.expired ? { holder: row.holder, token: row.token, renewedSecondsAgo: row.renewedSecondsAgo } : {}) };
  } catch {
    // The database does not answer: what this scheduler knows by itself.
    return { role, self: lease.holder, ...(lease.currentToken() !== undefined ? { holder: lease.holder, token: lease.currentToken() } : {}) };
  }
}

/** The PostgreSQL store and the leader lease on the same database (both load `pg`, so only when asked for). */
async function sharedStore(config: SchedulerConfig, password: string | undefined, log: (message: string) => void): Promise<{ store: StateStore; lease: LeaderLease }> {
  const url = config.store.url as string;
  const where = redactStoreUrl(url);
  const [{ PostgresStateStore }, { LeaderLease }] = await Promise.all([import('./store/postgres/index.js'), import('./lease/index.js')]);
  const connection = { connectionString: url, ...(password !== undefined ? { password } : {}), connectionTimeoutMillis: 10_000 };
  const { lease: l } = config.store;
  const store = await PostgresStateStore.open({ connection, where, poolSize: config.store.poolSize, fence: { name: l.name }, log });
  const lease = new LeaderLease({
    connection, name: l.name, leaseDurationMs: l.durationSeconds * 1000, renewDeadlineMs: l.renewDeadlineSeconds * 1000,
    renewIntervalMs: l.renewIntervalSeconds * 1000, log,
  });
  return { store, lease };
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
  const log: LineLog = options.log ?? (options.logger ? lineLog(options.logger) : (m) => { process.stderr.write(`${m}\n`); });
  const { lease } = parts;
  if (!lease) {
    await parts.reconciler.start();
  } else {
    // Only the lease holder reconciles; it stops as soon as its own reckoning of the lease ends,
    // which is before the database lets another take it.
    lease.onAcquired((token) => {
      log(`leader lease '${lease.name}' acquired with fencing token ${token}: reconciling`, 'info', { lease: lease.name, token });
      parts.reconciler.start().catch((err: unknown) => { log(`the reconciler could not start: ${String(err)}`, 'error'); });
    });
    let stopping = false;
    lease.onLost((reason) => {
      log(`leader lease '${lease.name}' lost (${reason}): reconciling stops`, 'warn', { lease: lease.name });
      // A follower again: region health is the new leader's, as stored.
      void parts.reconciler.stop(options.config.shutdownGraceSeconds * 1000).then(() => { if (!stopping) parts.reconciler.followStoredHealth(); });
    });
    // The last check before a request's bytes leave: a cloud call that had passed the reconciler's
    // check when the process was paused (SIGSTOP, a frozen VM) finds out here, as it writes.
    const { fenceHttpRequests } = await import('./lease/index.js');
    const unfence = fenceHttpRequests(() => (lease.isLeader() ? undefined : new NotLeaderError()));
    const stop = parts.stop;
    parts.stop = async () => {
      stopping = true;
      await stop();
      unfence();
    };
    try {
      await lease.start();
    } catch (err) {
      await parts.stop();
      throw err;
    }
  }
  const addr = parts.api.server.address() as AddressInfo;
  return { ...parts, url: `http://${options.config.api.host}:${addr.port}`, port: addr.port };
}
