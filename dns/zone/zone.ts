import { CLASS_IN, QTYPE } from '../wire/constants';
import type { ResourceRecord } from '../wire/message';
import { isInDomain, normalizeName, parentName } from '../wire/name';
import type { StaticRecord, ZoneConfig, ZoneDefinition } from './schema';

const TYPE_OF: Readonly<Record<StaticRecord['type'], number>> = { A: QTYPE.A, AAAA: QTYPE.AAAA, CNAME: QTYPE.CNAME, TXT: QTYPE.TXT };

function absolute(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.endsWith('.')) return normalizeName(name);
  return normalizeName(`${name}.${origin}`);
}

function toRecord(r: StaticRecord, owner: string, ttl: number): ResourceRecord {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return { name: owner, type: TYPE_OF[r.type], class: CLASS_IN, ttl, data: { kind: 'address', address: r.value } };
    case 'CNAME':
      return { name: owner, type: QTYPE.CNAME, class: CLASS_IN, ttl, data: { kind: 'name', name: normalizeName(r.value) } };
    case 'TXT': {
      const parts = typeof r.value === 'string' ? [r.value] : r.value;
      return { name: owner, type: QTYPE.TXT, class: CLASS_IN, ttl, data: { kind: 'txt', strings: parts.map((p) => Buffer.from(p, 'utf8')) } };
    }
  }
}

/** One compiled zone: records by owner name, and every name that exists (including empty non-terminals). */
export class Zone {
  /** Apex, lower case, no trailing dot. */
  readonly origin: string;
  /** The SOA record (owner = apex). */
  readonly soa: ResourceRecord;
  /** The SOA's minimum field: TTL of negative answers (RFC 2308 §5). */
  readonly negativeTtl: number;
  private readonly byName = new Map<string, ResourceRecord[]>();
  private readonly existing = new Set<string>();

  constructor(def: ZoneDefinition) {
    this.origin = normalizeName(def.origin);
    const s = def.soa;
    this.soa = {
      name: this.origin, type: QTYPE.SOA, class: CLASS_IN, ttl: def.ttlSeconds,
      data: { kind: 'soa', soa: { mname: normalizeName(s.mname), rname: normalizeName(s.rname), serial: s.serial, refresh: s.refreshSeconds,
        retry: s.retrySeconds, expire: s.expireSeconds, minimum: s.minimumSeconds } },
    };
    this.negativeTtl = Math.min(def.ttlSeconds, s.minimumSeconds);
    this.add(this.soa);
    for (const ns of def.ns) {
      const host = normalizeName(ns.name);
      this.add({ name: this.origin, type: QTYPE.NS, class: CLASS_IN, ttl: def.ttlSeconds, data: { kind: 'name', name: host } });
      if (this.contains(host)) {
        if (ns.ipv4) this.add({ name: host, type: QTYPE.A, class: CLASS_IN, ttl: def.ttlSeconds, data: { kind: 'address', address: ns.ipv4 } });
        if (ns.ipv6) this.add({ name: host, type: QTYPE.AAAA, class: CLASS_IN, ttl: def.ttlSeconds, data: { kind: 'address', address: ns.ipv6 } });
      }
    }
    for (const r of def.records) {
      const owner = absolute(r.name, this.origin);
      if (!this.contains(owner)) throw new TypeError(`record '${r.name}' of zone '${this.origin}' lies outside the zone`);
      this.add(toRecord(r, owner, r.ttlSeconds ?? def.ttlSeconds));
    }
    for (const [owner, list] of this.byName) {
      // RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME owner has no other data, and only one CNAME.
      const cnames = list.filter((r) => r.type === QTYPE.CNAME).length;
      if (cnames > 1 || (cnames === 1 && list.length > 1)) {
        throw new TypeError(`'${owner}' in zone '${this.origin}' has a CNAME and other records`);
      }
    }
  }

  /** True when `name` (normalised) is the apex or below it. */
  contains(name: string): boolean {
    return isInDomain(name, this.origin);
  }

  /** Static records at `name` (normalised), possibly empty. */
  recordsAt(name: string): readonly ResourceRecord[] {
    return this.byName.get(name) ?? [];
  }

  /** True when the name owns records or has descendants that do (RFC 8020: an empty non-terminal is not NXDOMAIN). */
  exists(name: string): boolean {
    return this.existing.has(name);
  }

  /** Marks a name (and its ancestors up to the apex) as existing, e.g. a workload name. */
  markExisting(name: string): void {
    let n = name;
    while (this.contains(n) && !this.existing.has(n)) {
      this.existing.add(n);
      if (n === this.origin) break;
      n = parentName(n);
    }
  }

  private add(rr: ResourceRecord): void {
    const list = this.byName.get(rr.name);
    if (list) list.push(rr);
    else this.byName.set(rr.name, [rr]);
    this.markExisting(rr.name);
  }
}

/** The zones a server is authoritative for; finds the closest enclosing zone of a name. */
export class ZoneSet {
  /** Zones, longest origin first so the first match is the closest enclosing one. */
  readonly zones: readonly Zone[];

  constructor(cfg: ZoneConfig) {
    this.zones = cfg.zones.map((z) => new Zone(z)).sort((a, b) => b.origin.length - a.origin.length);
  }

  /** The zone that holds `name` (normalised), or undefined (the server must REFUSE it). */
  findZone(name: string): Zone | undefined {
    for (const z of this.zones) if (z.contains(name)) return z;
    return undefined;
  }
}
