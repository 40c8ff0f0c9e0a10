/**
 * The chaos run's world, made from a seed: client prefixes drawn from the real 2002 RIS RIB dump,
 * their Zipf-like query weights, the origin AS of each, where each really is (geoip-lite's
 * location of the prefix's first address, the data a fresh dataset would carry), and the
 * workloads whose regions the answers are judged against.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGeoTable } from '../../dns/index';
import { formatIpv6, geoipLiteDataDir, v6BlockEnd, v6BlockStart, v6WordsOf, widestPrefixWithinV6 } from '../../dns/geoip/index';
import { realIpv4Routes } from '../dns/geoip/channels/bgp/fixtures';
import type { CloudId } from '../../providers';
import { seededRandom } from '../tools/random';

/** The seeded PRNG of the tests (mulberry32): the same seed gives the same world, timeline and query stream. */
export const rng = seededRandom;

/** A place on Earth with its country (ISO) and continent code. */
export interface Place {
  readonly lat: number;
  readonly lon: number;
  readonly country: string;
  readonly continent: string;
}

/** One client prefix of the world. */
export interface WorldPrefix {
  readonly family: 4 | 6;
  /** Canonical `a.b.c.d/len` or `x:y::/len`. */
  readonly prefix: string;
  /** The subnet its clients send as ECS source: the prefix's first /24 (IPv4) or /56 (IPv6). */
  readonly subnet: string;
  /** First and last address of the prefix, as text. */
  readonly first: string;
  readonly last: string;
  /** AS path as the RIB dump saw it (origin last). */
  readonly asPath: readonly number[];
  /** Where it is at the start (geoip-lite's location of its first address). */
  readonly place: Place;
  /** Share of the queries its clients send while it is routed. */
  readonly weight: number;
}

/** A region of a workload, with its coordinates (from the provider catalog). */
export interface WorldRegion {
  readonly cloud: CloudId;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
  readonly country: string;
  readonly continent: string;
}

// Coordinates as the provider catalog has them, written out so the GeoDNS child does not load the cloud SDKs.
const REGIONS: Readonly<Record<string, WorldRegion>> = {
  'us-east-1': { cloud: 'aws', region: 'us-east-1', lat: 38.9, lon: -77.4, country: 'US', continent: 'NA' },
  'us-west-2': { cloud: 'aws', region: 'us-west-2', lat: 45.8, lon: -119.7, country: 'US', continent: 'NA' },
  westeurope: { cloud: 'azure', region: 'westeurope', lat: 52.37, lon: 4.9, country: 'NL', continent: 'EU' },
  'eu-central-1': { cloud: 'aws', region: 'eu-central-1', lat: 50.1, lon: 8.7, country: 'DE', continent: 'EU' },
  'ap-northeast-1': { cloud: 'aws', region: 'ap-northeast-1', lat: 35.7, lon: 139.7, country: 'JP', continent: 'AS' },
  'ap-southeast-1': { cloud: 'aws', region: 'ap-southeast-1', lat: 1.35, lon: 103.8, country: 'SG', continent: 'AS' },
  'ap-southeast-2': { cloud: 'aws', region: 'ap-southeast-2', lat: -33.87, lon: 151.21, country: 'AU', continent: 'OC' },
  brazilsouth: { cloud: 'azure', region: 'brazilsouth', lat: -23.55, lon: -46.63, country: 'BR', continent: 'SA' },
  southafricanorth: { cloud: 'azure', region: 'southafricanorth', lat: -26.2, lon: 28.05, country: 'ZA', continent: 'AF' },
};

/** The workloads (name -> regions): one on every inhabited continent, one on three, one in Europe and North America. */
export const WORKLOAD_REGIONS: Readonly<Record<string, readonly string[]>> = {
  web: ['us-east-1', 'westeurope', 'ap-northeast-1', 'brazilsouth', 'ap-southeast-2', 'southafricanorth'],
  api: ['us-west-2', 'eu-central-1', 'ap-southeast-1'],
  shop: ['us-east-1', 'westeurope'],
};

/** Names of the workloads, in a fixed order. */
export const WORKLOAD_NAMES = Object.keys(WORKLOAD_REGIONS);

/** Query weights of the workloads. */
const WORKLOAD_WEIGHTS: Readonly<Record<string, number>> = { web: 0.5, api: 0.3, shop: 0.2 };

/** Regions of workload `w` (index), in its order. */
export function regionsOf(w: number): readonly WorldRegion[] {
  return WORKLOAD_REGIONS[WORKLOAD_NAMES[w]!]!.map((id) => REGIONS[id]!);
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km. */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The region (index) of workload `w` nearest to `place`: what a server with full, fresh data answers. */
export function nearestRegion(w: number, place: { lat: number; lon: number }): number {
  const regions = regionsOf(w);
  let best = 0;
  let bestKm = Infinity;
  regions.forEach((r, i) => {
    const km = distanceKm(place, r);
    if (km < bestKm) { best = i; bestKm = km; }
  });
  return best;
}

/** Parses `a.b.c.d` to an unsigned 32-bit number. */
export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => (n * 256) + Number(o), 0) >>> 0;
}

/** Formats an unsigned 32-bit number as `a.b.c.d`. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The world: prefixes, weights, workloads, and the pool of unrouted prefixes new announcements come from. */
export interface World {
  readonly seed: number;
  readonly prefixes: readonly WorldPrefix[];
  /** Prefixes not routed at the start (candidates for "new prefix" events), with weights of their own. */
  readonly spare: readonly WorldPrefix[];
  /** Query share of each workload, in `WORKLOAD_NAMES` order. */
  readonly workloadWeights: readonly number[];
}

/** Options of `makeWorld`. */
export interface WorldOptions {
  readonly seed: number;
  /** IPv4 client prefixes routed at the start. */
  readonly prefixes: number;
  /** IPv6 client prefixes routed at the start. */
  readonly prefixes6: number;
  /** Unrouted prefixes kept for new announcements, per family. */
  readonly spare: number;
  readonly spare6: number;
  /** Share of the queries sent by IPv6 clients. */
  readonly ipv6Share: number;
  /** Zipf exponent of the query weights (1: the k-th prefix gets 1/k of the first's share). */
  readonly zipf: number;
}

/** First origin AS of the IPv6 client prefixes (private 4-byte range, RFC 6996): each has one of its own. */
export const IPV6_ORIGIN_BASE = 4_200_200_000;

type Drawn = Omit<WorldPrefix, 'weight'>;

/**
 * IPv4 prefixes from /12 to /24 of the RIB dump whose first /24 geoip-lite places in one spot,
 * pairwise disjoint (so each client /24 has one routed prefix), in random order.
 */
function drawIpv4(random: () => number, want: number): Drawn[] {
  const table = defaultGeoTable();
  const routes = realIpv4Routes().filter((r) => {
    const len = Number(r.prefix.split('/')[1]);
    return len >= 12 && len <= 24 && r.asPath.length > 0;
  });
  // Fisher-Yates on indices, then take disjoint ones in that order.
  const order = routes.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const taken: { start: number; end: number }[] = [];
  const overlaps = (s: number, e: number): boolean => taken.some((t) => s <= t.end && e >= t.start);
  const picked: Drawn[] = [];
  for (const i of order) {
    if (picked.length >= want) break;
    const r = routes[i]!;
    const [ip, lenText] = r.prefix.split('/') as [string, string];
    const len = Number(lenText);
    const start = ipv4ToNumber(ip);
    const end = (start + 2 ** (32 - len) - 1) >>> 0;
    if (overlaps(start, end)) continue;
    const loc = table.lookup(numberToIpv4(start));
    if (!loc || !loc.country || !loc.continent) continue;
    // The whole first /24 must be one location in geoip-lite, so the ECS /24's truth is the prefix's.
    const last24 = table.lookup(numberToIpv4(start + 255));
    if (!last24 || last24.lat !== loc.lat || last24.lon !== loc.lon) continue;
    taken.push({ start, end });
    picked.push({
      family: 4, prefix: r.prefix, subnet: `${numberToIpv4(start)}/24`, first: numberToIpv4(start), last: numberToIpv4(end), asPath: r.asPath,
      place: { lat: loc.lat, lon: loc.lon, country: loc.country, continent: loc.continent },
    });
  }
  if (picked.length < want) throw new Error(`the RIB dump gave only ${picked.length} usable IPv4 prefixes, ${want} wanted`);
  return picked;
}

// geoip-lite's IPv6 city records (geoip-city6.dat): first and last address (16 bytes each), then location fields; 48 bytes each.
const V6_RECORD = 48;

/**
 * IPv6 prefixes from geoip-lite's own IPv6 ranges (the RIB dump holds too few): the widest
 * aligned block at the start of a random global-unicast range, from /32 to /48, so each lies in
 * one range and has one place, and prefixes of different ranges never overlap. Clients send
 * the prefix's first /56 as ECS source (what resolvers send for IPv6, RFC 7871 11.1). Each
 * prefix is originated by an AS of its own behind AS3356.
 */
function drawIpv6(random: () => number, want: number): Drawn[] {
  if (want === 0) return [];
  const table = defaultGeoTable();
  const file = readFileSync(join(geoipLiteDataDir(), 'geoip-city6.dat'));
  const n = Math.floor(file.length / V6_RECORD);
  const seen = new Set<number>();
  const picked: Drawn[] = [];
  for (let tries = 0; picked.length < want && tries < 50 * want; tries++) {
    const k = Math.floor(random() * n);
    if (seen.has(k)) continue;
    seen.add(k);
    const start = v6WordsOf(file, k * V6_RECORD);
    const end = v6WordsOf(file, k * V6_RECORD + 16);
    // Global unicast (2000::/3) only, so no address is read as IPv4-mapped or special.
    if (start[0] >>> 29 !== 1) continue;
    const widest = widestPrefixWithinV6(start, start, end);
    if (widest > 48) continue;
    const len = Math.max(32, widest);
    const loc = table.lookup(formatIpv6(start));
    if (!loc || !loc.country || !loc.continent || (loc.lat === 0 && loc.lon === 0)) continue;
    const first = formatIpv6(v6BlockStart(start, len));
    if (first !== formatIpv6(start)) continue;
    picked.push({
      family: 6, prefix: `${first}/${len}`, subnet: `${first}/56`, first, last: formatIpv6(v6BlockEnd(start, len)),
      asPath: [3356, IPV6_ORIGIN_BASE + picked.length], place: { lat: loc.lat, lon: loc.lon, country: loc.country, continent: loc.continent },
    });
  }
  if (picked.length < want) throw new Error(`geoip-lite gave only ${picked.length} usable IPv6 prefixes, ${want} wanted`);
  return picked;
}

/**
 * Draws the world: IPv4 prefixes of the RIB dump and IPv6 prefixes of geoip-lite's ranges, each
 * at geoip-lite's place of its first address; within each family weights follow the random rank
 * (Zipf), so which prefixes are heavy is the seed's choice, and IPv6 clients send `ipv6Share` of
 * the queries.
 */
export function makeWorld(o: WorldOptions): World {
  const random = rng(o.seed);
  const out = { prefixes: [] as WorldPrefix[], spare: [] as WorldPrefix[] };
  const families: [Drawn[], number, number][] = [
    [drawIpv4(random, o.prefixes + o.spare), o.spare, 1 - o.ipv6Share],
    [drawIpv6(rng(o.seed ^ 0x6666), o.prefixes6 + o.spare6), o.spare6, o.ipv6Share],
  ];
  for (const [picked, spare, share] of families) {
    if (picked.length === 0) continue;
    const raw = picked.map((_, k) => 1 / (k + 1) ** o.zipf);
    const total = raw.reduce((a, b) => a + b, 0);
    const withWeights = picked.map((p, k) => ({ ...p, weight: (share * raw[k]!) / total }));
    // Spare prefixes are drawn from the whole rank range, so a new prefix may be a heavy one.
    const spareIdx = new Set<number>();
    while (spareIdx.size < spare) spareIdx.add(Math.floor(random() * picked.length));
    out.prefixes.push(...withWeights.filter((_, k) => !spareIdx.has(k)));
    out.spare.push(...withWeights.filter((_, k) => spareIdx.has(k)));
  }
  return { seed: o.seed, ...out, workloadWeights: WORKLOAD_NAMES.map((n) => WORKLOAD_WEIGHTS[n]!) };
}

/** The origin AS of a path. */
export function originOf(asPath: readonly number[]): number {
  return asPath[asPath.length - 1]!;
}
