/**
 * One way to locate a client and decide its answer, for the fast path, the slow path and the admin
 * API alike: client address or EDNS Client Subnet -> location, provenance (layer, channel),
 * ECS scope -> decision. The result is one packed integer, so the hot path allocates nothing.
 */
import { type GeoTable, NO_PROVENANCE, widestPrefixWithin } from '../geoip';
import { ipv4ToUint, ipv6ToBytes } from '../wire/ip';
import { runIndex, runStart } from './decisions';
import type { Family } from './select';
import type { WorkloadAnswer } from './workload';

/** How the client's location was learnt. */
export const LOCATION_VIA = Object.freeze({ ECS: 0, ADDRESS: 1, UNKNOWN: 2 } as const);
/** Names of `LOCATION_VIA` values, by value (metrics labels). */
export const LOCATION_VIA_NAMES = Object.freeze(['ecs', 'address', 'unknown'] as const);

/**
 * Notes which location a client prefix was answered with (the hot-prefix cache). Called on the hot
 * path with the table range the answer lookup already found (no second lookup): implementations
 * must not allocate or block, and read the location from the table only for a note they keep.
 */
export interface LocationRecorder {
  /**
   * True when the prefix of IPv4 client `ip` is to be noted from `table` (it was not noted from
   * it lately); the caller then finds the range and calls `noteV4Range`. One memory read for a repeat.
   */
  wantsV4(table: GeoTable, ip: number): boolean;
  /** Client IPv4 `ip` (u32) was answered from IPv4 range `rangeIndex` of `table`. */
  noteV4Range(table: GeoTable, rangeIndex: number, ip: number): void;
  /** Client IPv6 address (top 64 bits as two u32 words) was answered from IPv6 range `rangeIndex` of `table`. */
  noteV6Range(table: GeoTable, rangeIndex: number, w0: number, w1: number): void;
}

/**
 * A located decision packed in a non-negative small integer: decision + 2 in bits 0-15, ECS scope
 * prefix length in bits 16-23, provenance code in bits 24-27, `LOCATION_VIA` in bits 28-29. Read
 * it with `decisionOf`, `scopeOf`, `provenanceOf`, `viaOf`.
 */
export type Located = number;

// The client prefixes the hot-prefix cache keeps (RFC 7871 §11.1 suggests these as the most a
// resolver should reveal): a shorter ECS source prefix says too little to record.
const CACHE_V4_PREFIX = 24;
const CACHE_V6_PREFIX = 48;

function pack(decision: number, scope: number, provenance: number, via: number): Located {
  return (decision + 2) | (scope << 16) | (provenance << 24) | (via << 28);
}

/** The decision (region index, `FAIL_OPEN` or `NO_ADDRESSES`) of a located result. */
export function decisionOf(r: Located): number {
  return (r & 0xffff) - 2;
}

/** The ECS scope prefix length to echo. */
export function scopeOf(r: Located): number {
  return (r >>> 16) & 0xff;
}

/** The provenance code of the table range that decided (`NO_PROVENANCE` when none did). */
export function provenanceOf(r: Located): number {
  return (r >>> 24) & 0x0f;
}

/** How the client was located (`LOCATION_VIA`). */
export function viaOf(r: Located): number {
  return (r >>> 28) & 0x03;
}

/**
 * Locates IPv4 client `ip` (u32) for workload `w`. `sourcePrefix` is the ECS source prefix length
 * (32 for a source address). Once the workload's runs for `table` are built, the scope is the
 * widest block around the client inside the merged run of equal decisions and provenance
 * (gdnsd-style); until then (a new table or region
 * set, for the moment a build takes off the query path) the table's range decides with its own
 * scope. `recorder` is told the range that answered.
 */
export function locateV4(w: WorkloadAnswer, family: Family, table: GeoTable, ip: number, sourcePrefix: number, via: number,
  recorder: LocationRecorder | undefined): Located {
  const runs = w.runsFor(family, table);
  const record = recorder !== undefined && sourcePrefix >= CACHE_V4_PREFIX;
  let decision: number;
  let scope: number;
  let prov: number;
  if (runs !== undefined) {
    const r = runIndex(runs, ip);
    const info = runs.cells[2 * r + 1]!;
    decision = (info & 0xffff) - 2;
    prov = info >>> 16;
    scope = widestPrefixWithin(ip, runStart(runs, r), runs.cells[2 * r]!);
    // The table's own index finds the range (and its location) faster than a search of a long run.
    if (record && prov !== NO_PROVENANCE && recorder.wantsV4(table, ip)) recorder.noteV4Range(table, table.findV4(ip), ip);
  } else {
    const i = table.findV4(ip);
    if (i < 0) {
      decision = w.unknownDecision(family);
      prov = NO_PROVENANCE;
      scope = table.gapPrefixLengthV4(ip);
    } else {
      decision = w.decideLocationId(family, table, table.locationIdOfV4(i));
      prov = table.provenanceOfV4(i);
      scope = table.prefixLengthV4(i, ip);
      if (record && recorder.wantsV4(table, ip)) recorder.noteV4Range(table, i, ip);
    }
  }
  return pack(decision, scope, prov, via);
}

/**
 * Locates an IPv6 client given as four big-endian u32 words (an ECS address zero-padded past its
 * source prefix). Without a table entry the decision is the unknown-location one, scoped to the
 * source prefix.
 */
export function locateV6(w: WorkloadAnswer, family: Family, table: GeoTable, w0: number, w1: number, w2: number, w3: number,
  sourcePrefix: number, via: number, recorder: LocationRecorder | undefined): Located {
  const i = table.findV6Words(w0, w1, w2, w3);
  if (i < 0) return pack(w.unknownDecision(family), sourcePrefix, NO_PROVENANCE, via);
  const id = table.locationIdOfV6(i);
  if (recorder !== undefined && sourcePrefix >= CACHE_V6_PREFIX) recorder.noteV6Range(table, i, w0, w1);
  return pack(w.decideLocationId(family, table, id), table.prefixLengthV6Words(i, w0, w1, w2, w3), table.provenanceOfV6(i), via);
}

/** The result for a client that cannot be located at all. */
export function locateUnknown(w: WorkloadAnswer, family: Family): Located {
  return pack(w.unknownDecision(family), 0, NO_PROVENANCE, LOCATION_VIA.UNKNOWN);
}

/** Big-endian u32 at `o` of `bytes`, reading zeros past `end` (an ECS address is cut at its prefix). */
export function wordAt(bytes: Uint8Array, o: number, end: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v = (v << 8) | (o + k < end ? bytes[o + k]! : 0);
  return v >>> 0;
}

/**
 * Locates a client by its source address given as text (what sockets report): IPv4, IPv6, or
 * IPv4-mapped IPv6 (a dual-stack socket's IPv4 client). Per RFC 7871 §7.1.3 there is no ECS to
 * echo, so the scope is 0. IPv4 text is parsed without allocating.
 */
export function locateAddress(w: WorkloadAnswer, family: Family, table: GeoTable, client: string,
  recorder: LocationRecorder | undefined): Located {
  const v4 = ipv4ToUint(client);
  let r: Located;
  if (v4 >= 0) {
    r = locateV4(w, family, table, v4, 32, LOCATION_VIA.ADDRESS, recorder);
  } else {
    let bytes: Buffer;
    try {
      bytes = ipv6ToBytes(client);
    } catch {
      return locateUnknown(w, family);
    }
    const w0 = wordAt(bytes, 0, 16), w1 = wordAt(bytes, 4, 16), w2 = wordAt(bytes, 8, 16), w3 = wordAt(bytes, 12, 16);
    r = w0 === 0 && w1 === 0 && w2 === 0xffff
      ? locateV4(w, family, table, w3, 32, LOCATION_VIA.ADDRESS, recorder)
      : locateV6(w, family, table, w0, w1, w2, w3, 128, LOCATION_VIA.ADDRESS, recorder);
  }
  // Keep everything but the scope.
  return r & ~(0xff << 16);
}

/**
 * Locates a query's client: from its EDNS Client Subnet option when it has one with a non-zero
 * source prefix (RFC 7871 §7.1.1; the address is `length` bytes at `offset` of `bytes`), else from
 * its source address `client`. `ecsFamily` is 0 without an option, else 1 (IPv4) or 2 (IPv6).
 */
export function locateClient(w: WorkloadAnswer, family: Family, table: GeoTable, ecsFamily: number, ecsSourcePrefix: number,
  bytes: Uint8Array, offset: number, length: number, client: string, recorder: LocationRecorder | undefined): Located {
  if (ecsSourcePrefix > 0 && ecsFamily === 1) {
    return locateV4(w, family, table, wordAt(bytes, offset, offset + length), ecsSourcePrefix, LOCATION_VIA.ECS, recorder);
  }
  if (ecsSourcePrefix > 0 && ecsFamily === 2) {
    const end = offset + length;
    return locateV6(w, family, table, wordAt(bytes, offset, end), wordAt(bytes, offset + 4, end), wordAt(bytes, offset + 8, end),
      wordAt(bytes, offset + 12, end), ecsSourcePrefix, LOCATION_VIA.ECS, recorder);
  }
  return locateAddress(w, family, table, client, recorder);
}
