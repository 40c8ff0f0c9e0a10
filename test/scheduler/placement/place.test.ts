import { strict as assert } from 'node:assert';
import { place, PLACEMENT_CONSTRAINTS, staticCatalog, type Placement, type PlacementResult } from '../../../scheduler/placement';
import { fixtureCatalog, policy, REGIONS, sizesFor, workload } from './fixtures';

const catalog = fixtureCatalog();
const opts = { catalog };

function placed(r: PlacementResult): Placement {
  assert.ok(r.ok, r.ok ? '' : `${r.constraint}: ${r.reason}`);
  return r.placement;
}

function counts(p: Placement): Record<string, number> {
  return Object.fromEntries(p.assignments.map((a) => [`${a.cloud}:${a.region}`, a.replicas]));
}

function total(p: Placement): number {
  return p.assignments.reduce((s, a) => s + a.replicas, 0);
}

describe('scheduler/placement place()', () => {
  it('returns an empty placement for zero replicas', () => {
    const r = place(workload(0), policy({ spread: { minRegions: 3 } }), {}, opts);
    assert.deepEqual(placed(r), { workload: 'web', assignments: [], usdPerHour: 0 });
  });

  it('refuses a replica count that is not a whole number, without throwing', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      const r = place(workload(bad), policy({}), {}, opts);
      assert.ok(!r.ok && r.constraint === PLACEMENT_CONSTRAINTS.replicas, String(bad));
    }
  });

  it('places on the cheapest resolved size and prices the placement', () => {
    const p = placed(place(workload(3, { size: { vcpu: 2, memoryGiB: 4, arch: 'x86_64' } }), policy({ objective: 'cost' }), {}, opts));
    assert.equal(p.assignments.length, 1);
    const [a] = p.assignments;
    assert.equal(a.cloud, 'alibaba');
    assert.equal(a.size, 'ecs.s');
    assert.equal(p.usdPerHour, Math.round(3 * a.usdPerHour * 10_000) / 10_000);
  });

  it('leaves out clouds without an image and regions where the size does not resolve, with a reason for each', () => {
    const w = workload(2, { image: { aws: 'ami-1' }, size: { vcpu: 2, memoryGiB: 4, arch: 'arm64' } });
    const r = place(w, policy({ residency: { continents: ['EU', 'NA', 'AS'] } }), {}, opts);
    const p = placed(r);
    assert.ok(p.assignments.every((a) => a.cloud === 'aws' && a.size === 'g.small'));
    assert.ok(r.rejected.some((x) => x.cloud === 'azure' && x.region === 'westeurope' && x.rule === 'image'));
    // Azure has no arm64 type in the fixture: both rules are reported for its regions.
    assert.ok(r.rejected.some((x) => x.cloud === 'azure' && x.region === 'westeurope' && x.rule === 'size' && /arm64/.test(x.reason)));
  });

  it('reports policy rules and workload rules together for a region both reject', () => {
    const r = place(workload(1, { image: { aws: 'ami-1' } }), policy({ clouds: { allow: ['aws'] } }), {}, opts);
    const rules = r.rejected.filter((x) => x.cloud === 'azure' && x.region === 'eastus').map((x) => x.rule).sort();
    assert.deepEqual(rules, ['clouds.allow', 'image']);
  });

  it('honours per-cloud instance type names', () => {
    const w = workload(4, { size: { aws: 'm.large', azure: 'D4' }, image: { aws: 'a', azure: 'b', alibaba: 'c' } });
    const r = place(w, policy({ spread: { minClouds: 2 } }), {}, opts);
    const p = placed(r);
    assert.ok(p.assignments.every((a) => (a.cloud === 'aws' && a.size === 'm.large') || (a.cloud === 'azure' && a.size === 'D4')));
    assert.ok(r.rejected.some((x) => x.cloud === 'alibaba' && x.rule === 'size' && /names no alibaba instance type/.test(x.reason)));
  });

  it('meets minClouds, minRegions and a maxPerRegion percentage', () => {
    const p = placed(place(workload(10), policy({ spread: { minClouds: 3, minRegions: 4, maxPerRegion: '30%' } }), {}, opts));
    assert.equal(total(p), 10);
    assert.equal(new Set(p.assignments.map((a) => a.cloud)).size, 3);
    assert.ok(p.assignments.length >= 4);
    assert.ok(p.assignments.every((a) => a.replicas >= 1 && a.replicas <= 3));
  });

  it('moves to the next cheapest type when the cheapest one is short of capacity in a region', () => {
    const w = workload(2, { size: { vcpu: 2, memoryGiB: 4 } });
    const only = policy({ regions: { allow: ['aws:eu-central-1'] } });
    const ctx = { exclusions: [{ cloud: 'aws' as const, region: 'eu-central-1', size: 'g.small', reason: 'InsufficientInstanceCapacity' }] };
    const p = placed(place(w, only, ctx, opts));
    assert.deepEqual(p.assignments.map((a) => a.size), ['m.small']);
    const both = { exclusions: [...ctx.exclusions, { cloud: 'aws' as const, region: 'eu-central-1', size: 'm.small', reason: 'quota' }, { cloud: 'aws' as const, region: 'eu-central-1', size: 'm.large', reason: 'quota' }] };
    const r = place(w, only, both, opts);
    assert.equal(r.ok, false);
    assert.ok(r.rejected.some((x) => x.rule === 'exclusion' && /g\.small \(InsufficientInstanceCapacity\)/.test(x.reason)));
  });

  it('excludes whole regions (open breaker, outage) and places elsewhere', () => {
    const pol = policy({ regions: { allow: ['aws:eu-*'] } });
    const ctx = { exclusions: [{ cloud: 'aws' as const, region: 'eu-central-1', reason: 'breaker open' }] };
    const r = place(workload(2), pol, ctx, opts);
    assert.deepEqual(Object.keys(counts(placed(r))), ['aws:eu-west-1']);
    assert.ok(r.rejected.some((x) => x.region === 'eu-central-1' && x.cloud === 'aws' && x.rule === 'exclusion' && /breaker open/.test(x.reason)));
  });

  describe('when the hard constraints cannot be met', () => {
    const only = (image: Record<string, string>) => ({ image });
    const out = (...keys: string[]) => ({ exclusions: keys.map((k) => ({ cloud: k.split(':')[0] as 'aws', region: k.split(':')[1], reason: 'outage' })) });
    const cases: [string, Parameters<typeof policy>[0], number, object, object, string, RegExp][] = [
      ['too few clouds', { spread: { minClouds: 3 } }, 6, only({ aws: 'a', alibaba: 'b' }), {}, PLACEMENT_CONSTRAINTS.minClouds, /needs 3 clouds but only aws, alibaba have eligible regions/],
      ['fewer replicas than required clouds', { spread: { minClouds: 3 } }, 2, {}, {}, PLACEMENT_CONSTRAINTS.minClouds, /needs 3 clouds with a replica each, but web has 2/],
      ['too few regions', { residency: { continents: ['AS', 'NA'] }, spread: { minRegions: 4 } }, 8, {}, out('aws:us-east-1', 'azure:eastus'), PLACEMENT_CONSTRAINTS.minRegions, /needs 4 regions but only 3 are eligible/],
      ['fewer replicas than required regions', { spread: { minRegions: 3 } }, 2, {}, {}, PLACEMENT_CONSTRAINTS.minRegions, /needs 3 regions with a replica each, but web has 2/],
      ['a per-region cap too tight', { residency: { continents: ['AS'] }, spread: { maxPerRegion: 2 } }, 7, {}, {}, PLACEMENT_CONSTRAINTS.maxPerRegion, /allows 2 replicas per region, so 7 replicas need 4 regions; only 3 are eligible/],
      ['a percentage cap too tight', { residency: { continents: ['AS'] }, spread: { maxPerRegion: '10%' } }, 10, {}, {}, PLACEMENT_CONSTRAINTS.maxPerRegion, /allows 1 \(10% of 10, rounded down\)/],
    ];
    for (const [what, spec, replicas, extra, ctx, constraint, reason] of cases) {
      it(`names the constraint and places nothing: ${what}`, () => {
        const r = place(workload(replicas, extra), policy(spec), ctx, opts);
        assert.equal(r.ok, false);
        if (r.ok) return;
        assert.equal(r.constraint, constraint);
        assert.match(r.reason, reason);
        assert.ok(!('placement' in r));
      });
    }

    it('names eligibility and summarizes the rules when no region is left', () => {
      const r = place(workload(3, { image: { azure: 'img' } }), policy({ residency: { countries: ['JP', 'CN'] } }), {}, opts);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.constraint, PLACEMENT_CONSTRAINTS.eligibility);
      assert.match(r.reason, /by residency/);
      assert.match(r.reason, /by image/);
    });
  });

  describe('failover order', () => {
    const tiers = policy({
      spread: { minRegions: 2 },
      failover: { order: [['aws:eu-central-1', 'westeurope'], ['aws:eu-west-1', 'northeurope']], failback: true },
    });

    it('uses only the first tier while it can meet the constraints', () => {
      const p = placed(place(workload(6), tiers, {}, opts));
      assert.deepEqual(Object.keys(counts(p)).sort(), ['aws:eu-central-1', 'azure:westeurope']);
    });

    it('uses the next tier only as far as needed when a preferred region is excluded', () => {
      const ctx = { exclusions: [{ cloud: 'azure' as const, region: 'westeurope', reason: 'outage' }] };
      const p = placed(place(workload(6), tiers, ctx, opts));
      const used = Object.keys(counts(p));
      assert.ok(used.includes('aws:eu-central-1'));
      assert.equal(used.length, 2);
      assert.ok(used.every((k) => ['aws:eu-central-1', 'aws:eu-west-1', 'azure:northeurope'].includes(k)));
    });

    it('fails back to the preferred tier when it recovers and failback is on', () => {
      const ctx = { exclusions: [{ cloud: 'azure' as const, region: 'westeurope', reason: 'outage' }] };
      const during = placed(place(workload(6), tiers, ctx, opts));
      const after = placed(place(workload(6), tiers, { current: during }, opts));
      assert.deepEqual(Object.keys(counts(after)).sort(), ['aws:eu-central-1', 'azure:westeurope']);
      // Replicas in the region that never failed stay where they are.
      assert.equal(counts(after)['aws:eu-central-1'], counts(during)['aws:eu-central-1']);
    });

    it('keeps replicas in the fallback tier when failback is off', () => {
      const noFailback = policy({
        spread: { minRegions: 2 },
        failover: { order: [['aws:eu-central-1', 'westeurope'], ['aws:eu-west-1', 'northeurope']], failback: false },
      });
      const ctx = { exclusions: [{ cloud: 'azure' as const, region: 'westeurope', reason: 'outage' }] };
      const during = placed(place(workload(6), noFailback, ctx, opts));
      const after = placed(place(workload(6), noFailback, { current: during }, opts));
      assert.deepEqual(after.assignments, during.assignments);
    });
  });

  describe('minimal movement', () => {
    const spread = policy({ spread: { minClouds: 2, minRegions: 3, maxPerRegion: '40%' }, objective: 'latency', demand: [{ country: 'DE', share: 0.6 }, { country: 'US', share: 0.4 }] });

    it('moves no existing replica when one replica is added', () => {
      for (let n = 5; n < 40; n++) {
        const before = placed(place(workload(n), spread, {}, opts));
        const after = placed(place(workload(n + 1), spread, { current: before }, opts));
        assert.equal(total(after), n + 1);
        const now = counts(after);
        for (const [k, c] of Object.entries(counts(before))) assert.ok((now[k] ?? 0) >= c, `${n}->${n + 1}: ${k} went from ${c} to ${now[k] ?? 0}`);
      }
    });

    it('only removes replicas when one replica is taken away under a fixed per-region cap', () => {
      // A percentage cap shrinks with the replica count and may force moves; a count does not.
      const fixedCap = policy({ spread: { minClouds: 2, minRegions: 3, maxPerRegion: 6 }, objective: 'latency', demand: [{ country: 'DE', share: 0.6 }, { country: 'US', share: 0.4 }] });
      for (let n = 4; n < 40; n++) {
        const before = placed(place(workload(n), fixedCap, {}, opts));
        const after = placed(place(workload(n - 1), fixedCap, { current: before }, opts));
        const was = counts(before);
        for (const [k, c] of Object.entries(counts(after))) assert.ok(c <= (was[k] ?? 0), `${n}->${n - 1}: ${k} grew`);
      }
    });

    it('keeps a still-valid placement even when a fresh one would choose differently', () => {
      const current: Placement = {
        workload: 'web', usdPerHour: 0,
        assignments: [
          { cloud: 'aws', region: 'ap-northeast-1', size: 'm.small', replicas: 2, usdPerHour: 0.04 },
          { cloud: 'azure', region: 'eastus', size: 'D2', replicas: 2, usdPerHour: 0.05 },
          { cloud: 'alibaba', region: 'cn-hangzhou', size: 'ecs.s', replicas: 2, usdPerHour: 0.03 },
        ],
      };
      const p = placed(place(workload(6), spread, { current }, opts));
      assert.deepEqual(counts(p), { 'aws:ap-northeast-1': 2, 'azure:eastus': 2, 'alibaba:cn-hangzhou': 2 });
      assert.deepEqual(p.assignments.map((a) => a.size), ['m.small', 'D2', 'ecs.s']);
    });

    it('moves only the replicas of a region that became unavailable', () => {
      const before = placed(place(workload(10), spread, {}, opts));
      const [lost] = before.assignments;
      const ctx = { current: before, exclusions: [{ cloud: lost.cloud, region: lost.region, reason: 'capacity' }] };
      const after = placed(place(workload(10), spread, ctx, opts));
      const now = counts(after);
      assert.equal(now[`${lost.cloud}:${lost.region}`], undefined);
      for (const a of before.assignments.slice(1)) assert.ok((now[`${a.cloud}:${a.region}`] ?? 0) >= a.replicas);
    });

    it('repairs a current placement that no longer meets the spread by moving as few replicas as needed', () => {
      const current: Placement = {
        workload: 'web', usdPerHour: 0,
        assignments: [{ cloud: 'aws', region: 'eu-central-1', size: 'm.small', replicas: 4, usdPerHour: 0.04 },
          { cloud: 'aws', region: 'eu-west-1', size: 'm.small', replicas: 4, usdPerHour: 0.04 }],
      };
      const p = placed(place(workload(8), policy({ spread: { minClouds: 2, minRegions: 3 } }), { current }, opts));
      const now = counts(p);
      const kept = Math.min(now['aws:eu-central-1'] ?? 0, 4) + Math.min(now['aws:eu-west-1'] ?? 0, 4);
      assert.equal(kept, 7, JSON.stringify(now));
      assert.equal(new Set(p.assignments.map((a) => a.cloud)).size, 2);
    });

    it('ignores a current placement of another workload', () => {
      const other: Placement = { workload: 'api', usdPerHour: 0, assignments: [{ cloud: 'aws', region: 'ap-northeast-1', size: 'm.small', replicas: 3, usdPerHour: 0.04 }] };
      const fresh = placed(place(workload(3), spread, {}, opts));
      assert.deepEqual(placed(place(workload(3), spread, { current: other }, opts)), fresh);
    });
  });

  it('divides by hierarchical weights: clouds first, then regions within a cloud', () => {
    const p = placed(place(workload(12), policy({
      clouds: { allow: ['aws', 'azure'] }, regions: { allow: ['aws:eu-central-1', 'aws:eu-west-1', 'westeurope'] },
      spread: { minRegions: 3 }, weights: [{ by: 'cloud', aws: 2, azure: 1 }, { by: 'region', 'aws:eu-central-1': 3 }],
    }), {}, opts));
    assert.deepEqual(counts(p), { 'aws:eu-central-1': 6, 'aws:eu-west-1': 2, 'azure:westeurope': 4 });
  });

  it('fills the cheapest regions first, each up to the cap, under the cost objective', () => {
    const w = workload(9, { size: { vcpu: 2, memoryGiB: 4, arch: 'x86_64' } });
    const p = placed(place(w, policy({ objective: 'cost', spread: { maxPerRegion: 4 } }), {}, opts));
    const byPrice = [...p.assignments].sort((a, b) => a.usdPerHour - b.usdPerHour);
    assert.deepEqual(byPrice.map((a) => a.replicas), [4, 4, 1]);
    // No region left out is cheaper than the dearest one used.
    const dearest = byPrice[byPrice.length - 1].usdPerHour;
    const used = new Set(p.assignments.map((a) => `${a.cloud}:${a.region}`));
    const cheapestX86 = new Map<string, number>();
    for (const s of sizesFor(REGIONS)) {
      if (s.arch !== 'x86_64') continue;
      const k = `${s.cloud}:${s.region}`;
      cheapestX86.set(k, Math.min(cheapestX86.get(k) ?? Infinity, s.usdPerHour));
    }
    for (const [k, price] of cheapestX86) if (!used.has(k)) assert.ok(price >= dearest, `${k} at ${price} is cheaper than ${dearest}`);
  });

  it('puts replicas near the users under the latency objective', () => {
    const p = placed(place(workload(4), policy({ objective: 'latency', demand: [{ country: 'JP', share: 1 }] }), {}, opts));
    assert.deepEqual(counts(p), { 'aws:ap-northeast-1': 4 });
  });

  it('is deterministic and independent of catalog order', () => {
    const pol = policy({ spread: { minClouds: 2, minRegions: 3, maxPerRegion: '50%' }, objective: 'balanced', demand: [{ country: 'FR', share: 0.5 }, { country: 'US', share: 0.5 }] });
    const a = place(workload(11), pol, {}, opts);
    const b = place(workload(11), pol, {}, opts);
    const reversed = staticCatalog([...REGIONS].reverse(), sizesFor(REGIONS));
    const c = place(workload(11), pol, {}, { catalog: reversed });
    assert.deepEqual(a, b);
    assert.deepEqual(placed(c), placed(a));
  });
});
