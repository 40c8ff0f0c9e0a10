import { Value } from '@sinclair/typebox/value';
import { ValidationError, type Issue } from '../../common';
import '../formats';
import { type ZoneConfig, ZoneConfigSchema } from './schema';

/** One configuration problem with its key path. */
export type DnsConfigIssue = Issue;

/** Raised when DNS configuration is invalid; lists every problem with its key path (code `DNS_ERR_CONFIG_INVALID`). */
export class DnsConfigError extends ValidationError {
  override readonly name = 'DnsConfigError';
  constructor(readonly what: string, issues: readonly DnsConfigIssue[]) {
    super('DNS_ERR_CONFIG_INVALID', `invalid ${what}`, issues);
  }
}

/** Recursively freezes a plain value. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Applies defaults, validates the zone configuration (every error with its key path) and freezes it. */
export function loadZoneConfig(input: unknown): ZoneConfig {
  const withDefaults: unknown = Value.Default(ZoneConfigSchema, Value.Clone(input ?? {}));
  const issues: DnsConfigIssue[] = [...Value.Errors(ZoneConfigSchema, withDefaults)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length === 0) {
    const cfg = withDefaults as ZoneConfig;
    const seen = new Set<string>();
    cfg.zones.forEach((z, i) => {
      const o = z.origin.toLowerCase().replace(/\.$/, '');
      if (seen.has(o)) issues.push({ path: `/zones/${i}/origin`, message: `zone '${o}' is defined twice` });
      seen.add(o);
    });
  }
  if (issues.length) throw new DnsConfigError('zone configuration', issues);
  return deepFreeze(withDefaults as ZoneConfig);
}

/** A ready zone configuration for one origin with two name servers on loopback (examples and tests). */
export function exampleZoneConfig(origin = 'meridian.test'): ZoneConfig {
  return loadZoneConfig({
    zones: [{
      origin,
      soa: { mname: `ns1.${origin}`, rname: `hostmaster.${origin}`, serial: 1 },
      ns: [{ name: `ns1.${origin}`, ipv4: '127.0.0.1' }, { name: `ns2.${origin}`, ipv4: '127.0.0.2' }],
      records: [
        { name: 'www', type: 'CNAME', value: `web.${origin}` },
        { name: '@', type: 'TXT', value: 'v=meridian1' },
      ],
    }],
  });
}
