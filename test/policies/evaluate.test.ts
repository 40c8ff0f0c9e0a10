import { strict as assert } from 'node:assert';
import { evaluate, maxPerRegionFor, type Candidate } from '../../policies';
import { policy, REGIONS } from '../scheduler/placement/fixtures';

const key = (c: { cloud: string; id?: string; region?: string }) => `${c.cloud}:${c.id ?? c.region}`;

describe('policies/evaluate', () => {
  it('keeps every candidate when the policy has no rules', () => {
    const r = evaluate(policy({}), REGIONS);
    assert.equal(r.eligible.length, REGIONS.length);
    assert.deepEqual(r.rejected, []);
  });

  it('returns one rejection per rule for a region that several rules reject', () => {
    const p = policy({
      clouds: { deny: ['aws'] }, regions: { allow: ['eu-*', 'westeurope'] }, residency: { continents: ['EU'] },
    });
    const r = evaluate(p, REGIONS);
    const usEast = r.rejected.filter((x) => key(x) === 'aws:us-east-1').map((x) => x.rule).sort();
    assert.deepEqual(usEast, ['clouds.deny', 'regions.allow', 'residency']);
    assert.deepEqual(r.eligible.map((e) => key(e.candidate)).sort(), ['alibaba:eu-central-1', 'azure:westeurope']);
    const reason = r.rejected.find((x) => key(x) === 'aws:us-east-1' && x.rule === 'residency')?.reason;
    assert.equal(reason, 'aws region us-east-1 is in US (NA), outside residency continents [EU]');
  });

  it('rejects each region that fails residency by country or continent, and only those', () => {
    const p = policy({ residency: { countries: ['JP'], continents: ['EU'] } });
    const r = evaluate(p, REGIONS);
    for (const region of REGIONS) {
      const resident = region.country === 'JP' || region.continent === 'EU';
      assert.equal(r.eligible.some((e) => e.candidate === region), resident, region.id);
      assert.equal(r.rejected.some((x) => x.cloud === region.cloud && x.region === region.id && x.rule === 'residency'), !resident);
    }
  });

  it('matches cloud-qualified and wildcard region patterns', () => {
    const p = policy({ regions: { allow: ['aws:eu-*', 'azure:*europe'], deny: ['aws:eu-west-?'] } });
    const r = evaluate(p, REGIONS);
    assert.deepEqual(r.eligible.map((e) => key(e.candidate)).sort(), ['aws:eu-central-1', 'azure:northeurope', 'azure:westeurope']);
    assert.ok(r.rejected.some((x) => key(x) === 'aws:eu-west-1' && x.rule === 'regions.deny' && /'aws:eu-west-\?'/.test(x.reason)));
    assert.ok(r.rejected.some((x) => key(x) === 'alibaba:eu-central-1' && x.rule === 'regions.allow'));
  });

  it('treats a weight of 0 as a rejection by the weights rule', () => {
    const r = evaluate(policy({ weights: [{ by: 'cloud', alibaba: 0 }, { by: 'region', 'aws:us-east-1': 0 }] }), REGIONS);
    const rejected = new Set(r.rejected.filter((x) => x.rule === 'weights').map(key));
    assert.deepEqual([...rejected].sort(), ['alibaba:cn-hangzhou', 'alibaba:cn-shanghai', 'alibaba:eu-central-1', 'aws:us-east-1']);
  });

  it('scores the cheapest region first under a cost objective and the nearest to the users under latency', () => {
    const priced: Candidate[] = REGIONS.map((r) => ({ ...r, usdPerHour: r.id === 'eastus' ? 0.01 : 0.1 }));
    const cost = evaluate(policy({ objective: 'cost', demand: [{ country: 'JP', share: 1 }] }), priced);
    assert.equal(key(cost.eligible[0].candidate), 'azure:eastus');
    const latency = evaluate(policy({ objective: 'latency', demand: [{ country: 'JP', share: 1 }] }), priced);
    assert.equal(key(latency.eligible[0].candidate), 'aws:ap-northeast-1');
    assert.ok(latency.eligible[0].demandKm !== undefined && latency.eligible[0].demandKm < 50);
  });

  it('multiplies cloud and region weights into the score and orders failover tiers first', () => {
    const p = policy({
      weights: [{ by: 'cloud', azure: 3 }, { by: 'region', 'westeurope': 2 }],
      failover: { order: [['cn-shanghai']] },
    });
    const r = evaluate(p, REGIONS);
    assert.equal(key(r.eligible[0].candidate), 'alibaba:cn-shanghai');
    assert.equal(r.eligible[0].tier, 0);
    assert.equal(key(r.eligible[1].candidate), 'azure:westeurope');
    assert.equal(r.eligible[1].cloudWeight * r.eligible[1].regionWeight, 6);
    assert.ok(r.eligible.slice(1).every((e) => e.tier === 1));
  });

  it('is pure: the same inputs give equal outputs and the inputs are not changed', () => {
    const p = policy({ objective: 'balanced', demand: [{ country: 'DE', share: 1 }], residency: { continents: ['EU', 'NA'] } });
    const input = REGIONS.map((r) => ({ ...r }));
    const snapshot = JSON.stringify(input);
    assert.deepEqual(evaluate(p, input), evaluate(p, input));
    assert.equal(JSON.stringify(input), snapshot);
  });

  it('returns no eligible candidate and every reason instead of throwing when nothing passes', () => {
    const r = evaluate(policy({ residency: { countries: ['JP'] } }), REGIONS.filter((x) => x.country !== 'JP'));
    assert.equal(r.eligible.length, 0);
    assert.equal(r.rejected.length, REGIONS.length - 1);
  });

  it('resolves maxPerRegion percentages rounded down with a floor of one', () => {
    const p = policy({ spread: { maxPerRegion: '40%' } });
    assert.equal(maxPerRegionFor(p, 10), 4);
    assert.equal(maxPerRegionFor(p, 7), 2);
    assert.equal(maxPerRegionFor(p, 2), 1);
    assert.equal(maxPerRegionFor(policy({ spread: { maxPerRegion: 3 } }), 100), 3);
    assert.equal(maxPerRegionFor(policy({}), 100), Number.POSITIVE_INFINITY);
  });
});
