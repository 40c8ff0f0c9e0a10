import { greatCircleKm } from '../../providers';
import type { GeoLocation } from '../geoip';
import type { WorkloadEndpoints } from '../watch/protocol';

/** Address family of an answer: 4 for A, 6 for AAAA. */
export type Family = 4 | 6;

/** Decision code: no region has any healthy address, so every address is answered (fail open). */
export const FAIL_OPEN = -1;
/** Decision code: the workload has no address of the family at all (NODATA). */
export const NO_ADDRESSES = -2;

type RegionEntry = WorkloadEndpoints['regions'][number];

function addressOf(i: RegionEntry['instances'][number], family: Family): string | undefined {
  return family === 4 ? i.ipv4 : i.ipv6;
}

/** Healthy instance addresses of a region for a family, in the scheduler's order. */
export function healthyAddresses(r: RegionEntry, family: Family): string[] {
  if (!r.healthy) return [];
  const out: string[] = [];
  for (const i of r.instances) {
    const a = addressOf(i, family);
    if (i.healthy && a) out.push(a);
  }
  return out;
}

/** Every address of a family over all regions, healthy or not (the fail-open answer). */
export function allAddresses(w: WorkloadEndpoints, family: Family): string[] {
  const out: string[] = [];
  for (const r of w.regions) {
    for (const i of r.instances) {
      const a = addressOf(i, family);
      if (a) out.push(a);
    }
  }
  return out;
}

/** True when the region satisfies the workload's residency rule (or there is none). */
export function residencyAllows(w: WorkloadEndpoints, r: RegionEntry): boolean {
  const res = w.residency;
  if (!res) return true;
  const countries = res.countries ?? [];
  const continents = res.continents ?? [];
  if (countries.length === 0 && continents.length === 0) return true;
  return countries.includes(r.country) || continents.includes(r.continent);
}

/**
 * Picks the region for a client location, precomputed per (workload, family) so a choice is a scan
 * of the regions with no allocation. Order: regions allowed by residency first, then the others;
 * inside each group the nearest by great-circle distance (ties: the scheduler's order). Only
 * regions with a healthy address count; `FAIL_OPEN` when none has one, `NO_ADDRESSES` when the
 * workload has no address of the family at all.
 */
export class RegionChooser {
  private readonly usable: Int32Array;
  private readonly group: Int8Array;
  /** Unit vectors of the usable regions (x, y, z per region). */
  private readonly xyz: Float64Array;
  private readonly none: number;
  /** Decision for an unknown location: the first usable region in residency-then-list order. */
  readonly unknown: number;
  /**
   * What the choices depend on, as text: two choosers with the same key decide every location
   * alike, so workloads with the same region set share their decision structures.
   */
  readonly key: string;
  /** True when no region has an address of the family: every decision is `NO_ADDRESSES`. */
  readonly noAddresses: boolean;

  constructor(w: WorkloadEndpoints, family: Family) {
    const rad = Math.PI / 180;
    const usable: number[] = [];
    const group: number[] = [];
    const xyz: number[] = [];
    w.regions.forEach((r, i) => {
      if (healthyAddresses(r, family).length === 0) return;
      usable.push(i);
      group.push(residencyAllows(w, r) ? 0 : 1);
      const la = r.lat * rad;
      const lo = r.lon * rad;
      xyz.push(Math.cos(la) * Math.cos(lo), Math.cos(la) * Math.sin(lo), Math.sin(la));
    });
    this.usable = Int32Array.from(usable);
    this.group = Int8Array.from(group);
    this.xyz = Float64Array.from(xyz);
    this.none = allAddresses(w, family).length > 0 ? FAIL_OPEN : NO_ADDRESSES;
    this.noAddresses = usable.length === 0 && this.none === NO_ADDRESSES;
    this.key = `${this.none}|${usable.map((u, k) => `${u},${group[k]},${xyz[3 * k]},${xyz[3 * k + 1]},${xyz[3 * k + 2]}`).join(';')}`;
    let best = this.none;
    let bestGroup = 2;
    for (let k = 0; k < usable.length; k++) {
      if (group[k]! < bestGroup) { best = usable[k]!; bestGroup = group[k]!; }
    }
    this.unknown = best;
  }

  /** The decision for a client at (lat, lon) in degrees. */
  choose(lat: number, lon: number): number {
    const rad = Math.PI / 180;
    const la = lat * rad;
    const lo = lon * rad;
    const cl = Math.cos(la);
    const x = cl * Math.cos(lo);
    const y = cl * Math.sin(lo);
    const z = Math.sin(la);
    let best = this.none;
    let bestGroup = 2;
    let bestDot = -Infinity;
    const n = this.usable.length;
    const v = this.xyz;
    for (let k = 0; k < n; k++) {
      const g = this.group[k]!;
      if (g > bestGroup) continue;
      // On the unit sphere the great-circle distance falls as the dot product rises: comparing dots is enough.
      const dot = x * v[3 * k]! + y * v[3 * k + 1]! + z * v[3 * k + 2]!;
      if (g < bestGroup || dot > bestDot) {
        best = this.usable[k]!;
        bestGroup = g;
        bestDot = dot;
      }
    }
    return best;
  }
}

/** The decision for one client (see `RegionChooser`); `undefined` location means unknown. */
export function chooseRegion(w: WorkloadEndpoints, family: Family, loc: GeoLocation | undefined): number {
  const c = new RegionChooser(w, family);
  return loc ? c.choose(loc.lat, loc.lon) : c.unknown;
}

/** Great-circle distance from a location to a region, in km (for explanations), as placement measures it. */
export function distanceKm(loc: GeoLocation, r: RegionEntry): number {
  return greatCircleKm(loc.lat, loc.lon, r.lat, r.lon);
}
