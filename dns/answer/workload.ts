import { type GeoLocation, type GeoTable, PROVENANCE_CODES } from '../geoip';
import { CLASS_IN, QTYPE } from '../wire/constants';
import { ipv4ToBytes, ipv6ToBytes } from '../wire/ip';
import { encodeName, normalizeName } from '../wire/name';
import { hashWireName } from '../wire/fast';
import type { WorkloadEndpoints } from '../watch/protocol';
import { allAddresses, FAIL_OPEN, type Family, healthyAddresses, NO_ADDRESSES, RegionChooser } from './select';
import { type DecisionRuns, DecisionRegistry, type SharedDecisions } from './decisions';

export { type DecisionRuns } from './decisions';

/** Limits applied when a workload's answers are built. */
export interface AnswerLimits {
  /** TTL bounds in seconds; the workload's TTL is clamped into them. */
  readonly ttlMinSeconds: number;
  readonly ttlMaxSeconds: number;
  /** Most A/AAAA records in one answer. */
  readonly maxAddresses: number;
}

interface FamilyState {
  /** Addresses answered by decision (`index = decision`, fail-open at `regions.length`). */
  readonly addresses: string[][];
  /** Pre-encoded answer sections by decision (`index = decision`, fail-open at `regions.length`). */
  readonly answers: (Buffer | undefined)[];
  readonly answerCounts: number[];
  /** Chooser and runs, shared with every workload of the same region set. */
  readonly decisions: SharedDecisions;
}

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
  private released = false;

  /**
   * Builds the answers of `endpoints`. The decision structures come from `registry` (shared with
   * other workloads of the same region set; by default a registry of this workload's own): call
   * `release()` when the workload is replaced or removed.
   */
  constructor(readonly endpoints: WorkloadEndpoints, limits: AnswerLimits, private readonly registry: DecisionRegistry = new DecisionRegistry()) {
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
      return { addresses, answers, answerCounts, decisions: registry.acquire(family, new RegionChooser(endpoints, family)) };
    };
    this.families = { 4: build(4), 6: build(6) };
  }

  /** Decision for a known or unknown (`undefined`) location. */
  decide(family: Family, _table: GeoTable, loc: GeoLocation | undefined): number {
    const c = this.families[family].decisions.chooser;
    return loc ? c.choose(loc.lat, loc.lon) : c.unknown;
  }

  /** Decision for location index `id` of `table`. Allocation-free. */
  decideLocationId(family: Family, table: GeoTable, id: number): number {
    return this.families[family].decisions.chooser.choose(table.columns.locationLat[id]!, table.columns.locationLon[id]!);
  }

  /** Decision for a client with no usable address (no table entry, no ECS, unknown). */
  unknownDecision(family: Family): number {
    return this.families[family].decisions.chooser.unknown;
  }

  /** True when the workload has no address of `family` at all (every answer is NODATA). */
  noAddresses(family: Family): boolean {
    return this.families[family].decisions.chooser.noAddresses;
  }

  /**
   * The runs for `table` when they are built, else undefined (and a build is queued off the query
   * path). Shared with every workload of the same region set.
   */
  runsFor(family: Family, table: GeoTable): DecisionRuns | undefined {
    return this.families[family].decisions.runsFor(table);
  }

  /** The runs for `table`, built now if they are not (tests and tools; queries use `runsFor`). */
  runs(family: Family, table: GeoTable): DecisionRuns {
    return this.families[family].decisions.runsNow(table);
  }

  /** The shared decision structures of `family` (identity shows sharing). */
  sharedDecisions(family: Family): SharedDecisions {
    return this.families[family].decisions;
  }

  /** Gives the shared decision structures back to the registry (the workload is replaced or removed). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.registry.release(this.families[4].decisions);
    this.registry.release(this.families[6].decisions);
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

  /**
   * Adds the answer counts of `previous` (an earlier state of this workload) to this one's, region
   * by region; counts of a region this state no longer has go with that region's series.
   */
  carryCountsFrom(previous: WorkloadAnswer): void {
    const from = previous.endpoints.regions;
    const to = this.endpoints.regions;
    for (let s = 0; s <= from.length; s++) {
      let t = to.length;
      if (s < from.length) {
        t = to.findIndex((r) => r.cloud === from[s]!.cloud && r.region === from[s]!.region);
        if (t < 0) continue;
      }
      for (let c = 0; c < PROVENANCE_CODES; c++) this.regionCounts[t * PROVENANCE_CODES + c]! += previous.regionCounts[s * PROVENANCE_CODES + c]!;
    }
  }

  /** Region label of a decision for metrics and the admin API (`cloud:region`, `fail-open`, `none`). */
  decisionLabel(decision: number): string {
    if (decision === FAIL_OPEN) return 'fail-open';
    if (decision === NO_ADDRESSES) return 'none';
    const r = this.endpoints.regions[decision];
    return r ? `${r.cloud}:${r.region}` : 'none';
  }
}
