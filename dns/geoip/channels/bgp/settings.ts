/**
 * Settings of the BGP channel: one TypeBox schema gives the types, the defaults and the
 * validation. The GeoDNS settings (`dns/config.ts`) embed `BgpSettingsSchema` under `geoip.bgp`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isIP } from 'node:net';
import { BgpError } from './errors';

const Asn = Type.Integer({ minimum: 1, maximum: 4294967295 });
const RouterId = Type.String({ pattern: '^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$' });

/** One configured neighbour. */
export const BgpPeerSchema = Type.Object({
  /** The neighbour's address: connections from any other address are refused. */
  address: Type.String({ minLength: 1 }),
  /** `passive`: wait for the neighbour to connect to `listen`; `active`: connect to `address`:`port`. */
  mode: Type.Union([Type.Literal('passive'), Type.Literal('active')], { default: 'passive' }),
  /** The neighbour's TCP port (active mode). */
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 179 }),
  /** Source address of active connections; absent lets the kernel choose. */
  localAddress: Type.Optional(Type.String({ minLength: 1 })),
  peerAs: Asn,
  /** Our AS towards this neighbour; defaults to the channel's `localAs`. */
  localAs: Type.Optional(Asn),
  /** Our BGP identifier towards this neighbour; defaults to the channel's `routerId`. */
  routerId: Type.Optional(RouterId),
  /** Proposed hold time: 0 (no keepalives) or 3 and more (RFC 4271 section 4.2); defaults to the channel's. */
  holdTimeSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  /** Routes (over both families) above which the session ends with Cease / Maximum Number of Prefixes Reached (RFC 4486). */
  maxPrefixes: Type.Integer({ minimum: 1, default: 2_000_000 }),
}, { additionalProperties: false });

/** The BGP channel's settings. */
export const BgpSettingsSchema = Type.Object({
  /** Where passive sessions are accepted; port 0 picks a free port (tests). */
  listen: Type.Object({
    address: Type.String({ minLength: 1, default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 179 }),
  }, { additionalProperties: false, default: {} }),
  localAs: Asn,
  routerId: RouterId,
  holdTimeSeconds: Type.Integer({ minimum: 0, maximum: 65535, default: 90 }),
  /** Wait before reconnecting (active) or before accepting again after a session ends. */
  connectRetrySeconds: Type.Number({ minimum: 0.05, default: 30 }),
  /** Keep a restarting peer's routes as stale for the restart time it advertised (RFC 4724 helper mode). */
  gracefulRestart: Type.Boolean({ default: true }),
  /** Offer to receive several paths per prefix (RFC 7911). */
  addPathReceive: Type.Boolean({ default: true }),
  peers: Type.Array(BgpPeerSchema, { minItems: 1 }),
}, { additionalProperties: false });

/** Validated BGP channel settings. */
export type BgpSettings = Static<typeof BgpSettingsSchema>;
/** One validated neighbour. */
export type BgpPeerSettings = Static<typeof BgpPeerSchema>;

/** Applies defaults and validates; throws `BgpError` (BGP_BAD_SETTINGS) naming every problem with its key path. */
export function loadBgpSettings(input: unknown): BgpSettings {
  const v: unknown = Value.Default(BgpSettingsSchema, Value.Clone(input ?? {}));
  const issues = [...Value.Errors(BgpSettingsSchema, v)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (!issues.length) {
    const s = v as BgpSettings;
    const seen = new Set<string>();
    s.peers.forEach((p, i) => {
      if (!isIP(p.address)) issues.push(`/peers/${i}/address: '${p.address}' is not an IP address`);
      if (seen.has(p.address)) issues.push(`/peers/${i}/address: '${p.address}' is configured twice`);
      seen.add(p.address);
      const hold = p.holdTimeSeconds ?? s.holdTimeSeconds;
      if (hold === 1 || hold === 2) issues.push(`/peers/${i}/holdTimeSeconds: must be 0 or at least 3 (RFC 4271 section 4.2)`);
    });
    if (s.holdTimeSeconds === 1 || s.holdTimeSeconds === 2) issues.push('/holdTimeSeconds: must be 0 or at least 3 (RFC 4271 section 4.2)');
    if (s.routerId === '0.0.0.0') issues.push('/routerId: must not be 0.0.0.0');
  }
  if (issues.length) throw new BgpError('BGP_BAD_SETTINGS', `invalid BGP settings: ${issues.join('; ')}`);
  return Object.freeze(v as BgpSettings);
}
