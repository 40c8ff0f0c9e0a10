import { continentOf } from './continents';
import { GeoIpError } from './errors';
import { readGeoipLite, type GeoipLiteOptions } from './geoip-lite';
import {
  formatIpv4, formatIpv6, mappedV4, parseIp, tryParseIp, widestPrefixWithin, type V6Words,
} from './ip';
import { packCountry, unpackCountry, type GeoTableData } from './columns';
import { normalizeRanges, type RangeRecord } from './ranges';
import { channelOf, defaultChannel, layerOf, provenanceCode, type ProvenanceCode } from './provenance';
import type { GeoChannelName, GeoLocation, GeoMatch, GeoSource } from './types';

export type { GeoLocation, GeoMatch, GeoSource, ParsedIp, ParsedIpv4, ParsedIpv6 } from './types';
export { continentOf } from './continents';
export { parseIp, tryParseIp, widestPrefixWithin, widestPrefixWithinV6 } from './ip';
export type { GeoTableData } from './columns';

/** Columns validated and indexed (by `prepareGeoTable`), ready to wrap without further work. */
export interface PreparedGeoTable extends GeoTableData {
  /** IPv4 bucket index: first range ending at or after each bucket's first address. */
  readonly v4Index: Uint32Array;
  /** IPv6 bucket index, same meaning over the first word's top bits. */
  readonly v6Index: Uint32Array;
}

/** One entry for `GeoTable.fromEntries`: a CIDR (`81.2.69.0/24`) or inclusive range (`a-b`) and where it is. */
export interface GeoEntry {
  readonly range: string;
  readonly lat: number;
  readonly lon: number;
  /** ISO alpha-2 or ''. */
  readonly country: string;
}

let nextTableId = 0;

// IPv4 ranges are bucketed by the top 20 bits (4 MiB of index): a bucket holds ~2-3 ranges on
// average, so a lookup is one index read plus a short search in one or two cache lines.
const V4_SHIFT = 12;
// IPv6 ranges are bucketed by the top 16 bits of the first word (allocations start at /16-/32).
const V6_SHIFT = 16;

/**
 * An immutable longest-prefix-match table over IPv4 and IPv6 ranges. Lookups never allocate on
 * the `findV4`/`findV6` paths; `lookup` allocates only its result. Replace a table as a whole
 * through `GeoTableHolder`.
 *
 * IPv6 addresses enter the hot path as four big-endian u32 words (`findV6Words`) or as 16 bytes of
 * a buffer (`findV6`), so a DNS server can pass the ECS address straight from the packet.
 */
export class GeoTable {
  /** Where this table's data comes from. */
  readonly source: GeoSource;
  /** Number of IPv4 ranges. */
  readonly v4Count: number;
  /** Number of IPv6 ranges. */
  readonly v6Count: number;
  /** Number of distinct locations. */
  readonly locationCount: number;
  /** A number no other table of this process has (tells tables apart without holding them). */
  readonly id = nextTableId++;

  private readonly data: GeoTableData;
  private readonly v4Bounds: Uint32Array;
  private readonly v4Loc: Uint32Array;
  private readonly v4Index: Uint32Array;
  private readonly v6Bounds: Uint32Array;
  private readonly v6Loc: Uint32Array;
  private readonly v6Index: Uint32Array;
  private readonly v4Prov: Uint8Array | undefined;
  private readonly v6Prov: Uint8Array | undefined;
  private readonly defaultProv: ProvenanceCode;
  // Location objects are made on first use and then shared, so wrapping a table costs no
  // per-location work (a swap stays O(1) on the serving thread).
  // Made on first use: an array as long as the locations costs 8 bytes per location (17 MiB for a
  // table with the hot-prefix cache's 2 M locations) that most tables never need.
  private locationCache: (GeoLocation | undefined)[] | undefined;
  private locationsView: readonly GeoLocation[] | undefined;

  /**
   * Wraps columns. Without `prepared` indexes, validates them and builds the indexes (O(n)); throws
   * `GEOIP_BAD_RANGE`/`GEOIP_BAD_DATA` naming the first bad row.
   */
  constructor(data: GeoTableData | PreparedGeoTable) {
    const prepared = 'v4Index' in data ? data : prepareGeoTable(data);
    this.data = data;
    this.source = data.source;
    this.v4Bounds = data.v4Bounds;
    this.v4Loc = data.v4Locations;
    this.v6Bounds = data.v6Bounds;
    this.v6Loc = data.v6Locations;
    this.v4Count = data.v4Locations.length;
    this.v6Count = data.v6Locations.length;
    this.locationCount = data.locationLat.length;
    this.v4Index = prepared.v4Index;
    this.v6Index = prepared.v6Index;
    this.v4Prov = data.v4Provenance;
    this.v6Prov = data.v6Provenance;
    this.defaultProv = provenanceCode(data.source, defaultChannel(data.source));
  }

  /** Builds the table from geoip-lite's shipped city data files (source `static` unless told). */
  static fromGeoipLite(options: GeoipLiteOptions = {}): GeoTable {
    return new GeoTable(readGeoipLite(options));
  }

  /**
   * Builds a table from entries that may overlap: a range inside another wins over it (longest
   * prefix match). Throws `GEOIP_BAD_ADDRESS`/`GEOIP_BAD_LOCATION` naming the bad entry.
   */
  static fromEntries(entries: readonly GeoEntry[], source: GeoSource = 'static'): GeoTable {
    const ids = new Map<string, number>();
    const lat: number[] = [];
    const lon: number[] = [];
    const country: number[] = [];
    const v4: RangeRecord[] = [];
    const v6: RangeRecord[] = [];
    for (const [n, e] of entries.entries()) {
      let loc: GeoLocation;
      try {
        loc = makeLocation(e.lat, e.lon, e.country);
      } catch (err) {
        throw new GeoIpError('GEOIP_BAD_LOCATION', `entry ${n} (${e.range}): ${(err as Error).message}`, { cause: err });
      }
      const key = `${loc.country},${loc.lat},${loc.lon}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = lat.length;
        ids.set(key, id);
        lat.push(loc.lat);
        lon.push(loc.lon);
        country.push(packCountry(loc.country));
      }
      const r = parseRange(e.range, n);
      (r.version === 4 ? v4 : v6).push({ start: r.start, end: r.end, loc: id });
    }
    const n4 = normalizeRanges(v4);
    const n6 = normalizeRanges(v6);
    const v4Bounds = new Uint32Array(2 * n4.length);
    n4.forEach((r, i) => { v4Bounds[2 * i] = Number(r.start); v4Bounds[2 * i + 1] = Number(r.end); });
    const v6Bounds = new Uint32Array(8 * n6.length);
    n6.forEach((r, i) => { writeBigWords(v6Bounds, 8 * i, r.start); writeBigWords(v6Bounds, 8 * i + 4, r.end); });
    return new GeoTable({
      source,
      locationLat: Float64Array.from(lat), locationLon: Float64Array.from(lon), locationCountry: Uint16Array.from(country),
      v4Bounds, v4Locations: Uint32Array.from(n4, (r) => r.loc),
      v6Bounds, v6Locations: Uint32Array.from(n6, (r) => r.loc),
    });
  }

  /** The columns this table wraps (shared, do not modify). */
  get columns(): GeoTableData {
    return this.data;
  }

  /**
   * Every distinct location, frozen; `locationOfV4`/`locationOfV6` return these very objects. A
   * read-only view that makes each object on first access: taking `locations.length` right after a
   * swap costs nothing (building 150k objects at once would stall the serving thread ~100 ms).
   * Prefer `locationCount` and `location(id)` on hot paths.
   */
  get locations(): readonly GeoLocation[] {
    this.locationsView ??= locationsView(this);
    return this.locationsView;
  }

  /** Location `id` (an index into `locations`), a shared frozen object. */
  location(id: number): GeoLocation {
    const cache = this.locationCache ??= new Array<GeoLocation | undefined>(this.locationCount);
    let loc = cache[id];
    if (loc === undefined) {
      if (!(id >= 0 && id < this.locationCount)) throw new GeoIpError('GEOIP_BAD_DATA', `no location ${id}; the table has ${this.locationCount}`);
      const country = unpackCountry(this.data.locationCountry[id]);
      loc = Object.freeze({ lat: this.data.locationLat[id], lon: this.data.locationLon[id], country, continent: continentOf(country) });
      cache[id] = loc;
    }
    return loc;
  }

  /** An empty table: every lookup misses. */
  static empty(source: GeoSource = 'static'): GeoTable {
    return new GeoTable({
      source, locationLat: new Float64Array(0), locationLon: new Float64Array(0), locationCountry: new Uint16Array(0),
      v4Bounds: new Uint32Array(0), v4Locations: new Uint32Array(0),
      v6Bounds: new Uint32Array(0), v6Locations: new Uint32Array(0),
    });
  }

  /**
   * Locates IPv4 or IPv6 text (IPv4-mapped IPv6 is looked up as IPv4 and reported with an IPv4
   * prefix). Undefined when no range holds the address; throws `GEOIP_BAD_ADDRESS` on bad text.
   */
  lookup(ip: string): GeoMatch | undefined {
    const parsed = parseIp(ip);
    if (parsed.version === 4) return this.matchV4(parsed.value);
    const v4 = mappedV4(parsed.words);
    if (v4 >= 0) return this.matchV4(v4);
    return this.matchV6(parsed.words);
  }

  /** The full match for a u32 IPv4 address, or undefined. */
  matchV4(ip: number): GeoMatch | undefined {
    const i = this.findV4(ip);
    if (i < 0) return undefined;
    const loc = this.location(this.v4Loc[i]);
    const len = widestPrefixWithin(ip, this.v4Bounds[2 * i], this.v4Bounds[2 * i + 1]);
    const base = len === 0 ? 0 : (ip >>> 0) - ((ip >>> 0) % 2 ** (32 - len));
    const code = this.provenanceOfV4(i);
    return {
      lat: loc.lat, lon: loc.lon, country: loc.country, continent: loc.continent,
      prefix: `${formatIpv4(base)}/${len}`, prefixLength: len,
      source: layerOf(code) as GeoSource, channel: channelOf(code) as GeoChannelName,
    };
  }

  /** The full match for an IPv6 address as four u32 words, or undefined. */
  matchV6(words: V6Words): GeoMatch | undefined {
    const i = this.findV6Words(words[0], words[1], words[2], words[3]);
    if (i < 0) return undefined;
    const loc = this.location(this.v6Loc[i]);
    const len = this.prefixLengthV6(i, words);
    const base = [0, 0, 0, 0] as [number, number, number, number];
    for (let w = 0; w < 4; w++) {
      const bits = Math.max(0, Math.min(32, len - 32 * w));
      base[w] = bits === 0 ? 0 : bits === 32 ? words[w] : (words[w] & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
    }
    const code = this.provenanceOfV6(i);
    return {
      lat: loc.lat, lon: loc.lon, country: loc.country, continent: loc.continent,
      prefix: `${formatIpv6(base)}/${len}`, prefixLength: len,
      source: layerOf(code) as GeoSource, channel: channelOf(code) as GeoChannelName,
    };
  }

  /** Index of the IPv4 range holding the u32 address `ip`, or -1. Allocation-free. */
  findV4(ip: number): number {
    const a = ip >>> 0;
    const bucket = a >>> V4_SHIFT;
    const index = this.v4Index;
    const bounds = this.v4Bounds;
    // Invariant: the first range whose end >= a lies in [lo, hi].
    let lo = index[bucket];
    let hi = index[bucket + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[2 * mid + 1] < a) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.v4Count && bounds[2 * lo] <= a ? lo : -1;
  }

  /** The location of IPv4 range `rangeIndex` (a shared frozen object). */
  locationOfV4(rangeIndex: number): GeoLocation {
    return this.location(this.v4Loc[rangeIndex]);
  }

  /**
   * ECS scope for an `ip` no IPv4 range holds: the widest prefix around it inside the gap between
   * two ranges. Allocation-free.
   */
  gapPrefixLengthV4(ip: number): number {
    const a = ip >>> 0;
    const bounds = this.v4Bounds;
    let lo = this.v4Index[a >>> V4_SHIFT];
    let hi = this.v4Index[(a >>> V4_SHIFT) + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[2 * mid + 1] < a) lo = mid + 1;
      else hi = mid;
    }
    const start = lo > 0 ? bounds[2 * lo - 1] + 1 : 0;
    const end = lo < this.v4Count ? bounds[2 * lo] - 1 : 0xffffffff;
    return widestPrefixWithin(a, start, end);
  }

  /** Provenance code (layer and channel, see `provenance.ts`) of IPv4 range `rangeIndex`. Allocation-free. */
  provenanceOfV4(rangeIndex: number): ProvenanceCode {
    return this.v4Prov === undefined ? this.defaultProv : this.v4Prov[rangeIndex];
  }

  /** Provenance code of IPv6 range `rangeIndex`. Allocation-free. */
  provenanceOfV6(rangeIndex: number): ProvenanceCode {
    return this.v6Prov === undefined ? this.defaultProv : this.v6Prov[rangeIndex];
  }

  /** Location index (into `locations`) of IPv4 range `rangeIndex`. */
  locationIdOfV4(rangeIndex: number): number {
    return this.v4Loc[rangeIndex];
  }

  /** First address (u32) of IPv4 range `i`. */
  v4RangeStart(i: number): number {
    return this.v4Bounds[2 * i];
  }

  /** Last address (u32, inclusive) of IPv4 range `i`. */
  v4RangeEnd(i: number): number {
    return this.v4Bounds[2 * i + 1];
  }

  /** ECS scope for `ip` in IPv4 range `i`: the widest prefix inside that range. */
  prefixLengthV4(i: number, ip: number): number {
    return widestPrefixWithin(ip, this.v4Bounds[2 * i], this.v4Bounds[2 * i + 1]);
  }

  /** Index of the IPv6 range holding the 16 bytes at `offset` of `bytes`, or -1. Allocation-free. */
  findV6(bytes: Uint8Array, offset = 0): number {
    if (offset < 0 || offset + 16 > bytes.length) {
      throw new GeoIpError('GEOIP_BAD_ADDRESS', `an IPv6 address needs 16 bytes at offset ${offset}, buffer has ${bytes.length}`);
    }
    return this.findV6Words(readWord(bytes, offset), readWord(bytes, offset + 4), readWord(bytes, offset + 8), readWord(bytes, offset + 12));
  }

  /** Index of the IPv6 range holding the address given as four big-endian u32 words, or -1. */
  findV6Words(w0: number, w1: number, w2: number, w3: number): number {
    const a0 = w0 >>> 0, a1 = w1 >>> 0, a2 = w2 >>> 0, a3 = w3 >>> 0;
    const b = this.v6Bounds;
    const bucket = a0 >>> V6_SHIFT;
    let lo = this.v6Index[bucket];
    let hi = this.v6Index[bucket + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const o = 8 * mid + 4;
      // end < address, compared word by word from the most significant.
      const less = b[o] !== a0 ? b[o] < a0 : b[o + 1] !== a1 ? b[o + 1] < a1 : b[o + 2] !== a2 ? b[o + 2] < a2 : b[o + 3] < a3;
      if (less) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.v6Count) return -1;
    const o = 8 * lo;
    const startAfter = b[o] !== a0 ? b[o] > a0 : b[o + 1] !== a1 ? b[o + 1] > a1 : b[o + 2] !== a2 ? b[o + 2] > a2 : b[o + 3] > a3;
    return startAfter ? -1 : lo;
  }

  /** The location of IPv6 range `rangeIndex` (a shared frozen object). */
  locationOfV6(rangeIndex: number): GeoLocation {
    return this.location(this.v6Loc[rangeIndex]);
  }

  /** Location index (into `locations`) of IPv6 range `rangeIndex`. */
  locationIdOfV6(rangeIndex: number): number {
    return this.v6Loc[rangeIndex];
  }

  /** First address of IPv6 range `i` as four u32 words. */
  v6RangeStart(i: number): [number, number, number, number] {
    const o = 8 * i;
    return [this.v6Bounds[o], this.v6Bounds[o + 1], this.v6Bounds[o + 2], this.v6Bounds[o + 3]];
  }

  /** Last address (inclusive) of IPv6 range `i` as four u32 words. */
  v6RangeEnd(i: number): [number, number, number, number] {
    const o = 8 * i + 4;
    return [this.v6Bounds[o], this.v6Bounds[o + 1], this.v6Bounds[o + 2], this.v6Bounds[o + 3]];
  }

  /** ECS scope for `words` in IPv6 range `i`: the widest prefix inside that range. */
  prefixLengthV6(i: number, words: V6Words): number {
    return this.prefixLengthV6Words(i, words[0], words[1], words[2], words[3]);
  }

  /**
   * ECS scope for the address (four u32 words) in IPv6 range `i`, allocation-free. Throws
   * `GEOIP_BAD_RANGE` when the address is outside the range.
   */
  prefixLengthV6Words(i: number, w0: number, w1: number, w2: number, w3: number): number {
    const o = 8 * i;
    const a0 = w0 >>> 0, a1 = w1 >>> 0, a2 = w2 >>> 0, a3 = w3 >>> 0;
    if (!this.blockFitsV6(o, a0, a1, a2, a3, 128)) {
      throw new GeoIpError('GEOIP_BAD_RANGE', `${formatIpv6([a0, a1, a2, a3])} is outside IPv6 range ${i}`);
    }
    // Fitting is monotonic in the length: bisect for the shortest one that fits (8 steps).
    let lo = 0;
    let hi = 128;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.blockFitsV6(o, a0, a1, a2, a3, mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  // True when the /len block containing the address lies within the range at bounds offset o.
  private blockFitsV6(o: number, a0: number, a1: number, a2: number, a3: number, len: number): boolean {
    const b = this.v6Bounds;
    let startCmp = 0;
    let endCmp = 0;
    for (let w = 0; w < 4; w++) {
      const a = w === 0 ? a0 : w === 1 ? a1 : w === 2 ? a2 : a3;
      const bits = len - 32 * w;
      const mask = bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
      const first = (a & mask) >>> 0;
      const last = (a | ~mask) >>> 0;
      if (startCmp === 0 && first !== b[o + w]) startCmp = first < b[o + w] ? -1 : 1;
      if (endCmp === 0 && last !== b[o + 4 + w]) endCmp = last < b[o + 4 + w] ? -1 : 1;
    }
    return startCmp >= 0 && endCmp <= 0;
  }

  /** Bytes held by the table's typed arrays (ranges and indexes; not the location objects). */
  get byteLength(): number {
    const d = this.data;
    return d.v4Bounds.byteLength + d.v4Locations.byteLength + this.v4Index.byteLength
      + d.v6Bounds.byteLength + d.v6Locations.byteLength + this.v6Index.byteLength
      + d.locationLat.byteLength + d.locationLon.byteLength + d.locationCountry.byteLength
      + (d.v4Provenance?.byteLength ?? 0) + (d.v6Provenance?.byteLength ?? 0);
  }
}

// Big-endian u32 at `o` (callers check bounds).
function readWord(bytes: Uint8Array, o: number): number {
  return ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
}

// An array-like, read-only view of a table's locations: index reads go to `table.location(i)`.
function locationsView(table: GeoTable): readonly GeoLocation[] {
  const index = (prop: string | symbol): number => {
    if (typeof prop !== 'string') return -1;
    const i = Number(prop);
    return Number.isInteger(i) && i >= 0 && i < table.locationCount && String(i) === prop ? i : -1;
  };
  const refuse = (): boolean => false;
  return new Proxy<GeoLocation[]>([], {
    get(target, prop, receiver) {
      if (prop === 'length') return table.locationCount;
      const i = index(prop);
      return i >= 0 ? table.location(i) : Reflect.get(target, prop, receiver) as unknown;
    },
    has: (target, prop) => index(prop) >= 0 || Reflect.has(target, prop),
    ownKeys: (target) => [...Array.from({ length: table.locationCount }, (_, i) => String(i)), ...Reflect.ownKeys(target)],
    getOwnPropertyDescriptor(target, prop) {
      const i = index(prop);
      if (i >= 0) return { value: table.location(i), writable: false, enumerable: true, configurable: true };
      if (prop === 'length') return { value: table.locationCount, writable: true, enumerable: false, configurable: false };
      return Reflect.getOwnPropertyDescriptor(target, prop);
    },
    set: refuse,
    defineProperty: refuse,
    deleteProperty: refuse,
  });
}

/** Holds the current table; `swap` replaces it atomically for all readers. */
export class GeoTableHolder {
  private table: GeoTable;
  private swaps = 0;

  /** Starts with `initial`. */
  constructor(initial: GeoTable) {
    this.table = initial;
  }

  /**
   * The table in force. Read it once per query and use that reference throughout, so a swap in
   * between cannot mix two tables within one answer.
   */
  get current(): GeoTable {
    return this.table;
  }

  /** How many swaps happened since construction. */
  get generation(): number {
    return this.swaps;
  }

  /**
   * Makes `next` current. A single reference assignment: readers see the old table or the new one,
   * never a partial one, and no query waits. Returns the table it replaced.
   */
  swap(next: GeoTable): GeoTable {
    if (!(next instanceof GeoTable)) throw new GeoIpError('GEOIP_BAD_DATA', 'swap needs a GeoTable');
    const previous = this.table;
    this.table = next;
    this.swaps++;
    return previous;
  }
}

/** A location checked and frozen: coordinates in range, country a two-letter code or ''. */
export function makeLocation(lat: number, lon: number, country: string, continent = continentOf(country)): GeoLocation {
  if (!(Number.isFinite(lat) && lat >= -90 && lat <= 90) || !(Number.isFinite(lon) && lon >= -180 && lon <= 180)) {
    throw new GeoIpError('GEOIP_BAD_LOCATION', `coordinates out of range: lat ${lat}, lon ${lon}`);
  }
  if (!/^([A-Z]{2})?$/.test(country)) throw new GeoIpError('GEOIP_BAD_LOCATION', `country must be ISO alpha-2 or '', got '${country}'`);
  return Object.freeze({ lat, lon, country, continent });
}

/** Validates columns and builds their indexes (O(n)); run it where a stall does not matter (a worker). */
export function prepareGeoTable(data: GeoTableData): PreparedGeoTable {
  validate(data);
  return { ...data, v4Index: buildV4Index(data.v4Bounds, data.v4Locations.length), v6Index: buildV6Index(data.v6Bounds, data.v6Locations.length) };
}

function validate(data: GeoTableData): void {
  const locationCount = data.locationLat.length;
  if (data.locationLon.length !== locationCount || data.locationCountry.length !== locationCount) {
    throw new GeoIpError('GEOIP_BAD_DATA', 'location columns disagree in length');
  }
  const { v4Bounds, v4Locations, v6Bounds, v6Locations } = data;
  if (v4Bounds.length !== 2 * v4Locations.length || v6Bounds.length !== 8 * v6Locations.length) {
    throw new GeoIpError('GEOIP_BAD_DATA', 'bounds and location columns disagree in length');
  }
  if ((data.v4Provenance && data.v4Provenance.length !== v4Locations.length) || (data.v6Provenance && data.v6Provenance.length !== v6Locations.length)) {
    throw new GeoIpError('GEOIP_BAD_DATA', 'provenance and location columns disagree in length');
  }
  let prevEnd = -1;
  for (let i = 0; i < v4Locations.length; i++) {
    const s = v4Bounds[2 * i];
    const e = v4Bounds[2 * i + 1];
    if (s > e || s <= prevEnd) {
      throw new GeoIpError('GEOIP_BAD_RANGE', `IPv4 range ${i} (${formatIpv4(s)}-${formatIpv4(e)}) is inverted or overlaps the previous one`);
    }
    if (v4Locations[i] >= locationCount) throw new GeoIpError('GEOIP_BAD_DATA', `IPv4 range ${i} refers to missing location ${v4Locations[i]}`);
    prevEnd = e;
  }
  for (let i = 0; i < v6Locations.length; i++) {
    const o = 8 * i;
    const start = [v6Bounds[o], v6Bounds[o + 1], v6Bounds[o + 2], v6Bounds[o + 3]] as const;
    const end = [v6Bounds[o + 4], v6Bounds[o + 5], v6Bounds[o + 6], v6Bounds[o + 7]] as const;
    const inverted = cmpWords(start, end) > 0;
    const overlaps = i > 0 && cmpWords(start, [v6Bounds[o - 4], v6Bounds[o - 3], v6Bounds[o - 2], v6Bounds[o - 1]]) <= 0;
    if (inverted || overlaps) {
      throw new GeoIpError('GEOIP_BAD_RANGE', `IPv6 range ${i} (${formatIpv6(start)}-${formatIpv6(end)}) is inverted or overlaps the previous one`);
    }
    if (v6Locations[i] >= locationCount) throw new GeoIpError('GEOIP_BAD_DATA', `IPv6 range ${i} refers to missing location ${v6Locations[i]}`);
  }
}

function writeBigWords(into: Uint32Array, at: number, value: bigint): void {
  for (let w = 0; w < 4; w++) into[at + w] = Number((value >> BigInt(32 * (3 - w))) & 0xffffffffn);
}

// "a.b.c.d/len", "x::/len", or "first-last" of one family -> inclusive bigint bounds.
function parseRange(text: string, n: number): { version: 4 | 6; start: bigint; end: bigint } {
  const bad = (why: string): GeoIpError => new GeoIpError('GEOIP_BAD_ADDRESS', `entry ${n}: ${why}: '${text}'`);
  const toBig = (t: string): { version: 4 | 6; value: bigint } => {
    const p = tryParseIp(t.trim());
    if (!p) throw bad('not an address');
    if (p.version === 4) return { version: 4, value: BigInt(p.value) };
    return { version: 6, value: p.words.reduce((acc, w) => (acc << 32n) | BigInt(w), 0n) };
  };
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const base = toBig(text.slice(0, slash));
    const bits = base.version === 4 ? 32 : 128;
    const lenText = text.slice(slash + 1).trim();
    const len = Number(lenText);
    if (!/^\d{1,3}$/.test(lenText) || len > bits) throw bad(`prefix length must be 0..${bits}`);
    const size = 1n << BigInt(bits - len);
    if (base.value % size !== 0n) throw bad('host bits set below the prefix length');
    return { version: base.version, start: base.value, end: base.value + size - 1n };
  }
  const dash = text.indexOf('-');
  if (dash < 0) throw bad('expected a CIDR or a first-last range');
  const first = toBig(text.slice(0, dash));
  const last = toBig(text.slice(dash + 1));
  if (first.version !== last.version) throw bad('range mixes IPv4 and IPv6');
  if (first.value > last.value) throw bad('range is inverted');
  return { version: first.version, start: first.value, end: last.value };
}

function cmpWords(a: V6Words, b: V6Words): number {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

// index[b] = first range whose end >= the first address of bucket b; index[buckets] = count.
function buildV4Index(bounds: Uint32Array, count: number): Uint32Array {
  const buckets = 2 ** (32 - V4_SHIFT);
  const index = new Uint32Array(buckets + 1);
  let r = 0;
  for (let b = 0; b < buckets; b++) {
    const first = b * 2 ** V4_SHIFT;
    while (r < count && bounds[2 * r + 1] < first) r++;
    index[b] = r;
  }
  index[buckets] = count;
  return index;
}

function buildV6Index(bounds: Uint32Array, count: number): Uint32Array {
  const buckets = 2 ** (32 - V6_SHIFT);
  const index = new Uint32Array(buckets + 1);
  let r = 0;
  for (let b = 0; b < buckets; b++) {
    const first = b * 2 ** V6_SHIFT;
    // Only the first word decides the bucket: a range ends before the bucket when its end's first
    // word is below the bucket's first word.
    while (r < count && bounds[8 * r + 4] < first) r++;
    index[b] = r;
  }
  index[buckets] = count;
  return index;
}
