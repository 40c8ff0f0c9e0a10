import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryFindRegion, type CloudId } from '../../providers';
import { loadDocuments, type RegionPolicy } from '../../policies';
import { place, type Workload } from '../../scheduler/placement';

// Tests run from dist/test/policies; the YAML examples stay in the source tree.
const EXAMPLES = join(__dirname, '..', '..', '..', 'policies', 'examples');

function load(file: string): RegionPolicy {
  const r = loadDocuments(readFileSync(join(EXAMPLES, file), 'utf8'));
  assert.ok(r.ok, `${file}: ${JSON.stringify(r.ok ? [] : r.errors)}`);
  assert.equal(r.value.policies.length, 1);
  return r.value.policies[0];
}

function sample(p: RegionPolicy, replicas = 12): Workload {
  return {
    name: 'sample', replicas, size: { vcpu: 2, memoryGiB: 4, arch: 'x86_64' }, policy: p.metadata.name,
    image: { aws: 'ami-0123', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64' },
  };
}

function regionsOf(placement: { assignments: readonly { cloud: CloudId; region: string }[] }) {
  return placement.assignments.map((a) => {
    const r = tryFindRegion(a.cloud, a.region);
    assert.ok(r, `${a.cloud}:${a.region} is not in the catalog`);
    return r;
  });
}

describe('policies/examples', () => {
  it('has at least the four documented examples, and each loads and places a sample workload', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    for (const required of ['eu-residency.yaml', 'china-mainland.yaml', 'global-low-latency.yaml', 'cost-first.yaml']) {
      assert.ok(files.includes(required), `missing ${required}`);
    }
    for (const file of files) {
      const p = load(file);
      assert.equal(`${p.metadata.name}.yaml`, file, 'file name matches the policy name');
      const r = place(sample(p), p);
      assert.ok(r.ok, `${file}: ${r.ok ? '' : `${r.constraint}: ${r.reason}`}`);
      assert.equal(r.placement.assignments.reduce((s, a) => s + a.replicas, 0), 12);
    }
  });

  it('eu-residency keeps every replica in the EU/EEA on at least two clouds and three regions', () => {
    const p = load('eu-residency.yaml');
    const r = place(sample(p), p);
    assert.ok(r.ok);
    const eea = new Set(p.spec.residency?.countries);
    const regions = regionsOf(r.placement);
    assert.ok(regions.every((x) => eea.has(x.country)), JSON.stringify(regions));
    assert.ok(new Set(regions.map((x) => x.cloud)).size >= 2);
    assert.ok(regions.length >= 3);
    assert.ok(r.placement.assignments.every((a) => a.replicas <= 4), 'at most 40% of 12 per region');
    assert.ok(!regions.some((x) => x.cloud === 'aws' && x.id === 'eu-south-2'));
  });

  it('china-mainland uses only Alibaba Cloud cn-* regions in mainland China', () => {
    const p = load('china-mainland.yaml');
    const r = place(sample(p), p);
    assert.ok(r.ok);
    const regions = regionsOf(r.placement);
    assert.ok(regions.every((x) => x.cloud === 'alibaba' && x.id.startsWith('cn-') && x.country === 'CN'), JSON.stringify(regions));
    assert.ok(regions.length >= 2);
  });

  it('global-low-latency spans three clouds and puts replicas near its largest markets', () => {
    const p = load('global-low-latency.yaml');
    const r = place(sample(p, 20), p);
    assert.ok(r.ok);
    const regions = regionsOf(r.placement);
    assert.equal(new Set(regions.map((x) => x.cloud)).size, 3);
    const continents = new Set(regions.map((x) => x.continent));
    for (const c of ['NA', 'EU', 'AS']) assert.ok(continents.has(c as never), `no region in ${c}: ${JSON.stringify(regions)}`);
    assert.ok(r.placement.assignments.every((a) => a.replicas <= 5));
  });

  it('cost-first is no more expensive per hour than any other example for the same workload', () => {
    const cost = load('cost-first.yaml');
    const costly = place(sample(cost), cost);
    assert.ok(costly.ok);
    for (const file of ['eu-residency.yaml', 'global-low-latency.yaml']) {
      const p = load(file);
      const other = place(sample(p), p);
      assert.ok(other.ok);
      assert.ok(costly.placement.usdPerHour <= other.placement.usdPerHour, `${file} is cheaper`);
    }
  });
});
