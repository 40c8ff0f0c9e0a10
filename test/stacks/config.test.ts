import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { installCatalog, tryFindSize } from '../../providers';
import { parseConfigValue, resolveStackConfig, StackConfigError } from '../../stacks';
import { REFRESHED_ONLY_SIZE, refreshedCatalog, writeCatalogFile } from './catalog-fixture';

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

  describe('meridian:catalogFile', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-stack-catalog-')); });
    afterEach(() => { installCatalog(); rmSync(dir, { recursive: true, force: true }); });

    const { cloud, region, name } = REFRESHED_ONLY_SIZE;
    const inline = {
      policies: [{ apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'fra' }, spec: { regions: { allow: [`${cloud}:${region}`] } } }],
      workloads: [{ name: 'api', replicas: 1, size: { [cloud]: name }, image: { [cloud]: 'ami-0a1b2c3d4e5f' }, policy: 'fra' }],
    };

    it('refuses a type only the refreshed file has without the key, and installs the file, relative to the project, with it', () => {
      const file = relative(BASE, writeCatalogFile(dir));
      assert.ok(!file.startsWith('/'), file);
      const without = problemsOf(() => resolveStackConfig(inline, { baseDir: BASE }));
      assert.equal(without.length, 1, without.join(' | '));
      assert.ok(without[0].startsWith(`meridian:workloads[0]/size/${cloud}: unknown ${cloud} instance type '${name}'`), without[0]);
      const def = resolveStackConfig({ ...inline, catalogFile: file }, { baseDir: BASE });
      assert.equal(def.catalogFile, file, 'the path as configured');
      assert.ok(tryFindSize(cloud, region, name), 'the file is the installed catalog');
      assert.equal(resolveStackConfig({ ...inline, workloads: [{ ...inline.workloads[0], size: { vcpu: 2, memoryGiB: 8 } }] }, { baseDir: BASE }).catalogFile, undefined);
      assert.equal(tryFindSize(cloud, region, name), undefined, 'without the key, the bundled catalog again');
    });

    it('names the key and every problem of a missing, malformed or invalid file', () => {
      const bad = refreshedCatalog();
      (bad.clouds.aws.sizes[0] as { vcpu: number }).vcpu = -1;
      const invalid = writeCatalogFile(dir, bad, 'invalid.json');
      const problems = problemsOf(() => resolveStackConfig({ ...inline, catalogFile: invalid }, { baseDir: BASE }));
      assert.match(problems[0], new RegExp(`^meridian:catalogFile: catalog file ${invalid} is not usable: /clouds/aws/sizes/0/vcpu: `));
      assert.equal(problems.length, 2, 'and the type the file would have added is unknown');

      const semantic = refreshedCatalog();
      (semantic.clouds.azure as { referenceRegion: string }).referenceRegion = 'mars-1';
      const wrongRegion = writeCatalogFile(dir, semantic, 'region.json');
      assert.match(problemsOf(() => resolveStackConfig({ ...inline, catalogFile: wrongRegion }, { baseDir: BASE }))[0],
        /^meridian:catalogFile: catalog file .*region\.json is not usable: \/clouds\/azure\/referenceRegion: 'mars-1' is not one of the section's regions/);
      assert.match(problemsOf(() => resolveStackConfig({ ...inline, catalogFile: 'no-such-catalog.json' }, { baseDir: '/proj' }))[0],
        /^meridian:catalogFile: catalog file \/proj\/no-such-catalog\.json is not usable: \/: cannot be read: ENOENT/);
      assert.deepEqual(problemsOf(() => resolveStackConfig({ ...inline, catalogFile: 42 }, { baseDir: BASE })).slice(0, 1),
        ['meridian:catalogFile: expected a file path, got 42']);
      assert.equal(tryFindSize(cloud, region, name), undefined, 'a refused file leaves the bundled catalog');
    });
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
