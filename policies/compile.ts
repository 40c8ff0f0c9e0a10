import { greatCircleKm, type CloudId } from '../providers';
import { countryLocation, type LatLon } from './countries';
import { compileRegionPattern, globMatcher, type RegionMatcher } from './patterns';
import type { Objective, RegionPolicy } from './schema';

/** The per-region limit of a spread constraint: a replica count, or a percentage of the replicas. */
export type MaxPerRegion = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'percent'; readonly percent: number };

/** A policy turned into matchers and numbers once, so evaluation stays cheap. */
export interface CompiledPolicy {
  readonly name: string;
  readonly cloudAllow?: readonly { readonly source: string; readonly test: (cloud: string) => boolean }[];
  readonly cloudDeny: readonly { readonly source: string; readonly test: (cloud: string) => boolean }[];
  readonly regionAllow?: readonly RegionMatcher[];
  readonly regionDeny: readonly RegionMatcher[];
  readonly residencyCountries?: ReadonlySet<string>;
  readonly residencyContinents?: ReadonlySet<string>;
  readonly cloudWeights: ReadonlyMap<string, number>;
  readonly regionWeights: readonly { readonly matcher: RegionMatcher; readonly weight: number }[];
  readonly hasWeights: boolean;
  /** Failover tiers in order; empty when the policy has no failover order. */
  readonly tiers: readonly (readonly RegionMatcher[])[];
  readonly failback: boolean;
  readonly provisionTimeoutSeconds?: number;
  readonly objective: Objective;
  /** Demand points with their shares, normalized to sum to 1. */
  readonly demand: readonly { readonly country: string; readonly at: LatLon; readonly share: number }[];
  readonly minClouds: number;
  readonly minRegions: number;
  readonly maxPerRegion?: MaxPerRegion;
}

const CACHE = new WeakMap<RegionPolicy, CompiledPolicy>();

/** The compiled form of a validated policy (cached per policy object, which is frozen by `parsePolicy`). */
export function compilePolicy(policy: RegionPolicy): CompiledPolicy {
  const hit = CACHE.get(policy);
  if (hit) return hit;
  const spec = policy.spec;
  const cloudList = (xs: readonly string[]) => xs.map((source) => ({ source, test: globMatcher(source) }));
  const cloudWeights = new Map<string, number>();
  const regionWeights: { matcher: RegionMatcher; weight: number }[] = [];
  for (const level of spec.weights ?? []) {
    for (const [key, value] of Object.entries(level)) {
      if (key === 'by' || typeof value !== 'number') continue;
      if (level.by === 'cloud') cloudWeights.set(key, value);
      else regionWeights.push({ matcher: compileRegionPattern(key), weight: value });
    }
  }
  const located = (spec.demand ?? []).flatMap((d) => {
    const at = countryLocation(d.country);
    return at ? [{ country: d.country, at, share: d.share }] : [];
  });
  const total = located.reduce((s, d) => s + d.share, 0);
  const compiled: CompiledPolicy = {
    name: policy.metadata.name,
    cloudAllow: spec.clouds?.allow ? cloudList(spec.clouds.allow) : undefined,
    cloudDeny: cloudList(spec.clouds?.deny ?? []),
    regionAllow: spec.regions?.allow?.map(compileRegionPattern),
    regionDeny: (spec.regions?.deny ?? []).map(compileRegionPattern),
    residencyCountries: spec.residency?.countries ? new Set(spec.residency.countries) : undefined,
    residencyContinents: spec.residency?.continents ? new Set(spec.residency.continents) : undefined,
    cloudWeights,
    regionWeights,
    hasWeights: (spec.weights ?? []).length > 0,
    tiers: (spec.failover?.order ?? []).map((tier) => tier.map(compileRegionPattern)),
    failback: spec.failover?.failback ?? true,
    provisionTimeoutSeconds: spec.failover?.provisionTimeoutSeconds,
    objective: spec.objective ?? 'balanced',
    demand: total > 0 ? located.map((d) => ({ ...d, share: d.share / total })) : [],
    minClouds: spec.spread?.minClouds ?? 1,
    minRegions: spec.spread?.minRegions ?? 1,
    maxPerRegion: parseMaxPerRegion(spec.spread?.maxPerRegion),
  };
  CACHE.set(policy, compiled);
  return compiled;
}

function parseMaxPerRegion(v: number | string | undefined): MaxPerRegion | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return { kind: 'count', count: v };
  return { kind: 'percent', percent: Number.parseFloat(v) };
}

/**
 * The most replicas one region may hold for a workload of `replicas`: the count, or the
 * percentage of the replicas rounded down but at least 1. Infinity when the policy sets no limit.
 */
export function maxPerRegionFor(policy: RegionPolicy, replicas: number): number {
  const m = compilePolicy(policy).maxPerRegion;
  if (!m) return Number.POSITIVE_INFINITY;
  if (m.kind === 'count') return m.count;
  // The epsilon absorbs binary rounding: a fractional percentage of the replicas can land just below a whole number.
  return Math.max(1, Math.floor((m.percent * replicas) / 100 + 1e-9));
}

/** The cloud weight x region weight of a region (1 when unweighted, 0 excludes it). */
export function weightsOf(c: CompiledPolicy, cloud: CloudId, region: string): { cloud: number; region: number } {
  let regionWeight = 1;
  // The most specific entry wins: an exact, cloud-qualified id over a bare id over a wildcard.
  let best = -1;
  for (const { matcher, weight } of c.regionWeights) {
    if (!matcher.matches(cloud, region)) continue;
    const rank = (matcher.wildcard ? 0 : 2) + (matcher.cloud ? 1 : 0);
    if (rank > best) { best = rank; regionWeight = weight; }
  }
  return { cloud: c.cloudWeights.get(cloud) ?? 1, region: regionWeight };
}

/** The failover tier of a region: its index in `failover.order`, or the count of tiers when it is not listed. */
export function tierOf(c: CompiledPolicy, cloud: CloudId, region: string): number {
  for (let i = 0; i < c.tiers.length; i++) {
    if (c.tiers[i].some((m) => m.matches(cloud, region))) return i;
  }
  return c.tiers.length;
}

/** Demand-weighted great-circle distance in km from the users to a point; undefined without demand. */
export function demandDistanceKm(c: CompiledPolicy, lat: number, lon: number): number | undefined {
  if (c.demand.length === 0) return undefined;
  let km = 0;
  for (const d of c.demand) km += d.share * greatCircleKm(d.at.lat, d.at.lon, lat, lon);
  return km;
}
