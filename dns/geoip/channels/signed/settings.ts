/** Settings of the signed-package channel: one TypeBox schema gives the type, the defaults and validation. */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError, type Issue } from '../../../../common';
import { canonicalLabels, parseDsText, supportedDigestType } from './dnssec';
import { parseServerAddress } from './dns-client';

/** Schema of the signed-package channel's settings. */
export const SignedChannelSettingsSchema = Type.Object({
  /** Owner of the package TXT record, e.g. `_geoip.example.net.`. */
  name: Type.String({ minLength: 1 }),
  /** Authoritative servers to ask, `ADDR:PORT` (`[v6]:PORT`); tried in order until one answers. */
  servers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  /**
   * Trust anchors: DS records of the zone in presentation form (`example.net. DS 12345 13 2 ABCD...`,
   * as `dnssec-dsfromkey` or `ldns-key2ds` print them). Several for a key rollover.
   */
  trustAnchors: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  /** Time between checks of the TXT record. */
  pollIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 3600 }),
  /** Time to wait for one server's reply. */
  queryTimeoutMs: Type.Integer({ minimum: 1, default: 3000 }),
  /** EDNS UDP payload size advertised; larger replies come back truncated and are asked again over TCP. */
  udpPayloadBytes: Type.Integer({ minimum: 512, maximum: 65535, default: 1232 }),
  /** Time allowed to download the package. */
  fetchTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
  /** Largest package accepted. */
  maxPackageBytes: Type.Integer({ minimum: 1, default: 512 * 1024 * 1024 }),
  /** Folder keeping the last accepted package (reloaded at start) and unpacking space. */
  stateDir: Type.String({ minLength: 1 }),
}, { additionalProperties: false });

/** Validated settings of the signed-package channel. */
export type SignedChannelSettings = Static<typeof SignedChannelSettingsSchema>;

/** One settings problem, with its key path. */
export type SignedSettingsIssue = Issue;

/** Thrown by `loadSignedChannelSettings` with every problem found (code `DNS_ERR_CONFIG_INVALID`). */
export class SignedSettingsError extends ValidationError {
  override readonly name = 'SignedSettingsError';
  constructor(issues: readonly SignedSettingsIssue[]) {
    super('DNS_ERR_CONFIG_INVALID', 'invalid signed-package channel settings', issues);
  }
}

/** Applies defaults, validates (schema, server addresses, DS records all of one zone above `name`) and freezes. */
export function loadSignedChannelSettings(input: unknown): Readonly<SignedChannelSettings> {
  const withDefaults: unknown = Value.Default(SignedChannelSettingsSchema, Value.Clone(input ?? {}));
  const issues: SignedSettingsIssue[] = [...Value.Errors(SignedChannelSettingsSchema, withDefaults)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length) throw new SignedSettingsError(issues);
  const s = withDefaults as SignedChannelSettings;
  s.servers.forEach((text, i) => {
    try { parseServerAddress(text); } catch (err) { issues.push({ path: `/servers/${i}`, message: (err as Error).message }); }
  });
  const owners = new Set<string>();
  s.trustAnchors.forEach((text, i) => {
    try {
      const { owner, ds } = parseDsText(text);
      owners.add(owner);
      if (!supportedDigestType(ds.digestType)) issues.push({ path: `/trustAnchors/${i}`, message: `DS digest type ${ds.digestType} is not supported (1, 2, 4)` });
    } catch (err) {
      issues.push({ path: `/trustAnchors/${i}`, message: (err as Error).message });
    }
  });
  if (owners.size > 1) issues.push({ path: '/trustAnchors', message: `all DS records must be of one zone, got ${[...owners].join(', ')}` });
  const zone = [...owners][0];
  if (zone !== undefined && owners.size === 1) {
    const n = canonicalLabels(s.name);
    const z = canonicalLabels(zone);
    if (n.slice(n.length - z.length).join('.') !== z.join('.') || z.length > n.length) {
      issues.push({ path: '/name', message: `${s.name} is not inside ${zone}, the zone of the trust anchors` });
    }
  }
  if (issues.length) throw new SignedSettingsError(issues);
  return Object.freeze({ ...s, servers: Object.freeze([...s.servers]), trustAnchors: Object.freeze([...s.trustAnchors]) }) as Readonly<SignedChannelSettings>;
}
