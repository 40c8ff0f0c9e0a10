import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LOG_LEVEL_EXPECTED, LogLevelSchema, ValidationError, type Issue } from '../common';
import { CatalogFileError, CatalogSettingsSchema, catalogSettingsRegions, type Region } from '../providers';
import { RegionSettingsSchema, regionSettingsIssues } from './placement';

/** The scheduler's `regions` settings: the accounts' partitions and enabled regions, and whether to ask the clouds too. */
const SchedulerRegionsSchema = Type.Object({
  ...RegionSettingsSchema.properties,
  /**
   * Also use the opt-in regions the clouds report as enabled for the account (AWS EC2
   * DescribeRegions), asked once when the scheduler starts; where a cloud cannot be asked or
   * fails to answer, only `enabled` counts.
   */
  fromClouds: Type.Boolean({ default: false }),
}, { additionalProperties: false, default: {} });

/** Where the state lives when it is not the embedded SQLite, and the leader lease of schedulers sharing it. */
const StoreSchema = Type.Object({
  /**
   * `postgres://USER@HOST:PORT/DATABASE`: the state in PostgreSQL, shared by every scheduler given
   * the same URL (one holds the leader lease and reconciles; all serve the API and watch stream).
   * Unset (the default): SQLite in `dataDir`, one scheduler. The password does not belong here:
   * it comes from $MERIDIAN_STORE_PASSWORD, $PGPASSWORD or `passwordFile`.
   */
  url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://[^\\s]+$', description: 'postgres://USER@HOST:PORT/DATABASE' })),
  /** A file holding the database password (its first line), read once at start. */
  passwordFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Connections each scheduler keeps to the database for its reads and writes. */
  poolSize: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
  lease: Type.Object({
    /** Schedulers sharing a database contend for the lease of this name. */
    name: Type.String({ minLength: 1, default: 'meridian-scheduler' }),
    /** How long the lease lasts after each renewal: a dead leader's successor takes over within this. */
    durationSeconds: Type.Number({ exclusiveMinimum: 0, default: 15 }),
    /**
     * How long after sending its last successful renewal the leader still counts itself leader;
     * shorter than `durationSeconds`, so it stops reconciling before the lease can pass on.
     */
    renewDeadlineSeconds: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    /** Time between renewals (and between attempts to take the lease). */
    renewIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 2 }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false, default: {} });

/** Schema of the scheduler's settings: one source for types, defaults, validation and docs. */
export const SchedulerConfigSchema = Type.Object({
  /** Least severe level of the JSON log lines on stderr (`--log-level` overrides it). */
  logLevel: LogLevelSchema,
  /** Where the SQLite state lives. */
  dataDir: Type.String({ minLength: 1, default: '.meridian' }),
  /**
   * On SIGINT or SIGTERM, how long cloud calls in flight (and their journal writes) may take to
   * finish before the store closes; calls still running then are replayed at the next start.
   */
  shutdownGraceSeconds: Type.Number({ minimum: 0, default: 10 }),
  /**
   * The zones whose names the GeoDNS servers answer (`meridian.test`): a workload's `dns.name`
   * must be one of them or lie below one. Empty (the default) leaves names unchecked.
   */
  dnsZones: Type.Array(Type.String({ pattern: '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$', description: 'a lowercase zone name without trailing dot' }),
    { default: [] }),
  api: Type.Object({
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /** Bearer token every route but /healthz and /metrics requires. */
    token: Type.String({ minLength: 16 }),
    /** Interval of the `: ping` comment on watch streams. */
    watchPingSeconds: Type.Number({ exclusiveMinimum: 0, default: 15 }),
    /** Watch events kept for watchers that reconnect: one further behind than this gets a full snapshot. */
    watchLogEvents: Type.Integer({ minimum: 0, default: 10_000 }),
  }, { additionalProperties: false }),
  regions: SchedulerRegionsSchema,
  /**
   * The region and instance type catalog: `file` names a catalog written by `meridian catalog
   * refresh`, used instead of the bundled one (installed when the scheduler starts).
   */
  catalog: CatalogSettingsSchema,
  reconciler: Type.Object({
    /** Time between two full reconcile passes (a change queues its workload for a pass sooner). */
    intervalMs: Type.Integer({ minimum: 10, default: 2_000 }),
    /** How long a (cloud, region, size) stays out of placement after a capacity or quota error. */
    capacityCoolDownSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
    /** Default time for an instance to reach running before its region is given up on. */
    provisionTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
    /** Consecutive `unavailable` failures after which a region counts as unhealthy. */
    unhealthyAfterFailures: Type.Integer({ minimum: 1, default: 3 }),
    /** Time between listings by tag of every region a workload uses (adoption, orphans, liveness). */
    refreshIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    /** Cloud calls in flight at once per (cloud, region). */
    concurrencyPerRegion: Type.Integer({ minimum: 1, default: 64 }),
  }, { additionalProperties: false, default: {} }),
  store: StoreSchema,
  /** The status page at `/ui/`. */
  ui: Type.Object({
    /**
     * Base URLs of the GeoDNS servers' admin APIs (`http://10.0.0.5:8053`) whose GeoIP channel
     * status the page shows; empty (the default) shows none.
     */
    geoDnsAdminUrls: Type.Array(Type.String({ pattern: '^https?://[^/?#\\s]+/?$', description: 'http(s)://host:port of a GeoDNS admin API' }),
      { default: [], maxItems: 32 }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

/** The scheduler's validated, frozen settings. */
export type SchedulerConfig = Static<typeof SchedulerConfigSchema>;

/** One configuration problem with the key path it concerns. */
export type ConfigIssue = Issue;

/** Raised by `loadSchedulerConfig` with every problem found (code `MERIDIAN_ERR_CONFIG_INVALID`). */
export class SchedulerConfigError extends ValidationError {
  override readonly name = 'SchedulerConfigError';
  constructor(issues: readonly ConfigIssue[]) {
    super('MERIDIAN_ERR_CONFIG_INVALID', 'invalid scheduler configuration', issues);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Problems of the store settings that the schema cannot express. */
function storeIssues(store: Static<typeof StoreSchema>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  if (store.url !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(store.url);
    } catch {
      out.push({ path: '/store/url', message: 'is not a URL (postgres://USER@HOST:PORT/DATABASE)' });
    }
    if (url && url.password) out.push({ path: '/store/url', message: 'must not hold the password: use $MERIDIAN_STORE_PASSWORD, $PGPASSWORD or store.passwordFile' });
    if (url && (!url.hostname || !url.username || url.pathname.length < 2)) out.push({ path: '/store/url', message: 'must name a user, a host and a database: postgres://USER@HOST:PORT/DATABASE' });
  }
  const { durationSeconds, renewDeadlineSeconds, renewIntervalSeconds } = store.lease;
  if (!(renewDeadlineSeconds < durationSeconds)) out.push({ path: '/store/lease/renewDeadlineSeconds', message: `must be shorter than store.lease.durationSeconds (${durationSeconds})` });
  if (!(renewIntervalSeconds < renewDeadlineSeconds)) out.push({ path: '/store/lease/renewIntervalSeconds', message: `must be shorter than store.lease.renewDeadlineSeconds (${renewDeadlineSeconds})` });
  return out;
}

/** A store URL as it may be printed: without a password, should one be in it. */
export function redactStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * The regions of the catalog the scheduler will install (`catalog.file`, else the bundled one), so
 * that region settings are checked against the catalog the scheduler runs with; undefined when the
 * settings or the file are unusable (`issues` then says why: the file's problems go under `path`).
 */
function catalogRegions(catalog: unknown, path: string, issues: ConfigIssue[]): readonly Region[] | undefined {
  if (!Value.Check(CatalogSettingsSchema, catalog)) return undefined;
  try {
    return catalogSettingsRegions(catalog);
  } catch (err) {
    if (!(err instanceof CatalogFileError)) throw err;
    // The message names the file and each problem with its JSON path inside the file.
    issues.push({ path, message: err.message });
    return undefined;
  }
}

/**
 * Applies defaults, validates (every error with its key path) and freezes the settings. `at` is
 * where the settings sit in the file they came from (`/scheduler` in `meridian serve --config`),
 * put before every key path; the settings are the whole document by default.
 */
export function loadSchedulerConfig(input: unknown, at = ''): SchedulerConfig {
  const withDefaults: unknown = Value.Default(SchedulerConfigSchema, Value.Clone(input ?? {}));
  const issues: ConfigIssue[] = [...Value.Errors(SchedulerConfigSchema, withDefaults)]
    .map((e) => ({ path: `${at}${e.path}`, message: e.path === '/logLevel' ? LOG_LEVEL_EXPECTED : e.message }));
  // Region settings are checked against the catalog the scheduler will run with, the file's when one is named.
  const known = catalogRegions((withDefaults as { catalog?: unknown }).catalog, `${at}/catalog/file`, issues);
  const regions = (withDefaults as { regions?: unknown }).regions;
  if (known && Value.Check(SchedulerRegionsSchema, regions)) issues.push(...regionSettingsIssues(regions, `${at}/regions`, known));
  const store = (withDefaults as { store?: unknown }).store;
  if (Value.Check(StoreSchema, store)) issues.push(...storeIssues(store).map((i) => ({ path: `${at}${i.path}`, message: i.message })));
  if (issues.length) throw new SchedulerConfigError(issues);
  return deepFreeze(withDefaults as SchedulerConfig);
}
