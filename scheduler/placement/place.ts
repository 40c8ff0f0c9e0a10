import { CLOUD_IDS, greatCircleKm, regionDenial, type CloudId, type RegionAccount, type ResolvedSize } from '../../providers';
import { compilePolicy, evaluate, maxPerRegionFor, policyRejections, type RegionPolicy, type ScoredCandidate } from '../../policies';
import { providerCatalog, type PlacementCatalog } from './catalog';
import { apportion, cloudCount, fillInOrder, regionsNeeded, selectRegions, type SpreadLimits } from './divide';
import { minimalMove, satisfies } from './movement';
import { cacheFor, checksFor, indexExclusions, keepableSize, regionKey, resolveIn, type Eligible } from './resolve';
import type { Placement, PlacementContext, PlacementResult, RegionAssignment, Rejection, Workload } from './types';

/** Options beyond the placement context, for tests and tools. */
export interface PlaceOptions {
  /** Regions and sizes to choose from; the providers' catalog by default. */
  readonly catalog?: PlacementCatalog;
  /**
   * The cloud accounts replicas go to: only regions of their partitions, and opt-in or
   * access-restricted regions only when enabled. By default, public partitions with nothing enabled.
   */
  readonly account?: RegionAccount;
}

/** The account placement assumes when none is given: public partitions, no opt-in region enabled. */
export const DEFAULT_ACCOUNT: RegionAccount = Object.freeze({});

/** Stable names of the constraints a failed placement reports. */
export const PLACEMENT_CONSTRAINTS = Object.freeze({
  replicas: 'replicas',
  eligibility: 'eligibility',
  minClouds: 'spread.minClouds',
  minRegions: 'spread.minRegions',
  maxPerRegion: 'spread.maxPerRegion',
} as const);

// Demand points at least this share of the users get a nearby region of their own under `balanced`
// (under `latency`, every demand point does); smaller markets are served from the nearest chosen one.
const BALANCED_DEMAND_SHARE = 0.15;

interface Slot {
  readonly key: string;
  readonly cloud: CloudId;
  readonly rank: number;
  readonly tier: number;
  readonly scored: ScoredCandidate<Eligible>;
}

function fail(constraint: string, reason: string, rejected: readonly Rejection[]): PlacementResult {
  return { ok: false, constraint, reason, rejected };
}

function summarize(rejected: readonly Rejection[]): string {
  const byRule = new Map<string, Set<string>>();
  for (const r of rejected) {
    let s = byRule.get(r.rule);
    if (!s) byRule.set(r.rule, (s = new Set()));
    s.add(regionKey(r.cloud, r.region));
  }
  return [...byRule].map(([rule, set]) => `${set.size} by ${rule}`).join(', ');
}

/** Targets for proportional division: hierarchical weights (cloud, then region within it), else demand served, else even. */
function targetsFor(chosen: readonly Slot[], policy: RegionPolicy): number[] | 'fill' {
  const c = compilePolicy(policy);
  if (c.hasWeights) {
    const cloudTotal = new Map<CloudId, number>();
    const regionTotal = new Map<CloudId, number>();
    for (const s of chosen) {
      cloudTotal.set(s.cloud, s.scored.cloudWeight);
      regionTotal.set(s.cloud, (regionTotal.get(s.cloud) ?? 0) + s.scored.regionWeight);
    }
    const sumClouds = [...cloudTotal.values()].reduce((a, b) => a + b, 0);
    return chosen.map((s) => (s.scored.cloudWeight / sumClouds) * (s.scored.regionWeight / (regionTotal.get(s.cloud) ?? 1)));
  }
  if (c.objective === 'cost') return 'fill';
  if (c.demand.length === 0) return chosen.map(() => 1);
  const served = chosen.map(() => 1e-6);
  for (const d of c.demand) {
    let best = 0;
    let bestKm = Number.POSITIVE_INFINITY;
    chosen.forEach((s, i) => {
      const km = greatCircleKm(d.at.lat, d.at.lon, s.scored.candidate.lat, s.scored.candidate.lon);
      if (km < bestKm) { bestKm = km; best = i; }
    });
    served[best] += d.share;
  }
  return served;
}

/** Regions nearest each significant demand point, biggest market first (latency and balanced objectives). */
function wantedNearUsers(pool: readonly Slot[], policy: RegionPolicy): Slot[] {
  const c = compilePolicy(policy);
  if (c.objective === 'cost' || pool.length === 0) return [];
  const minShare = c.objective === 'latency' ? 0 : BALANCED_DEMAND_SHARE;
  const points = [...c.demand].filter((d) => d.share >= minShare).sort((a, b) => b.share - a.share || (a.country < b.country ? -1 : 1));
  return points.map((d) => {
    let best = pool[0];
    let bestKm = Number.POSITIVE_INFINITY;
    for (const s of pool) {
      const km = greatCircleKm(d.at.lat, d.at.lon, s.scored.candidate.lat, s.scored.candidate.lon);
      if (km < bestKm - 1e-9) { bestKm = km; best = s; }
    }
    return best;
  });
}

/** The fresh division over `pool`, ignoring today's placement. */
function freshCounts(pool: readonly Slot[], limits: SpreadLimits, policy: RegionPolicy): Map<string, number> {
  const chosen = selectRegions(pool, limits, wantedNearUsers(pool, policy));
  const targets = targetsFor(chosen, policy);
  const counts = targets === 'fill'
    ? fillInOrder(limits.replicas, chosen.length, limits.cap)
    : apportion(limits.replicas, targets, limits.cap);
  return new Map(chosen.map((s, i) => [s.key, counts[i]]));
}

/**
 * Places a workload's replicas under a region policy.
 *
 * Filter: catalog regions the account can use (`opts.account`), of clouds with an image, where the size resolves (cheapest fitting type
 * not excluded), not excluded by `ctx.exclusions`, and passing every policy rule. Score: price,
 * demand-weighted distance and weights per the objective. Divide: meet `minClouds`, `minRegions`
 * and `maxPerRegion`, using later failover tiers only when earlier ones cannot; split by weights,
 * demand, or cheapest-first for `cost`. Keep `ctx.current` wherever it is still valid (with
 * `failback`, replicas in a later tier than needed are moved back). Deterministic; never throws
 * for a domain failure: when the hard constraints cannot be met, nothing is placed and the result
 * names the constraint and why.
 */
export function place(workload: Workload, policy: RegionPolicy, ctx: PlacementContext = {}, opts: PlaceOptions = {}): PlacementResult {
  const catalog = opts.catalog ?? providerCatalog();
  const account = opts.account ?? DEFAULT_ACCOUNT;
  const ex = indexExclusions(ctx.exclusions ?? []);
  const rejected: Rejection[] = [];
  const passing: Eligible[] = [];
  const cache = cacheFor(catalog);
  const checks = checksFor(cache, workload.size);
  for (let i = 0; i < cache.regions.length; i++) {
    const region = cache.regions[i];
    const key = cache.keys[i];
    const sizeExcluded = ex.sizes.size > 0 ? ex.sizes.get(key) : undefined;
    const check = sizeExcluded
      ? resolveIn(workload, region, key, catalog.sizes(region.cloud, region.id), sizeExcluded)
      : (checks[i] ??= resolveIn(workload, region, key, catalog.sizes(region.cloud, region.id)));
    const hasImage = Boolean(workload.image[region.cloud]);
    const regionExcluded = ex.regions.size > 0 ? ex.regions.get(key) : undefined;
    const denied = regionDenial(account, region);
    if (check.candidate && hasImage && !regionExcluded && !denied) {
      passing.push(check.candidate);
      continue;
    }
    // Left out: report every rule, the account's, the policy's and the workload's.
    if (denied) rejected.push({ cloud: region.cloud, region: region.id, rule: 'account', reason: `${key}: ${denied.reason}` });
    for (const r of policyRejections(policy, region)) rejected.push(r);
    if (!hasImage) rejected.push({ cloud: region.cloud, region: region.id, rule: 'image', reason: `the workload has no image for ${region.cloud}` });
    if (regionExcluded) {
      rejected.push({ cloud: region.cloud, region: region.id, rule: 'exclusion', reason: `${region.cloud} region ${region.id} is excluded: ${regionExcluded.reason}` });
    }
    if (check.rejection) rejected.push(check.rejection);
  }
  const evaluation = evaluate(policy, passing);
  rejected.push(...evaluation.rejected);
  const replicas = workload.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    return fail(PLACEMENT_CONSTRAINTS.replicas, `replicas must be a whole number >= 0, got ${String(replicas)}`, rejected);
  }
  if (replicas === 0) {
    return { ok: true, placement: { workload: workload.name, assignments: [], usdPerHour: 0 }, rejected };
  }
  const c = compilePolicy(policy);
  const limits: SpreadLimits = { replicas, minClouds: c.minClouds, minRegions: c.minRegions, cap: maxPerRegionFor(policy, replicas) };
  const all: Slot[] = evaluation.eligible.map((scored, rank) => ({ key: scored.candidate.key, cloud: scored.candidate.cloud, rank, tier: scored.tier, scored }));

  if (all.length === 0) {
    return fail(PLACEMENT_CONSTRAINTS.eligibility, `no region can run ${workload.name}: ${summarize(rejected) || 'the catalog has no regions'}`, rejected);
  }
  const eligibleClouds = CLOUD_IDS.filter((cloud) => all.some((s) => s.cloud === cloud));
  if (c.minClouds > eligibleClouds.length) {
    return fail(PLACEMENT_CONSTRAINTS.minClouds,
      `spread.minClouds needs ${c.minClouds} clouds but only ${eligibleClouds.join(', ')} ${eligibleClouds.length === 1 ? 'has' : 'have'} eligible regions`, rejected);
  }
  if (c.minClouds > replicas) {
    return fail(PLACEMENT_CONSTRAINTS.minClouds, `spread.minClouds needs ${c.minClouds} clouds with a replica each, but ${workload.name} has ${replicas} replica(s)`, rejected);
  }
  if (c.minRegions > all.length) {
    return fail(PLACEMENT_CONSTRAINTS.minRegions,
      `spread.minRegions needs ${c.minRegions} regions but only ${all.length} ${all.length === 1 ? 'is' : 'are'} eligible: ${all.map((s) => s.key).join(', ')}`, rejected);
  }
  if (c.minRegions > replicas) {
    return fail(PLACEMENT_CONSTRAINTS.minRegions, `spread.minRegions needs ${c.minRegions} regions with a replica each, but ${workload.name} has ${replicas} replica(s)`, rejected);
  }
  if (all.length * limits.cap < replicas) {
    const m = c.maxPerRegion;
    const how = m?.kind === 'percent' ? `${limits.cap} (${m.percent}% of ${replicas}, rounded down)` : `${limits.cap}`;
    return fail(PLACEMENT_CONSTRAINTS.maxPerRegion,
      `spread.maxPerRegion allows ${how} replicas per region, so ${replicas} replicas need ${Math.ceil(replicas / limits.cap)} regions; only ${all.length} ${all.length === 1 ? 'is' : 'are'} eligible`, rejected);
  }

  // The fewest failover tiers that can meet the constraints (the checks above guarantee all of them can).
  const need = regionsNeeded(limits);
  const tiers = [...new Set(all.map((s) => s.tier))].sort((x, y) => x - y);
  let maxTier = tiers[tiers.length - 1];
  for (const t of tiers) {
    const pool = all.filter((s) => s.tier <= t);
    if (pool.length >= need && cloudCount(pool) >= c.minClouds) { maxTier = t; break; }
  }
  const pool = all.filter((s) => s.tier <= maxTier);
  const slots = new Map(all.map((s) => [s.key, s]));
  const target = freshCounts(pool, limits, policy);

  // Today's placement, where still valid: an eligible region, a size that still fits, and (with failback) a tier in use.
  const current = new Map<string, number>();
  const keptSize = new Map<string, ResolvedSize>();
  if (ctx.current && ctx.current.workload === workload.name) {
    for (const a of ctx.current.assignments) {
      const k = regionKey(a.cloud, a.region);
      const slot = slots.get(k);
      if (!slot || a.replicas <= 0 || keptSize.has(k)) continue;
      if (c.failback && slot.tier > maxTier) continue;
      const size = keepableSize(workload, a, catalog, ex);
      if (!size) continue;
      keptSize.set(k, size);
      current.set(k, a.replicas);
    }
  }
  const keepPool = all.filter((s) => s.tier <= maxTier || current.has(s.key));
  let counts = current.size > 0 ? minimalMove(current, target, slots, keepPool, limits) : target;
  if (!satisfies(counts, slots, limits)) {
    // Today's placement cannot be repaired within the constraints without more moves: start fresh.
    counts = target;
  }
  if (!satisfies(counts, slots, limits)) {
    throw new Error(`placement of ${workload.name} broke its own spread constraints: ${JSON.stringify([...counts])}`);
  }

  const assignments: RegionAssignment[] = [];
  for (const [k, n] of counts) {
    const slot = slots.get(k);
    if (!slot) continue;
    const size = keptSize.get(k) ?? slot.scored.candidate.resolved;
    assignments.push({ cloud: slot.cloud, region: slot.scored.candidate.id, size: size.name, replicas: n, usdPerHour: size.usdPerHour });
  }
  assignments.sort((x, y) => CLOUD_IDS.indexOf(x.cloud) - CLOUD_IDS.indexOf(y.cloud) || (x.region < y.region ? -1 : x.region > y.region ? 1 : 0));
  const usdPerHour = Math.round(assignments.reduce((s, a) => s + a.replicas * a.usdPerHour, 0) * 10_000) / 10_000;
  const placement: Placement = { workload: workload.name, assignments, usdPerHour };
  return { ok: true, placement, rejected };
}
