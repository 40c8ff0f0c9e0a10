import { type GeoLocation, type GeoTable, NO_PROVENANCE, PROVENANCE_CODES } from '../geoip';
import { CLASS_IN, QTYPE } from '../wire/constants';
import { ipv4ToBytes, ipv6ToBytes } from '../wire/ip';
import { encodeName, normalizeName } from '../wire/name';
import { hashWireName } from '../wire/fast';
import type { WorkloadEndpoints } from '../watch/protocol';
import { allAddresses, FAIL_OPEN, type Family, healthyAddresses, NO_ADDRESSES, RegionChooser } from './select';

/** Limits applied when a workload's answers are built. */
export interface AnswerLimits {
  /** TTL bounds in seconds; the workload's TTL is clamped into them. */
  readonly ttlMinSeconds: number;
  readonly ttlMaxSeconds: number;
  /** Most A/AAAA records in one answer. */
  readonly maxAddresses: number;
}

/**
 * Per family: every IPv4 address mapped to a decision, as sorted runs of equal decisions over the
 * whole IPv4 space (gaps in the table count as "unknown location"). Adjacent table entries with the
 * same decision and the same provenance (layer and channel) are merged, which gives the
 * gdnsd-style widest ECS scope while each answer still knows what decided it.
 */
export interface DecisionRuns {
  readonly table: GeoTable;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly decisions: Int16Array;
  /** Provenance code of each run (`NO_PROVENANCE` for gaps). */
  readonly provenance: Uint8Array;
}

interface FamilyState {
  /** Addresses answered by decision (`index = decision`, fail-open at `regions.length`). */
  readonly addresses: string[][];
  /** Pre-encoded answer sections by decision (`index = decision`, fail-open at `regions.length`). */
  readonly answers: (Buffer | undefined)[];
  readonly answerCounts: number[];
  runs: DecisionRuns | undefined;
  readonly chooser: RegionChooser;
  /** Decision per location index of `byLocationTable` (NOT_COMPUTED until asked). */
  byLocation: Int16Array;
  byLocationTable: GeoTable | undefined;
}

const NOT_COMPUTED = -32768;

function encodeAddressRecords(addresses: readonly string[], family: Family, ttl: number): Buffer {
  // Owner is a pointer to the question name at offset 12 (RFC 1035 §4.1.4).
  const rdlen = family === 4 ? 4 : 16;
  const buf = Buffer.alloc(addresses.length * (12 + rdlen));
  let o = 0;
  for (const a of addresses) {
    buf.writeUInt16BE(0xc00c, o);
    buf.writeUInt16BE(family === 4 ? QTYPE.A : QTYPE.AAAA, o + 2);
    buf.writeUInt16BE(CLASS_IN, o + 4);
    buf.writeUInt32BE(ttl >>> 0, o + 6);
    buf.writeUInt16BE(rdlen, o + 10);
    (family === 4 ? ipv4ToBytes(a) : ipv6ToBytes(a)).copy(buf, o + 12);
    o += 12 + rdlen;
  }
  return buf;
}

/** One workload name with its current endpoints, decisions and pre-encoded answers. */
export class WorkloadAnswer {
  /** FQDN, lower case, no trailing dot. */
  readonly fqdn: string;
  /** The name in wire format, lower case. */
  readonly wireName: Buffer;
  /** `hashWireName(wireName)`. */
  readonly hash: number;
  /** Clamped TTL of the answers. */
  readonly ttl: number;
  /**
   * Answers given per region and provenance: index `slot * PROVENANCE_CODES + code`, where slot is
   * the region (the last slot counts fail-open answers) and code what decided (see `geoip`).
   */
  readonly regionCounts: Float64Array;
  private readonly families: Record<Family, FamilyState>;

  constructor(readonly endpoints: WorkloadEndpoints, limits: AnswerLimits) {
    if (!endpoints.dns) throw new TypeError(`workload '${endpoints.name}' has no DNS name`);
    this.fqdn = normalizeName(endpoints.dns.name);
    const wire = Buffer.alloc(256);
    this.wireName = Buffer.from(wire.subarray(0, encodeName(this.fqdn, wire, 0)));
    this.hash = hashWireName(this.wireName);
    this.ttl = Math.min(limits.ttlMaxSeconds, Math.max(limits.ttlMinSeconds, endpoints.dns.ttl));
    this.regionCounts = new Float64Array((endpoints.regions.length + 1) * PROVENANCE_CODES);
    const build = (family: Family): FamilyState => {
      const answers: (Buffer | undefined)[] = [];
      const answerCounts: number[] = [];
      const addresses: string[][] = [];
      endpoints.regions.forEach((r) => {
        const addrs = healthyAddresses(r, family).slice(0, limits.maxAddresses);
        addresses.push(addrs);
        answers.push(addrs.length ? encodeAddressRecords(addrs, family, this.ttl) : undefined);
        answerCounts.push(addrs.length);
      });
      const all = allAddresses(endpoints, family).slice(0, limits.maxAddresses);
      addresses.push(all);
      answers.push(all.length ? encodeAddressRecords(all, family, this.ttl) : undefined);
      answerCounts.push(all.length);
      return { addresses, answers, answerCounts, runs: undefined, chooser: new RegionChooser(endpoints, family),
        byLocation: new Int16Array(0), byLocationTable: undefined };
    };
    this.families = { 4: build(4), 6: build(6) };
  }

  /** Decision for a known or unknown (`undefined`) location. */
  decide(family: Family, _table: GeoTable, loc: GeoLocation | undefined): number {
    const f = this.families[family];
    return loc ? f.chooser.choose(loc.lat, loc.lon) : f.chooser.unknown;
  }

  /** Decision for location index `id` of `table`, cached per table. */
  decideLocationId(family: Family, table: GeoTable, id: number): number {
    const f = this.families[family];
    if (f.byLocationTable !== table) {
      f.byLocation = new Int16Array(table.locationCount).fill(NOT_COMPUTED);
      f.byLocationTable = table;
    }
    let d = f.byLocation[id]!;
    if (d === NOT_COMPUTED) {
      d = f.chooser.choose(table.columns.locationLat[id]!, table.columns.locationLon[id]!);
      f.byLocation[id] = d;
    }
    return d;
  }

  /** Decision for a client with no usable address (no table entry, no ECS, unknown). */
  unknownDecision(family: Family): number {
    return this.families[family].chooser.unknown;
  }

  /** Runs for `table`, built on first use after a change of table or endpoints. */
  runs(family: Family, table: GeoTable): DecisionRuns {
    const f = this.families[family];
    if (f.runs && f.runs.table === table) return f.runs;
    f.runs = this.buildRuns(family, table);
    return f.runs;
  }

  /** Index of the run holding IPv4 `ip` (u32) in `runs`. Allocation-free binary search. */
  static runIndex(runs: DecisionRuns, ip: number): number {
    const ends = runs.ends;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < ip) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The pre-encoded answer section for a decision, or undefined (NODATA). */
  answerBytes(family: Family, decision: number): Buffer | undefined {
    if (decision === NO_ADDRESSES) return undefined;
    const f = this.families[family];
    return f.answers[decision === FAIL_OPEN ? this.endpoints.regions.length : decision];
  }

  /** The addresses answered for a decision (empty for NODATA). */
  addresses(family: Family, decision: number): readonly string[] {
    if (decision === NO_ADDRESSES) return [];
    return this.families[family].addresses[decision === FAIL_OPEN ? this.endpoints.regions.length : decision] ?? [];
  }

  /** Number of records in `answerBytes(family, decision)`. */
  answerCount(family: Family, decision: number): number {
    if (decision === NO_ADDRESSES) return 0;
    const f = this.families[family];
    return f.answerCounts[decision === FAIL_OPEN ? this.endpoints.regions.length : decision] ?? 0;
  }

  /** Counts one answer given with `decision`, decided by provenance `code` (metrics). */
  count(decision: number, code: number): void {
    if (decision >= 0) this.regionCounts[decision * PROVENANCE_CODES + code]!++;
    else if (decision === FAIL_OPEN) this.regionCounts[this.endpoints.regions.length * PROVENANCE_CODES + code]!++;
  }

  /** Region label of a decision for metrics and the admin API (`cloud:region`, `fail-open`, `none`). */
  decisionLabel(decision: number): string {
    if (decision === FAIL_OPEN) return 'fail-open';
    if (decision === NO_ADDRESSES) return 'none';
    const r = this.endpoints.regions[decision];
    return r ? `${r.cloud}:${r.region}` : 'none';
  }

  private buildRuns(family: Family, table: GeoTable): DecisionRuns {
    const starts: number[] = [];
    const ends: number[] = [];
    const decisions: number[] = [];
    const provs: number[] = [];
    const unknown = this.unknownDecision(family);
    // Make sure the per-location cache belongs to this table, then read it directly in the loop.
    this.decideLocationId(family, table, 0);
    const f = this.families[family];
    const byLoc = f.byLocation;
    const chooser = f.chooser;
    // The table keeps coordinates as typed columns: scanning them beats touching 100k+ location objects.
    const lat = table.columns.locationLat;
    const lon = table.columns.locationLon;
    let runStart = 0;
    let runEnd = -1;
    let runDecision = unknown;
    let runProv = NO_PROVENANCE;
    let cursor = 0;
    const emit = (): void => {
      if (runEnd >= runStart) { starts.push(runStart); ends.push(runEnd); decisions.push(runDecision); provs.push(runProv); }
    };
    const n = table.v4Count;
    for (let i = 0; i < n; i++) {
      const s = table.v4RangeStart(i);
      const e = table.v4RangeEnd(i);
      const id = table.locationIdOfV4(i);
      const p = table.provenanceOfV4(i);
      let d = byLoc[id]!;
      if (d === NOT_COMPUTED) {
        d = chooser.choose(lat[id]!, lon[id]!);
        byLoc[id] = d;
      }
      // A gap before this range is "unknown location".
      if (s > cursor) {
        if (runDecision !== unknown || runProv !== NO_PROVENANCE) {
          emit();
          runStart = cursor;
          runDecision = unknown;
          runProv = NO_PROVENANCE;
        }
        runEnd = s - 1;
      }
      if (d !== runDecision || p !== runProv) {
        emit();
        runStart = s;
        runDecision = d;
        runProv = p;
      }
      runEnd = e;
      cursor = e + 1;
    }
    if (cursor <= 0xffffffff) {
      if (runDecision !== unknown || runProv !== NO_PROVENANCE) {
        emit();
        runStart = cursor;
        runDecision = unknown;
        runProv = NO_PROVENANCE;
      }
      runEnd = 0xffffffff;
    }
    starts.push(runStart);
    ends.push(runEnd);
    decisions.push(runDecision);
    provs.push(runProv);
    return { table, starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), decisions: Int16Array.from(decisions),
      provenance: Uint8Array.from(provs) };
  }
}
