/** The authoritative GeoDNS server: start it, feed it workloads, stop it. */
import type { LineLog } from '../common';
import { GeoTable, GeoTableHolder } from './geoip';
import { createAdminServer, type GeoChannelsControl, listenAdmin } from './admin/http';
import type { LocationRecorder } from './answer/locate';
import { WorkloadStore } from './answer/store';
import { QueryHandler } from './server/handler';
import { DnsMetrics } from './server/metrics';
import { DEFAULT_RRL, ResponseRateLimiter, type RrlOptions } from './server/rrl';
import { defaultUdpTransport, listen } from './server/transport';
import { DEFAULT_TCP, type TcpOptions } from './server/tcp';
import { CookieSecrets, DEFAULT_COOKIES, type CookieOptions } from './server/cookies';
import { defaultIdentity, type IdentityOptions } from './server/identity';
import { WatchClient, type WatchStatus } from './watch/client';
import { checkWorkloads, type WatchEvent, type WorkloadEndpoints } from './watch/protocol';
import { loadSnapshot, SnapshotWriter } from './watch/snapshot';
import { DEFAULT_STATE_GUARD, StateGuard, type StateGuardOptions } from './watch/guard';
import { MAX_UDP_EDNS } from './wire/constants';
import { loadZoneConfig } from './zone/load';
import type { ZoneConfig } from './zone/schema';
import { ZoneSet } from './zone/zone';
import type { DnsConfig, UdpTransport } from './config';

export { DnsConfigSchema, loadDnsConfig, UDP_TRANSPORTS, type DnsConfig, type UdpTransport } from './config';
export { exampleZoneConfig, loadZoneConfig, DnsConfigError, type DnsConfigIssue } from './zone/load';
export type { ZoneConfig, ZoneDefinition, StaticRecord } from './zone/schema';
export type { WorkloadEndpoints, WatchEvent } from './watch/protocol';
export type { WatchPosition, WatchStatus } from './watch/client';
export type { PendingState, StateGuardOptions } from './watch/guard';
export type { RrlOptions } from './server/rrl';
export { DEFAULT_TCP, type TcpOptions } from './server/tcp';
export type { CookieOptions } from './server/cookies';
export type { IdentityOptions } from './server/identity';
export { DnsDecodeError } from './wire/errors';

/** Options of `startDnsServer`. */
export interface DnsServerOptions {
  /** Listen address for UDP and TCP (default 127.0.0.1). */
  readonly address?: string;
  /** Port for UDP and TCP (default 5300; 0 picks a free one). */
  readonly port?: number;
  /** Admin HTTP port (default 8053; 0 picks a free one; false disables it). */
  readonly adminPort?: number | false;
  readonly adminAddress?: string;
  /** Zones served (validated with `loadZoneConfig`). */
  readonly zones: ZoneConfig;
  /** Initial workloads (a snapshot file, when present and newer, replaces them). */
  readonly workloads?: readonly WorkloadEndpoints[];
  /** The scheduler's watch stream. */
  readonly watch?: { readonly url: string; readonly token: string; readonly minBackoffMs?: number; readonly maxBackoffMs?: number; readonly staleAfterMs?: number };
  /** File keeping the last snapshot (written atomically; the one before it is kept as `<file>.prev`). */
  readonly snapshotPath?: string;
  /** When a scheduler state that drops most names or goes back waits before it is served (default: half, 5 minutes). */
  readonly stateGuard?: Partial<StateGuardOptions>;
  /** Bounds the workloads' TTLs are clamped into, in seconds (default 5..3600). */
  readonly ttlBounds?: { readonly min: number; readonly max: number };
  /** Most A/AAAA records per answer (default 8). */
  readonly maxAddresses?: number;
  /** Largest UDP response to EDNS clients (default 1232). */
  readonly maxUdpPayload?: number;
  /** DNS cookies (default on, with a random secret rotating hourly). */
  readonly cookies?: Partial<CookieOptions>;
  /** NSID and CHAOS identity (default: the host name; `false` turns one off). */
  readonly identity?: Partial<IdentityOptions>;
  /** Response-rate limiting (default on, loopback exempt); false turns it off. */
  readonly rrl?: Partial<RrlOptions> | false;
  readonly tcp?: Partial<TcpOptions>;
  /** How UDP is read and written (default: 'batched' where its native addon is built, else 'dgram'). */
  readonly udpTransport?: UdpTransport;
  /** Bind UDP with SO_REUSEPORT, one socket per process (batched transport; the cluster mode sets it). */
  readonly reusePort?: boolean;
  /** GeoIP table or holder (default: geoip-lite's data, loaded once per process). */
  readonly geo?: GeoTable | GeoTableHolder;
  /** The GeoIP channels' supervisor, for `/geo/channels` and its actions (it owns `geo`'s swaps). */
  readonly channels?: GeoChannelsControl;
  /** Told the location each client prefix was answered with (the hot-prefix cache). */
  readonly recorder?: LocationRecorder;
  /** Log sink (default: stderr). */
  readonly log?: LineLog;
  /** Where the admin API writes one line per request; none by default. */
  readonly requestLog?: LineLog;
}

/** A running server. */
export interface RunningDnsServer {
  readonly address: string;
  readonly port: number;
  readonly adminPort?: number;
  /** The UDP transport in use. */
  readonly udpTransport: UdpTransport;
  /** The GeoIP table holder the server reads; `swap` a table in at any time. */
  readonly geo: GeoTableHolder;
  /** Replaces every workload (as a snapshot would). */
  setWorkloads(list: readonly WorkloadEndpoints[]): void;
  /** Adds or replaces one workload (as an upsert event would). */
  upsertWorkload(w: WorkloadEndpoints): void;
  /** Removes a workload by its workload name. */
  deleteWorkload(name: string): void;
  /** Current workloads. */
  workloads(): WorkloadEndpoints[];
  /** Watch connection status, when a watch is configured. */
  watchStatus(): WatchStatus | undefined;
  /** Stops the watch, writes the snapshot, closes every socket. Idempotent. */
  close(): Promise<void>;
}

let defaultTable: GeoTable | undefined;

/** The process-wide table from geoip-lite's data, loaded on first use. */
export function defaultGeoTable(): GeoTable {
  defaultTable ??= GeoTable.fromGeoipLite();
  return defaultTable;
}

/** Starts UDP and TCP listeners (and the admin API), loads the snapshot, and follows the watch stream. */
export async function startDnsServer(options: DnsServerOptions): Promise<RunningDnsServer> {
  const log: LineLog = options.log ?? ((line) => { process.stderr.write(`${line}\n`); });
  const zones = new ZoneSet(loadZoneConfig(options.zones));
  const geo = options.geo instanceof GeoTableHolder ? options.geo : new GeoTableHolder(options.geo ?? defaultGeoTable());
  const ttl = options.ttlBounds ?? { min: 5, max: 3600 };
  if (ttl.min > ttl.max) throw new RangeError(`ttlBounds.min (${ttl.min}) exceeds ttlBounds.max (${ttl.max})`);
  const store = new WorkloadStore({ ttlMinSeconds: ttl.min, ttlMaxSeconds: ttl.max, maxAddresses: options.maxAddresses ?? 8 },
    (fqdn) => zones.findZone(fqdn) !== undefined);
  if (options.workloads) store.replaceAll(checkWorkloads(options.workloads, 'workloads option'));
  if (options.snapshotPath) {
    const loaded = await loadSnapshot(options.snapshotPath);
    for (const p of loaded.problems) log(`dns: snapshot unreadable: ${p}`, 'warn');
    if (loaded.snapshot) {
      const snap = loaded.snapshot;
      store.replaceAll(snap.workloads, snap.revision, snap.stateId);
      log(`dns: loaded ${snap.workloads.length} workloads at revision ${snap.revision} from the ${loaded.from} snapshot of ${options.snapshotPath}`);
    } else if (loaded.problems.length) {
      // State existed and was lost: until the scheduler sends a snapshot, unknown names get SERVFAIL, not NXDOMAIN.
      store.stateLost = true;
      log('dns: no readable snapshot; answering SERVFAIL for names not known until the scheduler sends its state', 'warn');
    }
  }
  const metrics = new DnsMetrics();
  const cookieOptions = { ...DEFAULT_COOKIES, ...options.cookies };
  const cookies = cookieOptions.enabled ? new CookieSecrets(cookieOptions) : undefined;
  const handler = new QueryHandler(zones, store, geo, metrics, { maxUdpPayload: options.maxUdpPayload ?? MAX_UDP_EDNS,
    identity: { ...defaultIdentity(), ...options.identity }, cookies, recorder: options.recorder });
  const rrl = new ResponseRateLimiter(options.rrl === false ? { ...DEFAULT_RRL, enabled: false } : { ...DEFAULT_RRL, ...options.rrl });
  const address = options.address ?? '127.0.0.1';
  // Decision runs are built in slices between queries after a change, so no query waits for them.
  const warm = (): void => store.decisions.prepare(geo.current);
  store.onChange(warm);
  warm();
  const listeners = await listen(address, options.port ?? 5300, handler, metrics, rrl, cookies, {
    tcp: { ...DEFAULT_TCP, ...options.tcp }, udp: options.udpTransport ?? defaultUdpTransport(), reusePort: options.reusePort,
    onError: (e) => log(`dns: ${e.stack ?? e.message}`, 'error'),
  });
  metrics.udpSendDropped = () => listeners.udpSendDropped();
  metrics.tcpStats = () => listeners.tcpStats();
  // A GeoIP table swap invalidates the decision runs: rebuild them soon after, not on a query.
  let generation = geo.generation;
  const swapWatch = setInterval(() => {
    if (geo.generation !== generation) {
      generation = geo.generation;
      warm();
    }
  }, 500);
  swapWatch.unref();
  let writer: SnapshotWriter | undefined;
  if (options.snapshotPath) {
    writer = new SnapshotWriter(options.snapshotPath, () => ({ revision: store.revision, stateId: store.stateId, workloads: store.list() }),
      (e) => log(`dns: snapshot write failed: ${e.message}`, 'error'));
    store.onChange(() => writer?.schedule());
  }
  const guard = new StateGuard(store, { ...DEFAULT_STATE_GUARD, ...options.stateGuard }, log);
  let watch: WatchClient | undefined;
  if (options.watch) {
    // The state loaded from the snapshot file is where the stream resumes: the scheduler sends only what it missed when it can.
    const resumeFrom = store.stateId !== undefined && store.revision > 0 ? { stateId: store.stateId, revision: store.revision } : undefined;
    watch = new WatchClient({ ...options.watch, resumeFrom }, (ev: WatchEvent) => guard.apply(ev), log);
    watch.start();
  }
  let adminPort: number | undefined;
  const admin = options.adminPort === false ? undefined : createAdminServer({ geo, store, metrics, watchStatus: () => watch?.getStatus(), guard,
    channels: options.channels, requestLog: options.requestLog });
  if (admin) {
    try {
      adminPort = await listenAdmin(admin, options.adminAddress ?? '127.0.0.1', typeof options.adminPort === 'number' ? options.adminPort : 8053);
    } catch (e) {
      watch?.stop();
      guard.close();
      clearInterval(swapWatch);
      await listeners.close();
      throw e;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    address, port: listeners.port, adminPort, geo, udpTransport: listeners.udp,
    setWorkloads: (list) => store.replaceAll(checkWorkloads(list, 'workloads')),
    upsertWorkload: (w) => store.upsert(checkWorkloads([w], 'workload')[0]!),
    deleteWorkload: (name) => store.delete(name),
    workloads: () => store.list(),
    watchStatus: () => watch?.getStatus(),
    close: () => {
      closing ??= (async () => {
        watch?.stop();
        guard.close();
        clearInterval(swapWatch);
        if (admin) {
          admin.closeAllConnections();
          await new Promise<void>((resolve) => admin.close(() => resolve()));
        }
        await listeners.close();
        await writer?.flush();
      })();
      return closing;
    },
  };
}

/** `startDnsServer` options from a loaded `DnsConfig` (for the CLI). */
export function dnsOptionsFromConfig(cfg: DnsConfig): DnsServerOptions {
  return {
    address: cfg.address, port: cfg.port, adminPort: cfg.admin.enabled ? cfg.admin.port : false, adminAddress: cfg.admin.address,
    zones: { zones: cfg.zones },
    watch: cfg.watch ? { url: cfg.watch.url, token: cfg.watch.token, minBackoffMs: cfg.watch.minBackoffMs, maxBackoffMs: cfg.watch.maxBackoffMs,
      staleAfterMs: cfg.watch.staleAfterSeconds * 1000 } : undefined,
    snapshotPath: cfg.snapshotPath,
    stateGuard: cfg.watch ? { maxRemovedShare: cfg.watch.maxRemovedShare, confirmAfterMs: cfg.watch.confirmAfterSeconds * 1000 } : undefined,
    ttlBounds: { min: cfg.ttlBounds.minSeconds, max: cfg.ttlBounds.maxSeconds },
    maxAddresses: cfg.maxAddresses, maxUdpPayload: cfg.maxUdpPayloadBytes,
    rrl: cfg.rrl, udpTransport: cfg.udpTransport, tcp: cfg.tcp, cookies: cfg.cookies,
    identity: Object.fromEntries(Object.entries(cfg.identity).filter(([, v]) => v !== undefined)) as Partial<IdentityOptions>,
  };
}

export { startDnsCluster, type RunningDnsCluster } from './cluster';
