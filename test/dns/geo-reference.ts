import { createRequire } from 'node:module';
import type { WorkloadEndpoints } from '../../dns/index';
import { haversineKm } from './fixtures';

interface GeoipLiteResult {
  readonly country: string;
  readonly ll: [number, number];
  /** The dataset range holding the address, as u32 bounds. */
  readonly range: [number, number];
}

const req = createRequire(__filename);
// geoip-lite is the reference the table is built from; the test asks it directly, not our code.
const geoipLite = req('geoip-lite') as { lookup(ip: string): GeoipLiteResult | null };

/** geoip-lite's own answer for an address. */
export function referenceLookup(ip: string): GeoipLiteResult | null {
  return geoipLite.lookup(ip);
}

/**
 * The region index the server should pick for a client at `ip`, computed independently: residency
 * first, then nearest healthy region with healthy instances, the list order for unknown clients,
 * -1 when nothing is healthy.
 */
export function expectedRegion(w: WorkloadEndpoints, ip: string): number {
  const loc = referenceLookup(ip);
  const usable = w.regions.map((r) => r.healthy && r.instances.some((i) => i.healthy && i.ipv4));
  const res = w.residency;
  const allowed = w.regions.map((r) => !res || (!(res.countries?.length) && !(res.continents?.length))
    || (res.countries ?? []).includes(r.country) || (res.continents ?? []).includes(r.continent));
  let best = -1;
  let bestKey: [number, number] = [2, Infinity];
  w.regions.forEach((r, i) => {
    if (!usable[i]) return;
    const key: [number, number] = [allowed[i] ? 0 : 1, loc ? haversineKm(loc.ll[0], loc.ll[1], r.lat, r.lon) : i];
    if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
      best = i;
      bestKey = key;
    }
  });
  return best;
}

/** IPv4 addresses of a region, sorted. */
export function regionAddresses(w: WorkloadEndpoints, i: number): string[] {
  return w.regions[i]!.instances.filter((x) => x.healthy && x.ipv4).map((x) => x.ipv4!).sort();
}

function ipText(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

/**
 * The distinct regions geoip-lite + haversine give over the IPv4 block [from, to], walking
 * geoip-lite's own ranges (one lookup per range; gaps are walked address by address, bounded).
 */
export function regionsOverBlock(w: WorkloadEndpoints, from: number, to: number, maxSteps = 200_000): Set<number> {
  const out = new Set<number>();
  let a = from;
  for (let steps = 0; a <= to; steps++) {
    if (steps > maxSteps) throw new Error(`block ${ipText(from)}-${ipText(to)} needs more than ${maxSteps} steps`);
    const ip = ipText(a);
    out.add(expectedRegion(w, ip));
    const hit = referenceLookup(ip);
    a = hit ? hit.range[1] + 1 : a + 1;
  }
  return out;
}
