import { CLOUD_IDS, type CloudId, type Region } from '../providers';
import { compilePolicy, demandDistanceKm, tierOf, weightsOf, type CompiledPolicy } from './compile';
import type { Objective, RegionPolicy } from './schema';

/** A region offered to a policy, optionally with the price of one replica there. */
export interface Candidate extends Region {
  /** On-demand USD per hour of one replica (the resolved size) in this region. */
  readonly usdPerHour?: number;
}

/** Why a candidate was left out: one entry per rule that rejected it. */
export interface PolicyRejection {
  readonly cloud: CloudId;
  readonly region: string;
  /** The rule, named by its key: `clouds.allow`, `regions.deny`, `residency`, `weights`. */
  readonly rule: string;
  readonly reason: string;
}

/** A candidate that passed every rule, with what its score is made of. */
export interface ScoredCandidate<C extends Candidate = Candidate> {
  readonly candidate: C;
  /** Failover tier: 0 is the most preferred. */
  readonly tier: number;
  readonly cloudWeight: number;
  readonly regionWeight: number;
  /** Demand-weighted great-circle distance from the users, km; undefined when the policy has no demand. */
  readonly demandKm?: number;
  /** In (0, 1] before weights: 1 is the cheapest candidate; 1 when prices are unknown. */
  readonly costScore: number;
  /** In (0, 1]: 1 is the candidate nearest the users; 1 without demand. */
  readonly latencyScore: number;
  /** Objective mix of cost and latency scores times the weights; higher is better. */
  readonly score: number;
}

/** The result of evaluating a policy over candidates. */
export interface Evaluation<C extends Candidate = Candidate> {
  /** Candidates that pass every rule, best first: by tier, then score, then cloud and id. */
  readonly eligible: readonly ScoredCandidate<C>[];
  readonly rejected: readonly PolicyRejection[];
}

// Share of the cost score in the mix, per objective; the rest is the latency score.
const COST_SHARE: Readonly<Record<Objective, number>> = { cost: 0.85, latency: 0.15, balanced: 0.5 };
// A distance offset (km) so that a region 50 km from the users does not score ten times one 500 km away:
// below a few hundred km, network latency is dominated by everything but distance.
const NEAR_KM = 500;

function list(xs: readonly { source: string }[]): string {
  return `[${xs.map((x) => x.source).join(', ')}]`;
}

/** Every rule of the policy that rejects the region (empty when it passes). */
export function rejectionsOf(c: CompiledPolicy, cloud: CloudId, region: string, country: string, continent: string): PolicyRejection[] {
  const out: PolicyRejection[] = [];
  const reject = (rule: string, reason: string) => out.push({ cloud, region, rule, reason });
  if (c.cloudAllow && !c.cloudAllow.some((p) => p.test(cloud))) {
    reject('clouds.allow', `cloud ${cloud} matches no entry of clouds.allow ${list(c.cloudAllow)}`);
  }
  const cloudDenied = c.cloudDeny.find((p) => p.test(cloud));
  if (cloudDenied) reject('clouds.deny', `cloud ${cloud} matches clouds.deny entry '${cloudDenied.source}'`);
  if (c.regionAllow && !c.regionAllow.some((m) => m.matches(cloud, region))) {
    reject('regions.allow', `${cloud} region ${region} matches no entry of regions.allow ${list(c.regionAllow)}`);
  }
  const regionDenied = c.regionDeny.find((m) => m.matches(cloud, region));
  if (regionDenied) reject('regions.deny', `${cloud} region ${region} matches regions.deny entry '${regionDenied.source}'`);
  if (c.residencyCountries || c.residencyContinents) {
    const okCountry = c.residencyCountries?.has(country) ?? false;
    const okContinent = c.residencyContinents?.has(continent) ?? false;
    if (!okCountry && !okContinent) {
      const allowed = [
        c.residencyCountries ? `countries [${[...c.residencyCountries].join(', ')}]` : '',
        c.residencyContinents ? `continents [${[...c.residencyContinents].join(', ')}]` : '',
      ].filter(Boolean).join(' or ');
      reject('residency', `${cloud} region ${region} is in ${country} (${continent}), outside residency ${allowed}`);
    }
  }
  const w = weightsOf(c, cloud, region);
  if (w.cloud === 0) reject('weights', `cloud ${cloud} has weight 0`);
  if (w.region === 0) reject('weights', `${cloud} region ${region} has weight 0`);
  return out;
}

/** What a policy says about one region, independent of the workload: computed once per policy and region. */
interface RegionFacts {
  readonly region: Region;
  readonly rejections: readonly PolicyRejection[];
  readonly tier: number;
  readonly cloudWeight: number;
  readonly regionWeight: number;
  readonly demandKm?: number;
}

const FACTS = new WeakMap<CompiledPolicy, { byObject: WeakMap<Region, RegionFacts>; byKey: Map<string, RegionFacts> }>();

// Policies are frozen and region rows rarely change, so the rules' verdict per region is cached; an
// entry is reused only when the region's location fields are the same as when it was computed.
function factsOf(c: CompiledPolicy, r: Region): RegionFacts {
  let cache = FACTS.get(c);
  if (!cache) FACTS.set(c, (cache = { byObject: new WeakMap(), byKey: new Map() }));
  const same = cache.byObject.get(r);
  if (same) return same;
  const key = `${r.cloud}:${r.id}`;
  const hit = cache.byKey.get(key);
  if (hit && hit.region.country === r.country && hit.region.continent === r.continent && hit.region.lat === r.lat && hit.region.lon === r.lon) {
    // Region objects are treated as immutable (the catalog freezes its rows).
    cache.byObject.set(r, hit);
    return hit;
  }
  const w = weightsOf(c, r.cloud, r.id);
  const facts: RegionFacts = {
    region: { cloud: r.cloud, id: r.id, name: r.name, country: r.country, continent: r.continent, lat: r.lat, lon: r.lon, partition: r.partition, access: r.access },
    rejections: Object.freeze(rejectionsOf(c, r.cloud, r.id, r.country, r.continent).map((x) => Object.freeze(x))),
    tier: tierOf(c, r.cloud, r.id), cloudWeight: w.cloud, regionWeight: w.region, demandKm: demandDistanceKm(c, r.lat, r.lon),
  };
  cache.byKey.set(key, facts);
  cache.byObject.set(r, facts);
  return facts;
}

function cloudRank(cloud: CloudId): number {
  return CLOUD_IDS.indexOf(cloud);
}

/** Orders scored candidates best first: tier, then score, then cloud and region id for determinism. */
export function compareScored(a: ScoredCandidate, b: ScoredCandidate): number {
  return a.tier - b.tier || b.score - a.score || cloudRank(a.candidate.cloud) - cloudRank(b.candidate.cloud) ||
    (a.candidate.id < b.candidate.id ? -1 : a.candidate.id > b.candidate.id ? 1 : 0);
}

/**
 * Applies a policy to candidate regions. Pure: the same inputs give the same output, nothing is
 * thrown for a domain failure (a policy that rejects everything yields no eligible candidate and
 * every reason). Each rejected candidate gets one rejection per rule that rejects it. The policy
 * and regions are treated as immutable (`parsePolicy` freezes policies): verdicts are memoized.
 */
export function evaluate<C extends Candidate>(policy: RegionPolicy, candidates: readonly C[]): Evaluation<C> {
  const c = compilePolicy(policy);
  const rejected: PolicyRejection[] = [];
  const passing: { candidate: C; facts: RegionFacts }[] = [];
  for (const cand of candidates) {
    const facts = factsOf(c, cand);
    if (facts.rejections.length > 0) {
      for (const r of facts.rejections) rejected.push(r);
      continue;
    }
    passing.push({ candidate: cand, facts });
  }
  let minPrice = Number.POSITIVE_INFINITY;
  let minKm = Number.POSITIVE_INFINITY;
  for (const p of passing) {
    if (p.candidate.usdPerHour !== undefined && p.candidate.usdPerHour > 0) minPrice = Math.min(minPrice, p.candidate.usdPerHour);
    if (p.facts.demandKm !== undefined) minKm = Math.min(minKm, p.facts.demandKm);
  }
  const costShare = COST_SHARE[c.objective];
  const eligible: ScoredCandidate<C>[] = passing.map(({ candidate, facts }) => {
    const price = candidate.usdPerHour;
    const costScore = price !== undefined && price > 0 && Number.isFinite(minPrice) ? minPrice / price : 1;
    const latencyScore = facts.demandKm !== undefined ? (minKm + NEAR_KM) / (facts.demandKm + NEAR_KM) : 1;
    const mix = costShare * costScore + (1 - costShare) * latencyScore;
    return {
      candidate, tier: facts.tier, cloudWeight: facts.cloudWeight, regionWeight: facts.regionWeight, demandKm: facts.demandKm,
      costScore, latencyScore, score: mix * facts.cloudWeight * facts.regionWeight,
    };
  });
  eligible.sort(compareScored);
  return { eligible, rejected };
}

/** Every rule of the policy that rejects one region (empty when the region passes). */
export function policyRejections(policy: RegionPolicy, region: Region): readonly PolicyRejection[] {
  return factsOf(compilePolicy(policy), region).rejections;
}
