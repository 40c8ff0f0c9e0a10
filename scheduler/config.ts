import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LOG_LEVEL_EXPECTED, LogLevelSchema } from '../common';
import { CatalogSettingsSchema } from '../providers';
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
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Raised by `loadSchedulerConfig` with every problem found. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
  readonly code = 'MERIDIAN_ERR_CONFIG_INVALID';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid scheduler configuration: ${issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; ')}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Applies defaults, validates (every error with its key path) and freezes the settings. */
export function loadSchedulerConfig(input: unknown): SchedulerConfig {
  const withDefaults: unknown = Value.Default(SchedulerConfigSchema, Value.Clone(input ?? {}));
  const issues: ConfigIssue[] = [...Value.Errors(SchedulerConfigSchema, withDefaults)]
    .map((e) => ({ path: e.path, message: e.path === '/logLevel' ? LOG_LEVEL_EXPECTED : e.message }));
  const regions = (withDefaults as { regions?: unknown }).regions;
  if (Value.Check(SchedulerRegionsSchema, regions)) issues.push(...regionSettingsIssues(regions, '/regions'));
  if (issues.length) throw new SchedulerConfigError(issues);
  return deepFreeze(withDefaults as SchedulerConfig);
}
