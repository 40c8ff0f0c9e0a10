import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { loadDocuments, type RegionPolicy, type WorkloadInput } from '../../policies';
import { installCatalog, tryFindRegion, type CloudId } from '../../providers';
import { place, type RegionAssignment } from '../../scheduler/placement';
import type * as Stacks from '../../stacks';
import { REFRESHED_ONLY_SIZE, writeCatalogFile } from './catalog-fixture';

// Pulumi's mocks must be in place before any module that declares resources is loaded.
interface Registered { type: string; name: string; inputs: Record<string, unknown>; custom: boolean }
let registered: Registered[] = [];
let addressCounter = 0;
/** What the stack's reference to itself reads: the outputs of its last deployment. */
let lastOutputs: Record<string, unknown> = {};

// Pulumi's special signature marking a secret value on the wire (sdk/nodejs/runtime/rpc.ts).
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_SIG_VALUE = '1b47061264138c4ac30d75fd1eb44270';

const INSTANCE = 'pulumi-nodejs:dynamic/meridian/cloud:Instance';

async function installMocks(): Promise<void> {
  registered = [];
  lastOutputs = {};
  addressCounter = 0;
  await pulumi.runtime.setMocks({
    newResource: (args) => {
      if (args.type === 'pulumi:pulumi:StackReference') return { id: String(args.inputs.name), state: { ...args.inputs, outputs: lastOutputs } };
      registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, custom: args.custom ?? false });
      if (args.type !== INSTANCE) return { id: `${args.name}_id`, state: {} };
      addressCounter += 1;
      const id = `i-${addressCounter.toString(16).padStart(8, '0')}`;
      // Addresses in the documentation range (RFC 5737), one per instance.
      const publicIp = `203.0.113.${addressCounter}`;
      return { id, state: { ...args.inputs, instanceId: id, state: 'running', publicIp, launchedAt: '2026-01-01T00:00:00.000Z', cloudTags: {} } };
    },
    call: (args) => args.inputs,
  }, 'meridian', 'test', false, 'organization');
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => { resolve(v); return v; }));
}

const EXAMPLES = join(process.cwd(), 'policies', 'examples');

function examplePolicy(file: string): RegionPolicy {
  const loaded = loadDocuments(readFileSync(join(EXAMPLES, file), 'utf8'));
  if (!loaded.ok) throw new Error(`${file}: ${JSON.stringify(loaded.errors)}`);
  return loaded.value.policies[0];
}

function workload(name: string, policy: string, replicas: number, extra: Partial<WorkloadInput> = {}): WorkloadInput {
  return {
    name, replicas, policy, size: { vcpu: 2, memoryGiB: 8 },
    image: { aws: 'ami-0a1b2c3d4e5f', azure: 'Canonical:ubuntu-24_04-lts:server:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase_20240101.vhd' },
    dns: { name: `${name}.example.com`, ttl: 60 },
    ...extra,
  };
}

function instancesPerRegion(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of registered.filter((x) => x.type === INSTANCE)) {
    const key = `${String(r.inputs.cloud)}:${String(r.inputs.region)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('Pulumi program with mocks', function () {
  // The first Instance serializes the dynamic provider (a second or two, once per process).
  this.timeout(30_000);
  let stacks: typeof Stacks;

  before(async () => {
    await installMocks();
    stacks = await import('../../stacks/index.js');
  });

  beforeEach(installMocks);

  const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

  it('finds the four required example policies', () => {
    for (const f of ['china-mainland.yaml', 'cost-first.yaml', 'eu-residency.yaml', 'global-low-latency.yaml']) assert.ok(exampleFiles.includes(f), f);
  });

  for (const file of exampleFiles) {
    it(`declares one Instance per replica in each region the engine chose for ${file}`, async () => {
      const policy = examplePolicy(file);
      const w = workload('web', policy.metadata.name, 10);
      const expected = place(w, policy);
      assert.ok(expected.ok, `the example ${file} places a sample workload`);
      const out = stacks.deployStack({ workloads: [w], policies: [policy], tags: {} });
      const rows = await valueOf(out.placements.web);
      assert.equal((await valueOf(out.instances.web)).length, 10);

      const wanted = new Map(expected.placement.assignments.map((a) => [`${a.cloud}:${a.region}`, a.replicas]));
      assert.deepEqual(instancesPerRegion(), wanted);
      assert.deepEqual(new Map(rows.map((r) => [`${r.cloud}:${r.region}`, r.count])), wanted);
      assert.equal(rows.reduce((n, r) => n + r.count, 0), 10);
      for (const r of registered.filter((x) => x.type === INSTANCE)) {
        const a: RegionAssignment | undefined = expected.placement.assignments.find((x) => x.cloud === r.inputs.cloud && x.region === r.inputs.region);
        assert.ok(a, `${String(r.inputs.cloud)}:${String(r.inputs.region)} is in the placement`);
        assert.equal(r.inputs.size, a.size);
        assert.equal(r.inputs.image, w.image[a.cloud]);
        assert.equal(r.inputs.workload, 'web');
      }
    });
  }

  it('keeps every instance of the EU residency example in the EU or EEA', async () => {
    const policy = examplePolicy('eu-residency.yaml');
    const out = stacks.deployStack({ workloads: [workload('shop', 'eu-residency', 8)], policies: [policy], tags: {} });
    const allowed = new Set(policy.spec.residency?.countries ?? []);
    const rows = await valueOf(out.placements.shop);
    assert.ok(rows.length >= 3);
    for (const r of rows) assert.ok(allowed.has(tryFindRegion(r.cloud as CloudId, r.region)?.country ?? ''), `${r.cloud}:${r.region} is in the EU/EEA`);
    assert.ok(new Set(rows.map((r) => r.cloud)).size >= 2);
  });

  it('places the mainland China example on Alibaba cn-* regions only', async () => {
    const out = stacks.deployStack({ workloads: [workload('cn', 'china-mainland', 5)], policies: [examplePolicy('china-mainland.yaml')], tags: {} });
    const rows = await valueOf(out.placements.cn);
    assert.equal((await valueOf(out.instances.cn)).length, 5);
    for (const r of rows) {
      assert.equal(r.cloud, 'alibaba');
      assert.match(r.region, /^cn-/);
      assert.notEqual(r.region, 'cn-hongkong');
    }
  });

  it('declares exactly the counts a fixed policy allows, with stable names under the Workload component', async () => {
    const policy: RegionPolicy = {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'three-regions' },
      spec: { regions: { allow: ['aws:eu-central-1', 'aws:eu-west-1', 'azure:westeurope'] }, spread: { minRegions: 3, maxPerRegion: 2 } },
    };
    const out = stacks.deployStack({ workloads: [workload('api', 'three-regions', 6)], policies: [policy], tags: { team: 'edge' } });
    const inventory = await valueOf(out.instances.api);
    assert.deepEqual(inventory.map((i) => i.instanceId).sort(), registered.filter((r) => r.type === INSTANCE).map((_, n) => `i-${(n + 1).toString(16).padStart(8, '0')}`).sort());
    assert.deepEqual(instancesPerRegion(), new Map([['aws:eu-central-1', 2], ['aws:eu-west-1', 2], ['azure:westeurope', 2]]));
    const names = registered.filter((r) => r.type === INSTANCE).map((r) => r.name).sort();
    assert.deepEqual(names, [
      'api-aws-eu-central-1-0', 'api-aws-eu-central-1-1', 'api-aws-eu-west-1-0', 'api-aws-eu-west-1-1', 'api-azure-westeurope-0', 'api-azure-westeurope-1',
    ]);
    const component = registered.filter((r) => r.type === 'meridian:index:Workload');
    assert.deepEqual(component.map((c) => c.name), ['api']);
    const first = registered.find((r) => r.type === INSTANCE)!;
    assert.deepEqual(first.inputs.tags, { team: 'edge', 'meridian:stack': 'test' });
    assert.match(String(first.inputs.resourceUrn), /^urn:pulumi:test::meridian::meridian:index:Workload\$pulumi-nodejs:dynamic\/meridian\/cloud:Instance::api-/);
    assert.equal(typeof first.inputs.__provider, 'string');
  });

  it('declares instances in an opt-in region only when the stack\'s regions setting enables it', async () => {
    const policy: RegionPolicy = {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'cape-town' },
      spec: { regions: { allow: ['aws:af-south-1', 'aws:eu-west-1'] }, objective: 'latency', demand: [{ country: 'ZA', share: 1 }] },
    };
    const without = place(workload('za', 'cape-town', 2), policy);
    assert.ok(without.ok);
    assert.deepEqual(without.placement.assignments.map((a) => a.region), ['eu-west-1'], 'not enabled: Ireland only');
    const out = stacks.deployStack({
      workloads: [workload('za', 'cape-town', 2)], policies: [policy], tags: {}, regions: { partitions: {}, enabled: ['aws:af-south-1'] },
    });
    await valueOf(out.instances.za);
    assert.deepEqual(instancesPerRegion(), new Map([['aws:af-south-1', 2]]), 'enabled: Cape Town, nearest the users');
  });

  it('exports the placement with cost per hour and the DNS name with every address', async () => {
    const policy: RegionPolicy = {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'two-regions' },
      spec: { regions: { allow: ['aws:us-east-1', 'aws:eu-central-1'] }, spread: { minRegions: 2, maxPerRegion: '50%' } },
    };
    const w = workload('www', 'two-regions', 4, { size: { aws: 'm6i.large' } });
    const expected = place(w, policy);
    assert.ok(expected.ok);
    const out = stacks.deployStack({ workloads: [w], policies: [policy], tags: {} });
    const rows = await valueOf(out.placements.www);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      const a: RegionAssignment = expected.placement.assignments.find((x) => x.region === r.region)!;
      assert.deepEqual(r, { cloud: 'aws', region: a.region, size: 'm6i.large', count: 2, usdPerHourEach: a.usdPerHour, usdPerHour: Math.round(2 * a.usdPerHour * 10_000) / 10_000 });
    }
    assert.equal(await valueOf(out.usdPerHour), Math.round(expected.placement.usdPerHour * 10_000) / 10_000);
    const dns = await valueOf(out.dns.www);
    assert.equal(dns?.name, 'www.example.com');
    assert.equal(dns?.ttl, 60);
    assert.deepEqual(dns?.addresses, ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']);
    assert.deepEqual(dns?.regions.map((r) => [r.region, r.addresses.length]), rows.map((r) => [r.region, 2]));
  });

  it('fails the program with the constraint and reason when the policy cannot be met, declaring nothing', () => {
    const policy: RegionPolicy = {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'needs-two-clouds' },
      spec: { clouds: { allow: ['aws', 'azure'] }, spread: { minClouds: 2 } },
    };
    // Only an AWS image: the second cloud the policy demands is not available to this workload.
    const w = workload('solo', 'needs-two-clouds', 3, { image: { aws: 'ami-0a1b2c3d4e5f' } });
    assert.throws(() => stacks.deployStack({ workloads: [w], policies: [policy], tags: {} }), (err: Error) => {
      assert.ok(pulumi.RunError.isInstance(err), 'a RunError, reported without a stack trace');
      assert.match(err.message, /MERIDIAN_UNSATISFIABLE_POLICY: workload 'solo' cannot be placed under policy 'needs-two-clouds': spread\.minClouds: .+/);
      return true;
    });
    assert.deepEqual(registered, []);
  });

  it('runs the Pulumi entry point from stack config: a policy file and an inline workload', async () => {
    pulumi.runtime.setAllConfig({
      'meridian:documents': JSON.stringify(['policies/examples/eu-residency.yaml']),
      'meridian:workloads': JSON.stringify([workload('portal', 'eu-residency', 5)]),
      'meridian:clouds': JSON.stringify({ aws: { endpoint: 'http://127.0.0.1:4566', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' } } }),
      'meridian:tags': JSON.stringify({ owner: 'platform' }),
    }, ['meridian:clouds']);
    try {
      const main = (await import('../../stacks/main.js')).default as () => Promise<Stacks.StackOutputs>;
      const out = await main();
      const rows = await valueOf(out.placements.portal);
      await valueOf(out.instances.portal);
      assert.equal(rows.reduce((n, r) => n + r.count, 0), 5);
      assert.equal(registered.filter((r) => r.type === INSTANCE).length, 5);
      const first = registered.find((r) => r.type === INSTANCE)!;
      // The engine's wire form of a secret: the signature key plus the value.
      const connection = first.inputs.connection as Record<string, unknown>;
      assert.equal(connection[SECRET_SIG], SECRET_SIG_VALUE, 'the connection is passed as a secret');
      assert.equal((connection.value as { aws: { endpoint: string } }).aws.endpoint, 'http://127.0.0.1:4566');
      assert.deepEqual(first.inputs.tags, { owner: 'platform', 'meridian:stack': 'test' });
      assert.equal('catalogFile' in first.inputs, false, 'no catalog file configured: no catalogFile input');
      assert.equal((await valueOf(out.dns.portal))?.addresses.length, 5);
    } finally {
      pulumi.runtime.setAllConfig({});
    }
  });

  it('places a type only the refreshed catalog file has once meridian:catalogFile names it, passing the path as given to every Instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-program-catalog-'));
    const { cloud, region, name } = REFRESHED_ONLY_SIZE;
    const policy = { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'fra' }, spec: { regions: { allow: [`${cloud}:${region}`] } } };
    const config = {
      'meridian:policies': JSON.stringify([policy]),
      'meridian:workloads': JSON.stringify([workload('fresh', 'fra', 2, { size: { [cloud]: name } })]),
    };
    const main = (await import('../../stacks/main.js')).default as () => Promise<Stacks.StackOutputs>;
    try {
      const file = relative(process.cwd(), writeCatalogFile(dir));
      pulumi.runtime.setAllConfig(config);
      await assert.rejects(main(), (err: Error) => {
        assert.ok(pulumi.RunError.isInstance(err));
        assert.match(err.message, new RegExp(`meridian:workloads\\[0\\]/size/${cloud}: unknown ${cloud} instance type '${name}'`));
        return true;
      });
      assert.equal(registered.length, 0, 'refused without the key');

      pulumi.runtime.setAllConfig({ ...config, 'meridian:catalogFile': file });
      const out = await main();
      const rows = await valueOf(out.placements.fresh);
      assert.deepEqual(rows.map((r) => [r.cloud, r.region, r.size, r.count]), [[cloud, region, name, 2]]);
      assert.ok(rows[0].usdPerHourEach > 0, 'priced from the file');
      await valueOf(out.instances.fresh);
      const instances = registered.filter((r) => r.type === INSTANCE);
      assert.equal(instances.length, 2);
      for (const i of instances) {
        assert.equal(i.inputs.size, name);
        assert.equal(i.inputs.catalogFile, file, 'relative to the project, as configured');
      }

      await installMocks();
      pulumi.runtime.setAllConfig({ ...config, 'meridian:catalogFile': relative(process.cwd(), writeCatalogFile(dir, { format: 'other' }, 'bad.json')) });
      await assert.rejects(main(), (err: Error) => {
        assert.ok(pulumi.RunError.isInstance(err));
        assert.match(err.message, /meridian:catalogFile: catalog file .*bad\.json is not usable: \/format: expected 'meridian-catalog'/);
        return true;
      });
      assert.deepEqual(registered, []);
    } finally {
      pulumi.runtime.setAllConfig({});
      installCatalog();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts from the placement of the last deployment, so adding a replica moves none', async () => {
    const policy = examplePolicy('eu-residency.yaml');
    // From 7 to 8 replicas a fresh placement of this policy gives up one replica of a region; the last placement keeps it.
    const w = workload('grow', 'eu-residency', 8);
    const before = place(workload('grow', 'eu-residency', 7), policy);
    assert.ok(before.ok);
    lastOutputs = { placements: { grow: stacks.placementRows(before.placement) } };
    pulumi.runtime.setAllConfig({
      'meridian:documents': JSON.stringify(['policies/examples/eu-residency.yaml']),
      'meridian:workloads': JSON.stringify([w]),
    });
    try {
      const main = (await import('../../stacks/main.js')).default as () => Promise<Stacks.StackOutputs>;
      const rows = await valueOf((await main()).placements.grow);
      assert.equal(rows.reduce((n, r) => n + r.count, 0), 8);
      for (const a of before.placement.assignments) {
        const now = rows.find((r) => r.cloud === a.cloud && r.region === a.region && r.size === a.size);
        assert.ok(now && now.count >= a.replicas, `${a.cloud}:${a.region} keeps its ${a.replicas} replicas`);
      }
    } finally {
      pulumi.runtime.setAllConfig({});
    }
  });

  it('reads back the placements it exports', () => {
    const policy = examplePolicy('global-low-latency.yaml');
    const result = place(workload('g', 'global-low-latency', 12), policy);
    assert.ok(result.ok);
    const back = stacks.placementsFromOutput({ g: stacks.placementRows(result.placement), junk: [{ cloud: 'gcp' }], bad: 3 });
    assert.deepEqual(back.g.assignments, result.placement.assignments);
    assert.equal(back.g.workload, 'g');
    assert.deepEqual(back.junk.assignments, []);
    assert.equal(back.bad, undefined);
  });

  it('fails the entry point with every config problem named by key', async () => {
    pulumi.runtime.setAllConfig({
      'meridian:workloads': JSON.stringify([{ ...workload('bad', 'nowhere', 2), replicas: -1 }]),
      'meridian:readyTimeoutSeconds': '99999',
    });
    try {
      const main = (await import('../../stacks/main.js')).default as () => Promise<Stacks.StackOutputs>;
      await assert.rejects(main(), (err: Error) => {
        assert.ok(pulumi.RunError.isInstance(err));
        assert.match(err.message, /meridian:workloads\[0\]\/replicas: /);
        assert.match(err.message, /meridian:readyTimeoutSeconds: expected whole seconds/);
        return true;
      });
      assert.deepEqual(registered, []);
    } finally {
      pulumi.runtime.setAllConfig({});
    }
  });
});
