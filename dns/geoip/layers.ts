import type { GeoTableData } from './columns';
import { GeoIpError } from './errors';
import { provenanceCode, type ProvenanceCode } from './provenance';
import { prepareGeoTable, type PreparedGeoTable } from './table';
import type { GeoChannelName, GeoSource } from './types';

/** One layer of a merged table: a table's columns and what produced them. */
export interface GeoLayerData {
  readonly layer: GeoSource;
  readonly channel: GeoChannelName;
  readonly data: GeoTableData;
}

/** Ranges being merged: bounds (`2 * words` per range), location ids and provenance codes, growable. */
class RangeList {
  bounds: Uint32Array;
  locations: Uint32Array;
  provenance: Uint8Array;
  count = 0;

  constructor(readonly words: number, capacity: number) {
    this.bounds = new Uint32Array(Math.max(1, capacity) * 2 * words);
    this.locations = new Uint32Array(Math.max(1, capacity));
    this.provenance = new Uint8Array(Math.max(1, capacity));
  }

  push(from: Uint32Array, startAt: number, end: Uint32Array, endAt: number, location: number, provenance: number): void {
    if (this.count === this.locations.length) this.grow();
    const w = this.words;
    const o = 2 * w * this.count;
    for (let k = 0; k < w; k++) {
      this.bounds[o + k] = from[startAt + k];
      this.bounds[o + w + k] = end[endAt + k];
    }
    this.locations[this.count] = location;
    this.provenance[this.count] = provenance;
    this.count++;
  }

  private grow(): void {
    const n = 2 * this.locations.length;
    const b = new Uint32Array(n * 2 * this.words);
    b.set(this.bounds);
    const l = new Uint32Array(n);
    l.set(this.locations);
    const p = new Uint8Array(n);
    p.set(this.provenance);
    this.bounds = b;
    this.locations = l;
    this.provenance = p;
  }
}

// Compares the `w`-word values at a[ao] and b[bo], most significant word first.
function cmp(a: Uint32Array, ao: number, b: Uint32Array, bo: number, w: number): number {
  for (let k = 0; k < w; k++) if (a[ao + k] !== b[bo + k]) return a[ao + k] < b[bo + k] ? -1 : 1;
  return 0;
}

// into = value + delta (delta +1 or -1), `w` words; callers never step past the ends of the space.
function step(into: Uint32Array, value: Uint32Array, vo: number, w: number, delta: 1 | -1): void {
  let carry = true;
  for (let k = w - 1; k >= 0; k--) {
    const v = value[vo + k];
    if (!carry) { into[k] = v; continue; }
    if (delta === 1) { into[k] = (v + 1) >>> 0; carry = v === 0xffffffff; } else { into[k] = (v - 1) >>> 0; carry = v === 0; }
  }
}

/**
 * `high` over `low`: every range of `high`, and the parts of `low`'s ranges that no range of
 * `high` covers. Both sorted and disjoint; so is the result. Linear in the two lengths.
 */
function overlay(high: RangeList, low: RangeList): RangeList {
  const w = high.words;
  const out = new RangeList(w, high.count + low.count);
  const hb = high.bounds;
  const lb = low.bounds;
  // The not yet emitted start of the current low range, and scratch for bounds one step off a high range.
  const cur = new Uint32Array(w);
  const edge = new Uint32Array(w);
  let ih = 0;
  let il = 0;
  if (low.count > 0) cur.set(lb.subarray(0, w));
  while (ih < high.count || il < low.count) {
    if (ih < high.count && (il >= low.count || cmp(hb, 2 * w * ih, cur, 0, w) <= 0)) {
      const endAt = 2 * w * ih + w;
      out.push(hb, 2 * w * ih, hb, endAt, high.locations[ih], high.provenance[ih]);
      // Drop what this high range hides of the low ranges.
      while (il < low.count && cmp(lb, 2 * w * il + w, hb, endAt, w) <= 0) {
        il++;
        if (il < low.count) cur.set(lb.subarray(2 * w * il, 2 * w * il + w));
      }
      if (il < low.count && cmp(cur, 0, hb, endAt, w) <= 0) step(cur, hb, endAt, w, 1);
      ih++;
    } else {
      const endAt = 2 * w * il + w;
      if (ih < high.count && cmp(hb, 2 * w * ih, lb, endAt, w) <= 0) {
        // The next high range starts inside this low range: emit the low part before it.
        step(edge, hb, 2 * w * ih, w, -1);
        out.push(cur, 0, edge, 0, low.locations[il], low.provenance[il]);
        cur.set(hb.subarray(2 * w * ih, 2 * w * ih + w));
      } else {
        out.push(cur, 0, lb, endAt, low.locations[il], low.provenance[il]);
        il++;
        if (il < low.count) cur.set(lb.subarray(2 * w * il, 2 * w * il + w));
      }
    }
  }
  return out;
}

function listOf(bounds: Uint32Array, locations: Uint32Array, words: number, locationOffset: number,
  provenance: Uint8Array | undefined, code: ProvenanceCode): RangeList {
  const list = new RangeList(words, 0);
  list.bounds = bounds;
  list.count = locations.length;
  list.locations = locationOffset === 0 ? locations : locations.map((l) => l + locationOffset);
  list.provenance = provenance ?? new Uint8Array(locations.length).fill(code);
  return list;
}

/**
 * Merges layers, highest priority first, into one table's columns, validated and indexed: an
 * address takes the location of the first layer that has a range holding it, whatever the
 * prefix lengths (a cached /24 never overrides the dataset's /16 above it). Each range keeps the
 * provenance (layer and channel) it came from. Pure and O(total ranges); run it off the serving
 * thread (`layers-worker.ts`). `source` is the merged table's own source (its dataset's).
 */
export function mergeLayers(layers: readonly GeoLayerData[], source: GeoSource): PreparedGeoTable {
  if (layers.length === 0) throw new GeoIpError('GEOIP_BAD_DATA', 'merging needs at least one layer');
  let locationTotal = 0;
  for (const l of layers) locationTotal += l.data.locationLat.length;
  const locationLat = new Float64Array(locationTotal);
  const locationLon = new Float64Array(locationTotal);
  const locationCountry = new Uint16Array(locationTotal);
  let v4: RangeList | undefined;
  let v6: RangeList | undefined;
  let offset = 0;
  for (const l of layers) {
    const d = l.data;
    locationLat.set(d.locationLat, offset);
    locationLon.set(d.locationLon, offset);
    locationCountry.set(d.locationCountry, offset);
    const code = provenanceCode(l.layer, l.channel);
    const l4 = listOf(d.v4Bounds, d.v4Locations, 1, offset, d.v4Provenance, code);
    const l6 = listOf(d.v6Bounds, d.v6Locations, 4, offset, d.v6Provenance, code);
    v4 = v4 ? overlay(v4, l4) : l4;
    v6 = v6 ? overlay(v6, l6) : l6;
    offset += d.locationLat.length;
  }
  const n4 = v4!.count;
  const n6 = v6!.count;
  return prepareGeoTable({
    source, locationLat, locationLon, locationCountry,
    v4Bounds: v4!.bounds.slice(0, 2 * n4), v4Locations: v4!.locations.slice(0, n4), v4Provenance: v4!.provenance.slice(0, n4),
    v6Bounds: v6!.bounds.slice(0, 8 * n6), v6Locations: v6!.locations.slice(0, n6), v6Provenance: v6!.provenance.slice(0, n6),
  });
}
