import { strict as assert } from 'node:assert';
import { listRegions, publicPartition } from '../../../providers';
import { place, type Placement, type PlacementResult } from '../../../scheduler/placement';
import { policy, workload } from './fixtures';

const CATALOG = listRegions();

// Users on every continent, with big shares where only opt-in or other-partition regions are near.
const GLOBAL = {
  objective: 'latency',
  spread: { minRegions: 8 },
  demand: [
    { country: 'ZA', share: 0.2 }, { country: 'CN', share: 0.2 }, { country: 'HK', share: 0.1 }, { country: 'IL', share: 0.1 },
    { country: 'US', share: 0.1 }, { country: 'DE', share: 0.1 }, { country: 'AU', share: 0.1 }, { country: 'BR', share: 0.1 },
  ],
};

function placed(r: PlacementResult): Placement {
  assert.ok(r.ok, r.ok ? '' : `${r.constraint}: ${r.reason}`);
  return r.placement;
}

function keys(p: Placement): string[] {
  return p.assignments.map((a) => `${a.cloud}:${a.region}`);
}

describe('scheduler/placement partitions and opt-in regions', () => {
  const global = policy(GLOBAL, CATALOG, 'global');
  const restricted = CATALOG.filter((r) => r.partition !== publicPartition(r.cloud) || r.access !== 'default');

  it('never places a global policy in GovCloud, China partitions, opt-in or access-restricted regions with default settings', () => {
    const r = place(workload(40), global);
    const p = placed(r);
    const used = new Set(keys(p));
    for (const region of restricted) assert.ok(!used.has(`${region.cloud}:${region.id}`), `${region.cloud}:${region.id} was used`);
    // Every one of them is left out by the account rule, and no default region is.
    const byAccount = new Set(r.rejected.filter((x) => x.rule === 'account').map((x) => `${x.cloud}:${x.region}`));
    assert.deepEqual([...byAccount].sort(), restricted.map((x) => `${x.cloud}:${x.id}`).sort());
    assert.ok(restricted.length >= 30, `${restricted.length} restricted regions in the catalog`);
  });

  it('says why each region was left out: another partition, or an opt-in or access-restricted region not enabled', () => {
    const r = place(workload(40), global);
    const reasons = new Map(r.rejected.filter((x) => x.rule === 'account').map((x) => [`${x.cloud}:${x.region}`, x.reason]));
    assert.equal(reasons.get('aws:us-gov-east-1'), "aws:us-gov-east-1: partition aws-us-gov is not the account's partition (aws)");
    assert.equal(reasons.get('aws:cn-north-1'), "aws:cn-north-1: partition aws-cn is not the account's partition (aws)");
    assert.equal(reasons.get('azure:chinaeast2'), "azure:chinaeast2: partition azure-china is not the account's partition (azure)");
    assert.equal(reasons.get('azure:usgovvirginia'), "azure:usgovvirginia: partition azure-us-gov is not the account's partition (azure)");
    assert.equal(reasons.get('aws:af-south-1'), 'aws:af-south-1: opt-in region not enabled');
    assert.equal(reasons.get('azure:germanynorth'), 'azure:germanynorth: access-restricted region not enabled');
  });

  it('makes an opt-in region eligible once the account enables it', () => {
    const southAfrica = policy({ clouds: { allow: ['aws'] }, objective: 'latency', demand: [{ country: 'ZA', share: 1 }] }, CATALOG, 'za');
    const before = keys(placed(place(workload(2), southAfrica)));
    assert.ok(!before.includes('aws:af-south-1'), before.join(', '));
    const r = place(workload(2), southAfrica, {}, { account: { enabled: ['aws:af-south-1'] } });
    assert.ok(keys(placed(r)).includes('aws:af-south-1'), 'the users in South Africa get Cape Town');
    assert.ok(!r.rejected.some((x) => x.cloud === 'aws' && x.region === 'af-south-1' && x.rule === 'account'));
    assert.ok(r.rejected.some((x) => x.cloud === 'aws' && x.region === 'ap-east-1' && x.rule === 'account'), 'other opt-in regions stay out');
  });

  it('places an account of another partition only in that partition', () => {
    const usOnly = policy({ clouds: { allow: ['aws'] }, residency: { countries: ['US'] }, spread: { minRegions: 2 } }, CATALOG, 'us');
    const r = place(workload(4), usOnly, {}, { account: { partitions: { aws: 'aws-us-gov' } } });
    assert.deepEqual(keys(placed(r)).sort(), ['aws:us-gov-east-1', 'aws:us-gov-west-1']);
    const east = r.rejected.find((x) => x.region === 'us-east-1' && x.rule === 'account');
    assert.equal(east?.reason, "aws:us-east-1: partition aws is not the account's partition (aws-us-gov)");
  });
});
