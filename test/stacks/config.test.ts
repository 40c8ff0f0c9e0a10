import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfigValue, resolveStackConfig, StackConfigError } from '../../stacks';

const BASE = process.cwd();

const POLICY_YAML = `apiVersion: meridian/v1
kind: RegionPolicy
metadata: { name: two-regions }
spec:
  regions: { allow: ["aws:us-east-1", "aws:eu-central-1"] }
  spread: { minRegions: 2 }
---
apiVersion: meridian/v1
kind: Workload
metadata: { name: api }
spec:
  replicas: 2
  size: { vcpu: 2, memoryGiB: 4 }
  image: { aws: ami-0a1b2c3d4e5f }
  policy: two-regions
`;

function files(map: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = map[path];
    if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
    return text;
  };
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StackConfigError, `expected a StackConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('stack config', () => {
  it('loads policies and workloads from a document file relative to the project', () => {
    const def = resolveStackConfig({ documents: ['stack.yaml'] }, { baseDir: '/proj', readFile: files({ '/proj/stack.yaml': POLICY_YAML }) });
    assert.deepEqual(def.policies.map((p) => p.metadata.name), ['two-regions']);
    assert.deepEqual(def.workloads.map((w) => [w.name, w.replicas, w.policy]), [['api', 2, 'two-regions']]);
  });

  it('reads the shipped example policies and combines them with inline workloads', () => {
    const def = resolveStackConfig({
      documents: 'policies/examples/cost-first.yaml',
      workloads: [{ name: 'batch', replicas: 4, size: { vcpu: 2, memoryGiB: 8 }, image: { aws: 'ami-0a1b2c3d4e5f' }, policy: 'cost-first' }],
      tags: { owner: 'data' }, readyTimeoutSeconds: 120,
    }, { baseDir: BASE });
    assert.deepEqual(def.policies.map((p) => p.metadata.name), ['cost-first']);
    assert.equal(def.workloads[0].name, 'batch');
    assert.deepEqual(def.tags, { owner: 'data' });
    assert.equal(def.readyTimeoutSeconds, 120);
  });

  it('accepts inline policies and workloads in document form', () => {
    const def = resolveStackConfig({
      policies: [{ apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'eu' }, spec: { residency: { continents: ['EU'] } } }],
      workloads: [{ apiVersion: 'meridian/v1', kind: 'Workload', metadata: { name: 'web' }, spec: { replicas: 1, size: { aws: 't3.micro' }, image: { aws: 'ami-0a1b2c3d4e5f' }, policy: 'eu' } }],
    }, { baseDir: BASE });
    assert.equal(def.workloads[0].name, 'web');
  });

  it('reports every problem with its config key and path', () => {
    const problems = problemsOf(() => resolveStackConfig({
      documents: ['missing.yaml', 7],
      policies: [{ apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'Bad Name' }, spec: {} }],
      workloads: [{ name: 'web', replicas: 'three', size: { vcpu: 1, memoryGiB: 1 }, image: { aws: 'ami-1' }, policy: 'nowhere' }],
      tags: { team: 5 }, readyTimeoutSeconds: 1.5,
    }, { baseDir: '/proj', readFile: files({}) }));
    const has = (re: RegExp) => assert.ok(problems.some((p) => re.test(p)), `a problem matches ${re}: ${problems.join(' | ')}`);
    has(/^meridian:documents\[0\]: cannot read \/proj\/missing\.yaml/);
    has(/^meridian:documents\[1\]: expected a file path/);
    has(/^meridian:policies\[0\]\/metadata\/name: /);
    has(/^meridian:workloads\[0\]\/replicas: /);
    has(/^meridian:tags\.team: expected a string/);
    has(/^meridian:readyTimeoutSeconds: expected whole seconds/);
  });

  it('reads the regions the accounts can use, and names the key path and the nearest region of a typo', () => {
    const inline = { policies: [{ apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'eu' }, spec: {} }],
      workloads: [{ name: 'web', replicas: 1, size: { aws: 't3.micro' }, image: { aws: 'ami-0a1b2c3d4e5f' }, policy: 'eu' }] };
    const def = resolveStackConfig({ ...inline, regions: { enabled: ['aws:af-south-1'] } }, { baseDir: BASE });
    assert.deepEqual(def.regions, { partitions: {}, enabled: ['aws:af-south-1'] });
    assert.equal(resolveStackConfig(inline, { baseDir: BASE }).regions, undefined, 'absent: public partitions, nothing enabled');
    const problems = problemsOf(() => resolveStackConfig({ ...inline, regions: { enabled: ['aws:af-south-1', 'aws:af-sotuh-1'], bogus: 1 } }, { baseDir: BASE }));
    assert.ok(problems.some((p) => /^meridian:regions\/bogus: /.test(p)), problems.join(' | '));
    const typo = problemsOf(() => resolveStackConfig({ ...inline, regions: { enabled: ['aws:af-sotuh-1', 'aws:us-gov-west-1'] } }, { baseDir: BASE }));
    assert.deepEqual(typo, [
      "meridian:regions/enabled/0: unknown region 'aws:af-sotuh-1'; did you mean 'aws:af-south-1'?",
      "meridian:regions/enabled/1: 'aws:us-gov-west-1' is in partition aws-us-gov, not the aws account's partition aws (set meridian:regions/partitions/aws)",
    ]);
  });

  it('names the undefined policy a workload refers to and the policies that exist', () => {
    const problems = problemsOf(() => resolveStackConfig({
      documents: ['policies/examples/eu-residency.yaml'],
      workloads: [{ name: 'web', replicas: 1, size: { aws: 't3.micro' }, image: { aws: 'ami-0a1b2c3d4e5f' }, policy: 'us-only' }],
    }, { baseDir: BASE }));
    assert.deepEqual(problems, [
      "meridian:workloads[0]: workload 'web' names policy 'us-only', which is not defined (defined: eu-residency; add it to meridian:policies or meridian:documents)",
    ]);
  });

  it('rejects a policy defined twice and a stack without workloads', () => {
    const twice = problemsOf(() => resolveStackConfig({
      documents: [join('policies', 'examples', 'cost-first.yaml'), 'policies/examples/cost-first.yaml'],
    }, { baseDir: BASE }));
    assert.ok(twice.some((p) => /RegionPolicy 'cost-first' is defined twice/.test(p)));
    const empty = problemsOf(() => resolveStackConfig({ documents: ['policies/examples/cost-first.yaml'] }, { baseDir: BASE }));
    assert.match(empty[0], /^no workloads: set meridian:workloads/);
  });

  it('reports YAML errors of a document file with the document index and line', () => {
    const problems = problemsOf(() => resolveStackConfig({ documents: ['bad.yaml'] }, {
      baseDir: '/p', readFile: files({ '/p/bad.yaml': `${POLICY_YAML}---\napiVersion: meridian/v1\nkind: Workload\nmetadata: { name: w2 }\nspec:\n  replicas: -1\n` }),
    }));
    assert.ok(problems.some((p) => /^bad\.yaml document 2 \(line \d+\) \/spec/.test(p)), problems.join(' | '));
  });

  it('parses config values the way Pulumi stores them', () => {
    assert.deepEqual(parseConfigValue('["a.yaml","b.yaml"]'), ['a.yaml', 'b.yaml']);
    assert.deepEqual(parseConfigValue('{"owner":"x"}'), { owner: 'x' });
    assert.equal(parseConfigValue('300'), 300);
    assert.equal(parseConfigValue('policies/examples/eu-residency.yaml'), 'policies/examples/eu-residency.yaml');
    assert.equal(parseConfigValue('[not json'), '[not json');
    assert.equal(parseConfigValue(undefined), undefined);
  });
});
