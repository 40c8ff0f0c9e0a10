import { Type, type Static } from '@sinclair/typebox';
import { CatalogSettingsSchema } from '../providers';
import { Value } from '@sinclair/typebox/value';
import './formats';
import { DnsConfigError, deepFreeze, type DnsConfigIssue } from './zone/load';
import { ZoneDefinitionSchema } from './zone/schema';
import { LOG_LEVEL_EXPECTED, LogLevelSchema } from '../common';
import { DEFAULT_TCP } from './server/tcp';
import { DEFAULT_COOKIES } from './server/cookies';

/** How UDP is read and written: batched over recvmmsg/sendmmsg (Linux, native addon) or one datagram at a time over node:dgram. */
export const UDP_TRANSPORTS = ['batched', 'dgram'] as const;
export type UdpTransport = (typeof UDP_TRANSPORTS)[number];

/**
 * The `geoip` section: how the table is kept current. Each data channel's own settings live in
 * its sub-object (`bgp`, `ris`, `signed`), validated by that channel's schema when it is created;
 * a channel runs when its sub-object is present.
 */
export const GeoipConfigSchema = Type.Object({
  /** Least time between two table swaps; updates arriving meanwhile are merged into the next one. */
  minSwapIntervalSeconds: Type.Number({ minimum: 0, default: 60 }),
  /** An update that would remove more than this share of the table's ranges is refused (the table stays). */
  maxDropPercent: Type.Number({ minimum: 0, maximum: 100, default: 25 }),
  /** How often channel health and the dataset's validity are checked, besides the channels' own reports. */
  healthCheckIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 5 }),
  /**
   * When geoip-lite's shipped data was made (ISO 8601). Absent: unknown, taken as older than any
   * cache entry, so the hot-prefix cache answers over it.
   */
  staticDataCreatedAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** The hot-prefix cache: client /24s and /48s answered recently, with the location they got. */
  cache: Type.Object({
    enabled: Type.Boolean({ default: true }),
    /**
     * The cache file (survives restarts and SIGKILL). Absent: `hot-prefixes.bin` beside
     * `snapshotPath`; with neither, the server keeps no cache.
     */
    path: Type.Optional(Type.String({ minLength: 1 })),
    maxPrefixes: Type.Integer({ minimum: 1, default: 2_000_000 }),
    ttlHours: Type.Number({ exclusiveMinimum: 0, default: 72 }),
    /** How often noted prefixes are written to the file in one batch (at most this much is lost on SIGKILL). */
    flushIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
    /** How often the cache's entries are merged into the table. */
    mergeIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
    /** A dataset older than this loses to the cache (which then sits above it). */
    overridesDatasetAfterHours: Type.Number({ exclusiveMinimum: 0, default: 24 }),
  }, { additionalProperties: false, default: {} }),
  /** The live BGP channel's settings (peers, ...): see `dns/geoip/channels/bgp`. */
  bgp: Type.Optional(Type.Unknown()),
  /** The RIPE RIS (MRT) channel's settings: see `dns/geoip/channels/mrt`. */
  ris: Type.Optional(Type.Unknown()),
  /** The signed-package channel's settings (zone, trust anchor): see `dns/geoip/channels/signed`. */
  signed: Type.Optional(Type.Unknown()),
  /**
   * The routing overlay's thresholds (re-homing peers and time, hijack report delay), used when
   * `bgp` or `ris` runs: see `OverlaySettingsSchema` in `dns/geoip/channels/overlay.ts`.
   */
  overlay: Type.Optional(Type.Unknown()),
}, { additionalProperties: false, default: {} });

/** The validated `geoip` section. */
export type GeoipConfig = Static<typeof GeoipConfigSchema>;

/** Schema of the GeoDNS server's settings (file or CLI): one source for types, defaults and validation. */
export const DnsConfigSchema = Type.Object({
  /** Least severe level of the JSON log lines on stderr (`--log-level` overrides it). */
  logLevel: LogLevelSchema,
  address: Type.String({ minLength: 1, default: '127.0.0.1' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 5300 }),
  admin: Type.Object({
    enabled: Type.Boolean({ default: true }),
    address: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8053 }),
  }, { additionalProperties: false, default: {} }),
  zones: Type.Array(ZoneDefinitionSchema, { minItems: 1 }),
  watch: Type.Optional(Type.Object({
    url: Type.String({ minLength: 1 }),
    token: Type.String({ minLength: 1 }),
    minBackoffMs: Type.Integer({ minimum: 1, default: 250 }),
    maxBackoffMs: Type.Integer({ minimum: 1, default: 15_000 }),
    staleAfterSeconds: Type.Number({ exclusiveMinimum: 0, default: 45 }),
    /** A snapshot removing more than this share of the served workloads waits before it is served. */
    maxRemovedShare: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    /** How long a held state (see maxRemovedShare; also an older revision or another state identity) waits, unless confirmed. */
    confirmAfterSeconds: Type.Number({ minimum: 0, default: 300 }),
  }, { additionalProperties: false })),
  /** Where the last watch snapshot is kept so a restart answers while the scheduler is down. */
  snapshotPath: Type.Optional(Type.String({ minLength: 1 })),
  ttlBounds: Type.Object({
    minSeconds: Type.Integer({ minimum: 0, default: 5 }),
    maxSeconds: Type.Integer({ minimum: 0, default: 3600 }),
  }, { additionalProperties: false, default: {} }),
  /** Most A/AAAA records in one answer. */
  maxAddresses: Type.Integer({ minimum: 1, maximum: 64, default: 8 }),
  /** Largest UDP response to EDNS clients (1232 avoids fragmentation). */
  maxUdpPayloadBytes: Type.Integer({ minimum: 512, maximum: 4096, default: 1232 }),
  /** UDP transport: 'batched' (recvmmsg/sendmmsg, Linux) or 'dgram'; absent picks batched where it is built. */
  udpTransport: Type.Optional(Type.Union(UDP_TRANSPORTS.map((t) => Type.Literal(t)))),
  /** TCP limits (RFC 7766 §6.2): see `TcpOptions` for each key's meaning. */
  tcp: Type.Object({
    maxConnections: Type.Integer({ minimum: 1, default: DEFAULT_TCP.maxConnections }),
    maxConnectionsPerClient: Type.Integer({ minimum: 1, default: DEFAULT_TCP.maxConnectionsPerClient }),
    idleTimeoutMs: Type.Integer({ minimum: 1, maximum: 6_553_500, default: DEFAULT_TCP.idleTimeoutMs }),
    queryTimeoutMs: Type.Integer({ minimum: 1, default: DEFAULT_TCP.queryTimeoutMs }),
    maxPendingResponseBytes: Type.Integer({ minimum: 1, default: DEFAULT_TCP.maxPendingResponseBytes }),
    writeStallTimeoutMs: Type.Integer({ minimum: 1, default: DEFAULT_TCP.writeStallTimeoutMs }),
  }, { additionalProperties: false, default: {} }),
  /** DNS cookies (RFC 7873, RFC 9018): clients with a valid server cookie are exempt from rate limiting. */
  cookies: Type.Object({
    enabled: Type.Boolean({ default: true }),
    /** 16-byte master secret, 32 hex digits, shared by every server of an anycast set; random per process (per cluster) when absent. */
    secret: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
    rotateSeconds: Type.Integer({ minimum: 60, default: DEFAULT_COOKIES.rotateSeconds }),
  }, { additionalProperties: false, default: {} }),
  /** Which server answered (RFC 5001 NSID, RFC 4892 CHAOS id.server / version.bind); false turns one off; absent: host name, 'Meridian GeoDNS'. */
  identity: Type.Object({
    nsid: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Literal(false)])),
    id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Literal(false)])),
    version: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Literal(false)])),
  }, { additionalProperties: false, default: {} }),
  rrl: Type.Object({
    enabled: Type.Boolean({ default: true }),
    responsesPerSecond: Type.Number({ exclusiveMinimum: 0, default: 50 }),
    burstSeconds: Type.Number({ exclusiveMinimum: 0, default: 2 }),
    slip: Type.Integer({ minimum: 0, default: 2 }),
    ipv4PrefixLength: Type.Integer({ minimum: 8, maximum: 32, default: 24 }),
    ipv6PrefixLength: Type.Integer({ minimum: 16, maximum: 128, default: 56 }),
    exemptLoopback: Type.Boolean({ default: true }),
  }, { additionalProperties: false, default: {} }),
  /** GeoIP data: channels, supervisor and hot-prefix cache (see `GeoipConfigSchema`). */
  geoip: GeoipConfigSchema,
  /** The region catalog: `file` names a refreshed catalog (`meridian catalog refresh`) used instead of the bundled one. */
  catalog: CatalogSettingsSchema,
}, { additionalProperties: false });

/** The server's validated, frozen settings. */
export type DnsConfig = Static<typeof DnsConfigSchema>;

/** Applies defaults, validates (every problem with its key path) and freezes the settings. */
export function loadDnsConfig(input: unknown): DnsConfig {
  const withDefaults: unknown = Value.Default(DnsConfigSchema, Value.Clone(input ?? {}));
  const issues: DnsConfigIssue[] = [...Value.Errors(DnsConfigSchema, withDefaults)]
    .map((e) => ({ path: e.path, message: e.path === '/logLevel' ? LOG_LEVEL_EXPECTED : e.message }));
  const cfg = withDefaults as DnsConfig;
  if (!issues.length && cfg.ttlBounds.minSeconds > cfg.ttlBounds.maxSeconds) {
    issues.push({ path: '/ttlBounds', message: 'minSeconds must not exceed maxSeconds' });
  }
  if (issues.length) throw new DnsConfigError('DNS configuration', issues);
  return deepFreeze(cfg);
}
