import { strict as assert } from 'node:assert';
import { parsePolicy, parseWorkload, RegionPolicySchema, WorkloadSchema, type ValidationError } from '../../policies';
import type { Workload } from '../../scheduler/placement';
import { REGIONS } from '../scheduler/placement/fixtures';

function doc(spec: unknown, name: unknown = 'p'): unknown {
  return { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name }, spec };
}

function errorsOf(result: { ok: boolean; errors?: readonly ValidationError[] }): readonly ValidationError[] {
  assert.equal(result.ok, false, 'expected the document to be rejected');
  return result.errors ?? [];
}

function at(errors: readonly ValidationError[], path: string): string {
  const found = errors.filter((e) => e.path === path);
  assert.ok(found.length > 0, `no error at ${path}; errors: ${JSON.stringify(errors)}`);
  return found.map((e) => e.message).join(' | ');
}

const opts = { regions: REGIONS };

describe('policies/parsePolicy', () => {
  it('accepts a complete policy and returns a deep-frozen copy', () => {
    const input = doc({
      clouds: { allow: ['aws', 'azure'] }, regions: { allow: ['eu-*', 'westeurope'], deny: ['aws:eu-west-1'] },
      residency: { continents: ['EU'] }, spread: { minClouds: 2, minRegions: 2, maxPerRegion: '50%' },
      weights: [{ by: 'cloud', aws: 2, azure: 1 }, { by: 'region', 'eu-central-1': 3 }],
      objective: 'balanced', demand: [{ country: 'DE', share: 0.5 }, { country: 'FR', share: 0.5 }],
      failover: { order: [['aws:eu-central-1'], ['westeurope']], failback: true, provisionTimeoutSeconds: 300 },
    });
    const r = parsePolicy(input, opts);
    assert.ok(r.ok, JSON.stringify(r));
    assert.ok(Object.isFrozen(r.value.spec.spread));
    assert.notEqual(r.value, input);
    assert.equal(r.value.spec.spread?.maxPerRegion, '50%');
  });

  it('reports every error at once, each with its key path', () => {
    const errors = errorsOf(parsePolicy(doc({
      clouds: { allow: ['gcp'] },
      regions: { allow: ['eu-centrl-1'] },
      spread: { minRegion: 2, maxPerRegion: '140%' },
      objective: 'fastest',
      demand: [{ country: 'DE', share: 0.5 }, { country: 'FR', share: 0.3 }],
      failover: { order: [['eu-west-9']] },
    }, 'Bad_Name'), opts));
    assert.match(at(errors, '/metadata/name'), /DNS label.*got "Bad_Name"/);
    assert.match(at(errors, '/spec/clouds/allow/0'), /unknown cloud 'gcp'; known clouds: aws, azure, alibaba/);
    assert.match(at(errors, '/spec/regions/allow/0'), /unknown region 'eu-centrl-1'.*did you mean 'eu-central-1'/);
    assert.match(at(errors, '/spec/spread/minRegion'), /unknown key 'minRegion'; expected one of minClouds, minRegions, maxPerRegion/);
    assert.match(at(errors, '/spec/spread/maxPerRegion'), /percentage from 1% to 100%, got "140%"/);
    assert.match(at(errors, '/spec/objective'), /one of cost, latency, balanced, got "fastest"/);
    assert.match(at(errors, '/spec/demand'), /summing to 1.*got 0\.8/);
    assert.match(at(errors, '/spec/failover/order/0/0'), /unknown region 'eu-west-9'/);
    assert.equal(errors.length, 8, JSON.stringify(errors));
  });

  it('explains maxPerRegion values that are neither a count nor a percentage', () => {
    for (const bad of ['40', '40 %', 0, -1, 2.5, true]) {
      const errors = errorsOf(parsePolicy(doc({ spread: { maxPerRegion: bad } }), opts));
      assert.match(at(errors, '/spec/spread/maxPerRegion'), /(integer >= 1 or a percentage|expected)/, `for ${JSON.stringify(bad)}`);
    }
    assert.match(at(errorsOf(parsePolicy(doc({ spread: { maxPerRegion: '0.5%' } }), opts)), '/spec/spread/maxPerRegion'), /from 1% to 100%/);
  });

  it('reports the weights variant the author meant, or both forms when unclear', () => {
    const errors = errorsOf(parsePolicy(doc({ weights: [{ by: 'cloud', aws: 'x' }, { by: 'zone', a: 1 }, { by: 'cloud', gcp: 1 }] }), opts));
    assert.match(at(errors, '/spec/weights/0/aws'), /weight >= 0, got "x"/);
    assert.match(at(errors, '/spec/weights/1'), /by: cloud or by: region/);
    assert.match(at(errors, '/spec/weights/2/gcp'), /unknown cloud 'gcp'/);
    assert.match(at(errors, '/spec/weights/2/by'), /duplicate weights level by: cloud/);
  });

  it('rejects unknown and duplicate countries and malformed country codes', () => {
    const errors = errorsOf(parsePolicy(doc({
      residency: { countries: ['DE', 'ZZ', 'de'] },
      demand: [{ country: 'DE', share: 0.5 }, { country: 'DE', share: 0.5 }],
    }), opts));
    assert.match(at(errors, '/spec/residency/countries/1'), /unknown country code 'ZZ'/);
    assert.match(at(errors, '/spec/residency/countries/2'), /ISO 3166-1 alpha-2.*got "de"/);
    assert.match(at(errors, '/spec/demand/1/country'), /duplicate country DE/);
  });

  it('accepts demand shares that sum to 1 within rounding', () => {
    const r = parsePolicy(doc({ demand: [{ country: 'DE', share: 0.333 }, { country: 'FR', share: 0.333 }, { country: 'US', share: 0.333 }] }), opts);
    assert.ok(r.ok, JSON.stringify(r));
  });

  it('rejects failover regions that are listed twice, use wildcards or are rejected by the policy itself', () => {
    const errors = errorsOf(parsePolicy(doc({
      residency: { continents: ['EU'] },
      failover: { order: [['aws:eu-central-1', 'aws:us-east-1'], ['aws:eu-central-1', 'eu-*']] },
    }), opts));
    assert.match(at(errors, '/spec/failover/order/1/0'), /listed twice.*first at \/spec\/failover\/order\/0\/0/);
    assert.match(at(errors, '/spec/failover/order/1/1'), /region id without wildcards|expected a region id/);
    const rejected = errorsOf(parsePolicy(doc({ residency: { continents: ['EU'] }, failover: { order: [['aws:us-east-1']] } }), opts));
    assert.match(at(rejected, '/spec/failover/order/0/0'), /rejected by the policy's own rules: .*outside residency continents \[EU\]/);
  });

  it('accepts an unqualified failover id when one of the clouds that has it passes the rules', () => {
    // eu-central-1 exists in aws and alibaba; only aws is allowed.
    const r = parsePolicy(doc({ clouds: { allow: ['aws'] }, failover: { order: [['eu-central-1']] } }), opts);
    assert.ok(r.ok, JSON.stringify(r));
  });

  it('rejects spread constraints that the catalog can never meet under the policy rules', () => {
    const errors = errorsOf(parsePolicy(doc({ residency: { countries: ['CN'] }, spread: { minRegions: 3, minClouds: 2 } }), opts));
    assert.match(at(errors, '/spec/spread/minRegions'), /needs 3 regions but only 2 pass.*alibaba:cn-hangzhou, alibaba:cn-shanghai/);
    assert.match(at(errors, '/spec/spread/minClouds'), /needs 2 clouds but only 1 have regions/);
    const none = errorsOf(parsePolicy(doc({ clouds: { deny: ['*'] } }), opts));
    assert.match(at(none, '/spec'), /no region of the catalog passes/);
    assert.match(at(errorsOf(parsePolicy(doc({ spread: { minClouds: 4 } }), opts)), '/spec/spread/minClouds'), /at most 3/);
  });

  it('rejects documents of the wrong kind, version or shape with the path of each problem', () => {
    const errors = errorsOf(parsePolicy({ apiVersion: 'meridian/v2', kind: 'Policy', metadata: {}, spec: [], extra: 1 }, opts));
    assert.match(at(errors, '/apiVersion'), /meridian\/v1/);
    assert.match(at(errors, '/kind'), /RegionPolicy/);
    assert.match(at(errors, '/metadata/name'), /missing required key 'name'/);
    assert.match(at(errors, '/extra'), /unknown key 'extra'/);
    assert.ok(errors.some((e) => e.path === '/spec'));
    assert.ok(!parsePolicy(null, opts).ok);
    assert.ok(!parsePolicy('text', opts).ok);
  });

  it('gives a JSON schema usable as the OpenAPI body of the policy routes', () => {
    const json = JSON.parse(JSON.stringify(RegionPolicySchema)) as { type: string; required: string[]; properties: Record<string, unknown> };
    assert.equal(json.type, 'object');
    assert.deepEqual([...json.required].sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.ok('spec' in json.properties);
  });
});

describe('policies/parseWorkload', () => {
  const flat = {
    name: 'web', replicas: 3, size: { vcpu: 2, memoryGiB: 4 }, image: { aws: 'ami-1' }, policy: 'eu-residency',
    dns: { name: 'web.meridian.test', ttl: 30 },
  };

  it('accepts a flat workload whose type matches the placement engine Workload', () => {
    const r = parseWorkload(flat);
    assert.ok(r.ok, JSON.stringify(r));
    const w: Workload = r.value;
    assert.equal(w.replicas, 3);
    assert.ok(Object.isFrozen(w.size));
  });

  it('accepts a Workload document and flattens it', () => {
    const { name, ...spec } = flat;
    const r = parseWorkload({ apiVersion: 'meridian/v1', kind: 'Workload', metadata: { name }, spec });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value, flat);
  });

  it('reports every error of a bad workload with its path', () => {
    const errors = errorsOf(parseWorkload({
      name: '-web', replicas: 10_001, size: { vcpu: 2 }, image: {}, policy: 'p', dns: { name: 'Web.', ttl: -1 }, zone: 'x',
    }));
    assert.match(at(errors, '/name'), /DNS label/);
    assert.match(at(errors, '/replicas'), /integer from 0 to 10000, got 10001/);
    assert.match(at(errors, '/size/memoryGiB'), /missing required key 'memoryGiB'/);
    assert.match(at(errors, '/image'), /at least one of aws, azure, alibaba/);
    assert.match(at(errors, '/dns/name'), /domain name/);
    assert.match(at(errors, '/dns/ttl'), /0 to 86400/);
    assert.match(at(errors, '/zone'), /unknown key 'zone'/);
  });

  it('checks per-cloud instance type names against the catalog and that some cloud has both type and image', () => {
    const errors = errorsOf(parseWorkload({ ...flat, size: { aws: 'm6i.larg', azure: 'Standard_D2s_v5' }, image: { alibaba: 'img' } }));
    assert.match(at(errors, '/size/aws'), /unknown aws instance type 'm6i.larg'.*did you mean 'm6i.large'/);
    assert.match(at(errors, '/image'), /no cloud has both an instance type and an image/);
  });

  it('rejects a size that no instance type of the imaged clouds can satisfy', () => {
    const errors = errorsOf(parseWorkload({ ...flat, size: { vcpu: 100_000, memoryGiB: 4 } }));
    assert.match(at(errors, '/size'), /no instance type of aws has 100000 vCPU/);
  });

  it('validates replicas at both ends of the range', () => {
    assert.ok(parseWorkload({ ...flat, replicas: 0 }).ok);
    assert.ok(parseWorkload({ ...flat, replicas: 10_000 }).ok);
    assert.ok(!parseWorkload({ ...flat, replicas: -1 }).ok);
    assert.ok(!parseWorkload({ ...flat, replicas: 1.5 }).ok);
    assert.equal((WorkloadSchema.properties.replicas as { maximum: number }).maximum, 10_000);
  });
});
