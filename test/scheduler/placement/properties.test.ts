import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { CLOUD_IDS, publicPartition, type Arch, type CloudId, type Continent, type Region, type ResolvedSize } from '../../../providers';
import { maxPerRegionFor, parsePolicy, type RegionPolicy, type RegionPolicySpec } from '../../../policies';
import { place, staticCatalog, type Exclusion, type Placement, type PlacementResult, type Workload } from '../../../scheduler/placement';

// Property tests: random catalogs, policies, workloads and exclusions, checked against an
// independent oracle of which regions are eligible and whether any placement can exist.

const COUNTRIES: readonly [string, Continent, number, number][] = [
  ['DE', 'EU', 50, 8], ['FR', 'EU', 48, 2], ['US', 'NA', 39, -77], ['JP', 'AS', 35, 139],
  ['CN', 'AS', 31, 121], ['BR', 'SA', -23, -46], ['AU', 'OC', -33, 151], ['ZA', 'AF', -26, 28],
];
const TYPES: readonly { name: string; vcpu: number; memoryGiB: number; arch: Arch; usd: number }[] = [
  { name: 't.small', vcpu: 1, memoryGiB: 2, arch: 'x86_64', usd: 0.02 },
  { name: 't.medium', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usd: 0.04 },
  { name: 'g.medium', vcpu: 2, memoryGiB: 4, arch: 'arm64', usd: 0.034 },
  { name: 'm.large', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usd: 0.16 },
  { name: 'g.large', vcpu: 4, memoryGiB: 16, arch: 'arm64', usd: 0.13 },
  { name: 'c.xlarge', vcpu: 8, memoryGiB: 16, arch: 'x86_64', usd: 0.3 },
];
const REGION_IDS = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];

interface World {
  readonly regions: readonly Region[];
  readonly sizes: readonly ResolvedSize[];
}

const worldArb: fc.Arbitrary<World> = fc.uniqueArray(
  fc.record({
    cloud: fc.constantFrom(...CLOUD_IDS), id: fc.constantFrom(...REGION_IDS), country: fc.integer({ min: 0, max: COUNTRIES.length - 1 }),
    types: fc.subarray([0, 1, 2, 3, 4, 5], { minLength: 2 }), factor: fc.integer({ min: 50, max: 200 }),
  }),
  { minLength: 1, maxLength: 14, selector: (r) => `${r.cloud}:${r.id}` },
).map((rows) => ({
  regions: rows.map((r) => {
    const [country, continent, lat, lon] = COUNTRIES[r.country];
    return { cloud: r.cloud, id: r.id, name: r.id, country, continent, lat, lon, partition: publicPartition(r.cloud), access: 'default' as const };
  }),
  sizes: rows.flatMap((r) => r.types.map((t) => ({
    cloud: r.cloud, region: r.id, name: TYPES[t].name, vcpu: TYPES[t].vcpu, memoryGiB: TYPES[t].memoryGiB, arch: TYPES[t].arch,
    usdPerHour: Math.round(TYPES[t].usd * r.factor * 100) / 10_000,
  }))),
}));

const regionPatternArb = fc.oneof(
  fc.constantFrom(...REGION_IDS),
  fc.tuple(fc.constantFrom(...CLOUD_IDS), fc.constantFrom(...REGION_IDS)).map(([c, r]) => `${c}:${r}`),
  fc.constant('r*'), fc.constantFrom('r1*', 'r?'),
);

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
// A rule present about one time in three, so that a fair share of the random cases can be placed.
const rare = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: a, weight: 1 });

const specArb: fc.Arbitrary<RegionPolicySpec> = fc.record({
  clouds: rare(fc.record({ allow: opt(fc.subarray([...CLOUD_IDS], { minLength: 1 })), deny: opt(fc.subarray([...CLOUD_IDS])) })),
  regions: rare(fc.record({ allow: opt(fc.array(regionPatternArb, { minLength: 1, maxLength: 4 })), deny: opt(fc.array(regionPatternArb, { maxLength: 2 })) })),
  residency: rare(fc.record({
    countries: opt(fc.subarray(COUNTRIES.map((c) => c[0]), { minLength: 1 })),
    continents: opt(fc.subarray(['EU', 'NA', 'AS', 'SA', 'OC', 'AF'] as Continent[], { minLength: 1 })),
  })),
  spread: opt(fc.record({
    minClouds: opt(fc.integer({ min: 1, max: 3 })), minRegions: opt(fc.integer({ min: 1, max: 6 })),
    maxPerRegion: opt(fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`))),
  })),
  weights: rare(fc.tuple(
    fc.record({ aws: fc.integer({ min: 0, max: 3 }), azure: fc.integer({ min: 0, max: 3 }) }),
    fc.dictionary(fc.constantFrom(...REGION_IDS), fc.integer({ min: 0, max: 4 }), { maxKeys: 3 }),
  ).map(([clouds, regions]) => [{ by: 'cloud' as const, ...clouds }, { by: 'region' as const, ...regions }])),
  objective: fc.constantFrom('cost' as const, 'latency' as const, 'balanced' as const),
  demand: rare(fc.subarray(COUNTRIES.map((c) => c[0]), { minLength: 1 }).map((cs) => cs.map((country) => ({ country, share: 1 / cs.length })))),
  failover: rare(fc.record({
    order: fc.array(fc.uniqueArray(fc.constantFrom(...REGION_IDS), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 }),
    failback: fc.boolean(),
  })),
}).map((s) => defined({
  ...s,
  clouds: s.clouds && (s.clouds.allow || s.clouds.deny) ? defined(s.clouds) : undefined,
  regions: s.regions && (s.regions.allow || s.regions.deny) ? defined(s.regions) : undefined,
  residency: s.residency && (s.residency.countries || s.residency.continents) ? defined(s.residency) : undefined,
  spread: s.spread ? defined(s.spread) : undefined,
}));

function asPolicy(spec: RegionPolicySpec): RegionPolicy {
  return { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'p' }, spec };
}

const workloadArb = fc.record({
  replicas: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 60 })),
  vcpu: fc.constantFrom(1, 2, 2, 4, 4, 8), memoryGiB: fc.constantFrom(1, 2, 4, 4, 16), arch: rare(fc.constantFrom('x86_64' as const, 'arm64' as const)),
  images: fc.oneof({ arbitrary: fc.constant<CloudId[]>([...CLOUD_IDS]), weight: 2 }, { arbitrary: fc.subarray<CloudId>([...CLOUD_IDS]), weight: 1 }),
}).map((w): Workload => ({
  name: 'w', replicas: w.replicas, policy: 'p', size: defined({ vcpu: w.vcpu, memoryGiB: w.memoryGiB, arch: w.arch }),
  image: Object.fromEntries(w.images.map((c) => [c, `img-${c}`])),
}));

const exclusionsArb = (world: World): fc.Arbitrary<Exclusion[]> => (world.regions.length === 0 ? fc.constant([]) : fc.array(
  fc.record({ r: fc.integer({ min: 0, max: world.regions.length - 1 }), size: opt(fc.constantFrom(...TYPES.map((t) => t.name))) }),
  { maxLength: 3 },
).map((xs) => xs.map(({ r, size }) => defined({ cloud: world.regions[r].cloud, region: world.regions[r].id, size, reason: 'test' }))));

// --- The oracle: written from the policy language's rules, not from the engine's code. ---

function globMatch(pattern: string, cloud: CloudId, id: string): boolean {
  const [c, r] = pattern.includes(':') ? pattern.split(':') : [undefined, pattern];
  if (c !== undefined && c !== cloud) return false;
  if (r.endsWith('*')) return id.startsWith(r.slice(0, -1));
  if (r.length === 2 && r.endsWith('?')) return id.length === 2 && id[0] === r[0];
  return id === r;
}

function oracleEligible(world: World, spec: RegionPolicySpec, w: Workload, ex: readonly Exclusion[]): Region[] {
  const req = w.size as { vcpu: number; memoryGiB: number; arch?: Arch };
  return world.regions.filter((r) => {
    if (!w.image[r.cloud]) return false;
    if (ex.some((e) => e.cloud === r.cloud && e.region === r.id && e.size === undefined)) return false;
    const fitting = world.sizes.filter((s) => s.cloud === r.cloud && s.region === r.id && s.vcpu >= req.vcpu && s.memoryGiB >= req.memoryGiB &&
      (!req.arch || s.arch === req.arch) && !ex.some((e) => e.cloud === r.cloud && e.region === r.id && e.size === s.name));
    if (fitting.length === 0) return false;
    if (spec.clouds?.allow && !spec.clouds.allow.includes(r.cloud)) return false;
    if (spec.clouds?.deny?.includes(r.cloud)) return false;
    if (spec.regions?.allow && !spec.regions.allow.some((p) => globMatch(p, r.cloud, r.id))) return false;
    if (spec.regions?.deny?.some((p) => globMatch(p, r.cloud, r.id))) return false;
    const res = spec.residency;
    if (res && !(res.countries?.includes(r.country) || res.continents?.includes(r.continent))) return false;
    for (const level of spec.weights ?? []) {
      const key = level.by === 'cloud' ? r.cloud : r.id;
      if (level[key] === 0) return false;
    }
    return true;
  });
}

function limitsOf(p: RegionPolicy, replicas: number) {
  return { minClouds: p.spec.spread?.minClouds ?? 1, minRegions: p.spec.spread?.minRegions ?? 1, cap: maxPerRegionFor(p, replicas) };
}

function oracleFeasible(eligible: readonly Region[], p: RegionPolicy, replicas: number): boolean {
  if (replicas === 0) return true;
  const { minClouds, minRegions, cap } = limitsOf(p, replicas);
  const clouds = new Set(eligible.map((r) => r.cloud)).size;
  return eligible.length >= minRegions && clouds >= minClouds && replicas >= Math.max(minRegions, minClouds) && eligible.length * cap >= replicas;
}

function checkSpread(pl: Placement, p: RegionPolicy, replicas: number): void {
  const { minClouds, minRegions, cap } = limitsOf(p, replicas);
  assert.equal(pl.assignments.reduce((s, a) => s + a.replicas, 0), replicas);
  if (replicas === 0) return assert.equal(pl.assignments.length, 0);
  const keys = pl.assignments.map((a) => `${a.cloud}:${a.region}`);
  assert.equal(new Set(keys).size, keys.length, 'one assignment per region');
  assert.ok(pl.assignments.every((a) => a.replicas >= 1 && a.replicas <= cap), `cap ${cap}: ${JSON.stringify(pl.assignments)}`);
  assert.ok(pl.assignments.length >= minRegions, `minRegions ${minRegions}`);
  assert.ok(new Set(pl.assignments.map((a) => a.cloud)).size >= minClouds, `minClouds ${minClouds}`);
}

const RUNS = { numRuns: 400, seed: 20261123 };

describe('scheduler/placement properties', () => {
  it('never violates residency or any other rule, and meets the spread whenever it places', () => {
    fc.assert(fc.property(worldArb, specArb, workloadArb, (world, spec, w) => {
      const p = asPolicy(spec);
      const r = place(w, p, {}, { catalog: staticCatalog(world.regions, world.sizes) });
      if (!r.ok) return;
      const eligible = new Set(oracleEligible(world, spec, w, []).map((x) => `${x.cloud}:${x.id}`));
      for (const a of r.placement.assignments) {
        const region = world.regions.find((x) => x.cloud === a.cloud && x.id === a.region);
        assert.ok(region, `${a.cloud}:${a.region} is not in the catalog`);
        if (spec.residency) {
          assert.ok(spec.residency.countries?.includes(region.country) || spec.residency.continents?.includes(region.continent),
            `residency violated by ${a.cloud}:${a.region} in ${region.country}`);
        }
        assert.ok(eligible.has(`${a.cloud}:${a.region}`), `${a.cloud}:${a.region} breaks a rule`);
      }
      checkSpread(r.placement, p, w.replicas);
    }), RUNS);
  });

  it('places exactly when a placement exists, and otherwise names a constraint and places nothing', () => {
    fc.assert(fc.property(worldArb.chain((world) => fc.tuple(fc.constant(world), specArb, workloadArb, exclusionsArb(world))), ([world, spec, w, ex]) => {
      const p = asPolicy(spec);
      const r: PlacementResult = place(w, p, { exclusions: ex }, { catalog: staticCatalog(world.regions, world.sizes) });
      const feasible = oracleFeasible(oracleEligible(world, spec, w, ex), p, w.replicas);
      assert.equal(r.ok, feasible, r.ok ? 'placed although no placement exists' : `refused a feasible placement: ${r.constraint}: ${r.reason}`);
      if (r.ok) checkSpread(r.placement, p, w.replicas);
      else {
        assert.ok(r.constraint.length > 0 && r.reason.length > 0);
        assert.ok(!('placement' in r), 'a failed placement carries no partial placement');
      }
    }), RUNS);
  });

  it('moves no replica when one is added, and stays valid from any current placement', () => {
    fc.assert(fc.property(worldArb, specArb, workloadArb, fc.array(fc.record({ r: fc.nat(), n: fc.integer({ min: 1, max: 9 }) }), { maxLength: 4 }),
      (world, spec, w, noise) => {
        const p = asPolicy(spec);
        const catalog = staticCatalog(world.regions, world.sizes);
        const before = place(w, p, {}, { catalog });
        if (!before.ok) return;
        const grown = place({ ...w, replicas: w.replicas + 1 }, p, { current: before.placement }, { catalog });
        if (grown.ok) {
          checkSpread(grown.placement, p, w.replicas + 1);
          for (const a of before.placement.assignments) {
            const now = grown.placement.assignments.find((x) => x.cloud === a.cloud && x.region === a.region);
            assert.ok(now && now.replicas >= a.replicas && now.size === a.size, `${a.cloud}:${a.region} lost replicas on scale-up`);
          }
        }
        // An arbitrary, possibly invalid current placement never leads to a placement that breaks the rules.
        if (world.regions.length === 0) return;
        const assignments = noise.map(({ r, n }) => {
          const region = world.regions[r % world.regions.length];
          return { cloud: region.cloud, region: region.id, size: TYPES[r % TYPES.length].name, replicas: n, usdPerHour: 0.1 };
        });
        const again = place(w, p, { current: { workload: 'w', assignments, usdPerHour: 0 } }, { catalog });
        assert.equal(again.ok, true);
        if (again.ok) checkSpread(again.placement, p, w.replicas);
      }), RUNS);
  });

  it('is deterministic for equal inputs', () => {
    fc.assert(fc.property(worldArb, specArb, workloadArb, (world, spec, w) => {
      const a = place(w, asPolicy(spec), {}, { catalog: staticCatalog(world.regions, world.sizes) });
      const b = place(w, asPolicy(structuredClone(spec)), {}, { catalog: staticCatalog(world.regions.map((r) => ({ ...r })), world.sizes) });
      assert.deepEqual(a, b);
    }), { numRuns: 200, seed: 7 });
  });

  it('parsePolicy never throws on generated policies and gives every error a path and a message', () => {
    fc.assert(fc.property(worldArb, specArb, (world, spec) => {
      const r = parsePolicy(asPolicy(spec), { regions: world.regions });
      if (r.ok) return;
      // Every error it reports has a path under the document and a message.
      for (const e of r.errors) assert.ok(e.path.startsWith('/') && e.message.length > 0, JSON.stringify(e));
    }), { numRuns: 300, seed: 11 });
  });
});
