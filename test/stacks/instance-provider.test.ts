import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { MERIDIAN_TAGS, installCatalog, readCatalogFile, type CloudId, type ProvidersConfig } from '../../providers';
import { EmulatorAdmin, startEmulators, type RunningEmulators } from '../../providers/emulator';
import { idempotencyKeyFor, sharedInstanceProvider, type InstanceInputs, type InstanceOutputs, type InstanceProvider, type TagWriter } from '../../stacks';
import { closeDrivers, driverFor } from '../../stacks/instance/operations';
import { REFRESHED_ONLY_SIZE, refreshedCatalog, writeCatalogFile } from './catalog-fixture';

const RESILIENCE = {
  retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 5_000 },
  breaker: { failureThreshold: 50, coolDownMs: 300 },
  attemptTimeoutMs: 5_000,
  rateLimits: { read: { ratePerSecond: 10_000, burst: 10_000 }, write: { ratePerSecond: 10_000, burst: 10_000 } },
};

const SAMPLES: Record<CloudId, Pick<InstanceInputs, 'region' | 'size' | 'image'> & { otherSize: string }> = {
  aws: { region: 'eu-central-1', size: 't3.micro', otherSize: 'm6i.large', image: 'ami-0a1b2c3d4e5f' },
  azure: { region: 'westeurope', size: 'Standard_B1s', otherSize: 'Standard_D2s_v5', image: 'Canonical:ubuntu-24_04-lts:server:latest' },
  alibaba: { region: 'cn-hangzhou', size: 'ecs.g7.large', otherSize: 'ecs.t6-c1m1.large', image: 'ubuntu_22_04_x64_20G_alibase_20240101.vhd' },
};

function urnOf(name: string): string {
  return `urn:pulumi:test::meridian::meridian:index:Workload$pulumi-nodejs:dynamic/meridian/cloud:Instance::${name}`;
}

describe('meridian:cloud:Instance provider against the emulators', function () {
  this.timeout(30_000);
  let emus: RunningEmulators;
  let provider: InstanceProvider;
  let connection: ProvidersConfig;

  before(async () => {
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 30 });
    connection = { ...emus.providersConfig, resilience: RESILIENCE };
    provider = sharedInstanceProvider();
  });

  afterEach(() => {
    for (const e of [emus.aws, emus.azure, emus.alibaba]) e.store.reset();
  });

  after(async () => {
    closeDrivers();
    await emus?.stop();
  });

  function inputs(cloud: CloudId, name: string, extra: Partial<InstanceInputs> = {}): InstanceInputs {
    const s = SAMPLES[cloud];
    return {
      cloud, region: s.region, size: s.size, image: s.image, workload: 'web', tags: { team: 'edge' },
      resourceUrn: urnOf(name), readyTimeoutSeconds: 10, connection, ...extra,
    };
  }

  const live = (cloud: CloudId) => emus[cloud].store.all().filter((i) => i.state !== 'terminated');
  // The Azure emulator keys VMs by resource id; the driver's instance id is the VM name, its last segment.
  const shortId = (storeId: string) => storeId.split('/').pop() ?? storeId;
  const liveIds = (cloud: CloudId) => live(cloud).map((i) => shortId(i.id));
  /** Terminates an instance behind the driver's back, as someone in the cloud console would. */
  const terminateOutOfBand = (cloud: CloudId, id: string) => {
    const found = emus[cloud].store.all().find((i) => shortId(i.id) === id);
    assert.ok(found, `the emulator holds ${id}`);
    emus[cloud].store.terminate(found.id);
  };

  for (const cloud of ['aws', 'azure', 'alibaba'] as const) {
    describe(cloud, () => {
      it('creates a running instance with an address, tagged with its workload and key', async () => {
        const created = await provider.create(inputs(cloud, 'web-0'));
        const outs = created.outs as InstanceOutputs;
        assert.equal(outs.instanceId, created.id);
        assert.equal(outs.state, 'running');
        assert.match(outs.publicIp ?? '', /^\d+\.\d+\.\d+\.\d+$/);
        assert.equal(outs.cloudTags[MERIDIAN_TAGS.workload], 'web');
        assert.equal(outs.cloudTags.team, 'edge');
        assert.equal(outs.idempotencyKey, idempotencyKeyFor(inputs(cloud, 'web-0')));
        assert.equal(live(cloud).length, 1);
      });

      it('gives one instance when create runs twice with the same URN, as a retried pulumi up does', async () => {
        const first = await provider.create(inputs(cloud, 'web-1'));
        const second = await provider.create(inputs(cloud, 'web-1'));
        assert.equal(second.id, first.id);
        assert.equal(live(cloud).length, 1);
      });

      it('gives one instance when two creates with the same URN run concurrently', async () => {
        const [a, b] = await Promise.all([provider.create(inputs(cloud, 'web-2')), provider.create(inputs(cloud, 'web-2'))]);
        assert.equal(a.id, b.id);
        assert.equal(live(cloud).length, 1);
      });

      it('creates separate instances for different URNs', async () => {
        const a = await provider.create(inputs(cloud, 'web-a'));
        const b = await provider.create(inputs(cloud, 'web-b'));
        assert.notEqual(a.id, b.id);
        assert.equal(live(cloud).length, 2);
      });

      it('reports an instance terminated outside Pulumi as gone on read', async () => {
        const created = await provider.create(inputs(cloud, 'web-3'));
        const fresh = await provider.read!(created.id, created.outs as InstanceOutputs);
        assert.equal(fresh.id, created.id);
        assert.equal((fresh.props as InstanceOutputs).state, 'running');
        terminateOutOfBand(cloud, created.id);
        const after = await provider.read!(created.id, created.outs as InstanceOutputs);
        assert.equal(after.id, '');
      });

      it('creates a new instance for the same URN once the earlier one was terminated', async () => {
        // ECS answers a reused ClientToken with the deleted instance's id; a short readiness window keeps the wait brief.
        const first = await provider.create(inputs(cloud, 'web-4', { readyTimeoutSeconds: 2 }));
        terminateOutOfBand(cloud, first.id);
        const second = await provider.create(inputs(cloud, 'web-4', { readyTimeoutSeconds: 2 }));
        assert.equal((second.outs as InstanceOutputs).state, 'running');
        assert.equal(live(cloud).length, 1);
        if (cloud === 'azure') {
          // Azure: a PUT of the same VM name makes a new VM of that name, so the first key serves again.
          assert.equal((second.outs as InstanceOutputs).idempotencyKey, idempotencyKeyFor(inputs(cloud, 'web-4', { readyTimeoutSeconds: 2 }), 0));
        } else {
          // EC2 and ECS remember the ClientToken of the terminated instance: the next generation's key makes a new one.
          assert.notEqual(second.id, first.id);
          assert.equal((second.outs as InstanceOutputs).idempotencyKey, idempotencyKeyFor(inputs(cloud, 'web-4', { readyTimeoutSeconds: 2 }), 1));
        }
      });

      it('updates tags in place, keeping the instance', async () => {
        const created = await provider.create(inputs(cloud, 'web-5'));
        const olds = created.outs as InstanceOutputs;
        const news = inputs(cloud, 'web-5', { tags: { team: 'core' } });
        const d = await provider.diff!(created.id, olds, news);
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
        const updated = await provider.update!(created.id, olds, news);
        const outs = updated.outs as InstanceOutputs;
        assert.equal(outs.instanceId, created.id);
        assert.deepEqual(outs.tags, { team: 'core' });
        assert.equal(outs.idempotencyKey, olds.idempotencyKey);
        assert.equal(live(cloud).length, 1);
      });

      it('replaces on a size change with a new instance, then deletes the old one', async () => {
        const created = await provider.create(inputs(cloud, 'web-6'));
        const olds = created.outs as InstanceOutputs;
        const news = inputs(cloud, 'web-6', { size: SAMPLES[cloud].otherSize });
        const d = await provider.diff!(created.id, olds, news);
        assert.deepEqual(d.replaces, ['size']);
        assert.equal(d.deleteBeforeReplace, false);
        // Pulumi creates the replacement first (same URN, new inputs), then deletes the old instance.
        const replacement = await provider.create(news);
        assert.notEqual(replacement.id, created.id);
        await provider.delete!(created.id, olds);
        assert.deepEqual(liveIds(cloud), [replacement.id]);
      });

      it('treats deleting an instance that is already gone as success', async () => {
        const created = await provider.create(inputs(cloud, 'web-7'));
        await provider.delete!(created.id, created.outs as InstanceOutputs);
        await provider.delete!(created.id, created.outs as InstanceOutputs);
        assert.equal(live(cloud).length, 0);
      });
    });
  }

  it('writes changed tags to the cloud when the driver offers a tag writer', async () => {
    const created = await provider.create(inputs('aws', 'web-14'));
    const driver = driverFor('aws', connection) as ReturnType<typeof driverFor> & Partial<TagWriter>;
    const writes: Array<Record<string, string>> = [];
    // A stand-in tag writer over the emulator's store, as EC2 CreateTags/DeleteTags would do.
    driver.updateTags = (_region, id, tags) => {
      writes.push({ ...tags });
      const stored = emus.aws.store.get(id)!;
      emus.aws.store.setTags(id, { ...tags, [MERIDIAN_TAGS.key]: stored.tags[MERIDIAN_TAGS.key] });
      return Promise.resolve();
    };
    try {
      const olds = created.outs as InstanceOutputs;
      const updated = await provider.update!(created.id, olds, inputs('aws', 'web-14', { tags: { team: 'core', tier: 'gold' } }));
      assert.deepEqual(writes, [{ team: 'core', tier: 'gold', [MERIDIAN_TAGS.workload]: 'web' }]);
      const outs = updated.outs as InstanceOutputs;
      assert.equal(outs.cloudTags.tier, 'gold');
      assert.equal(outs.cloudTags[MERIDIAN_TAGS.key], olds.cloudTags[MERIDIAN_TAGS.key]);
    } finally {
      delete driver.updateTags;
    }
  });

  it('reports the cloud\'s own tags next to the desired ones when the driver cannot write tags', async () => {
    const created = await provider.create(inputs('aws', 'web-15'));
    const updated = await provider.update!(created.id, created.outs as InstanceOutputs, inputs('aws', 'web-15', { tags: { team: 'core' } }));
    const outs = updated.outs as InstanceOutputs;
    assert.deepEqual(outs.tags, { team: 'core' });
    assert.equal(outs.cloudTags.team, 'edge');
  });

  it('reports no change when only the order of tags differs', async () => {
    const olds = { ...inputs('aws', 'web-8', { tags: { a: '1', b: '2' } }), spot: false } as unknown as InstanceOutputs;
    const d = await provider.diff!('i-1', olds, inputs('aws', 'web-8', { tags: { b: '2', a: '1' } }));
    assert.equal(d.changes, false);
  });

  it('replaces on cloud, region and image changes and names each property', async () => {
    const olds = inputs('aws', 'web-9') as unknown as InstanceOutputs;
    const region = await provider.diff!('i-1', olds, inputs('aws', 'web-9', { region: 'us-east-1' }));
    assert.deepEqual(region.replaces, ['region']);
    const both = await provider.diff!('i-1', olds, { ...inputs('alibaba', 'web-9'), tags: { team: 'edge' } });
    assert.deepEqual(both.replaces, ['cloud', 'region', 'size', 'image']);
  });

  it('rejects bad input in check with every failing field named', async () => {
    const bad = {
      cloud: 'gcp', region: '', size: 7, image: '', workload: 'web', tags: { team: 3, [MERIDIAN_TAGS.key]: 'x' },
      resourceUrn: 'web-0', readyTimeoutSeconds: -1, connection: { aws: { endpoint: 'not a url', region: 'x' } }, colour: 'blue', catalogFile: 7,
    };
    const result = await provider.check!({} as InstanceInputs, bad as unknown as InstanceInputs);
    const props = (result.failures ?? []).map((f) => f.property).sort();
    assert.deepEqual(props, [
      'catalogFile', 'cloud', 'colour', 'connection.aws.endpoint', 'connection.aws.region', 'image', 'readyTimeoutSeconds', 'region', 'resourceUrn', 'size',
      `tags.${MERIDIAN_TAGS.key}`, 'tags.team',
    ]);
    for (const f of result.failures ?? []) assert.ok(f.reason.length > 0, `${f.property} has a reason`);
  });

  it('rejects a region or size the catalog does not know for the cloud, naming the field', async () => {
    const region = await provider.check!({} as InstanceInputs, inputs('aws', 'web-10', { region: 'westeurope' }));
    assert.deepEqual(region.failures?.map((f) => f.property), ['region']);
    assert.match(region.failures?.[0].reason ?? '', /unknown aws region 'westeurope'/);
    const size = await provider.check!({} as InstanceInputs, inputs('aws', 'web-10', { size: 'Standard_B1s' }));
    assert.deepEqual(size.failures?.map((f) => f.property), ['size']);
  });

  it('accepts valid inputs unchanged and skips values unknown during preview', async () => {
    const good = inputs('aws', 'web-11');
    assert.deepEqual(await provider.check!({} as InstanceInputs, good), { inputs: good });
    const previewing = { ...good, image: '04da6b54-80e4-46f7-96ec-b56ff0331ba9' };
    assert.equal((await provider.check!({} as InstanceInputs, previewing)).failures, undefined);
  });

  it('fails create with a CloudError naming the problem when the region has no capacity, creating nothing', async () => {
    const admin = new EmulatorAdmin(emus.aws.url);
    await admin.setFaults({ capacity: { 'eu-central-1/t3.micro': 0 } });
    try {
      await assert.rejects(provider.create(inputs('aws', 'web-12')), (err: Error & { kind?: string }) => err.kind === 'capacity');
      assert.equal(live('aws').length, 0);
    } finally {
      await admin.reset();
    }
  });

  it('serializes to a closure holding only the operations path and works after deserialization', async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => provider);
    for (const leaked of ['EC2Client', 'inversify', 'AwsProvider', 'createProviderContainer', connection.aws?.credentials?.secretAccessKey ?? '-']) {
      assert.equal(serialized.text.includes(leaked), false, `serialized provider mentions ${leaked}`);
    }
    // Load the text the way Pulumi's provider host does: as a CommonJS module exporting `handler`.
    const mod = { exports: {} as Record<string, () => InstanceProvider> };
    new Function('exports', 'require', 'module', serialized.text)(mod.exports, require, mod);
    const revived = mod.exports[serialized.exportName]();
    const created = await revived.create(inputs('aws', 'web-13'));
    assert.equal((created.outs as InstanceOutputs).state, 'running');
    assert.equal(live('aws').length, 1);
  });

  describe('with a refreshed catalog file', () => {
    let dir: string;
    let file: string;
    const { region, name } = REFRESHED_ONLY_SIZE;
    const fresh = (instance: string, extra: Partial<InstanceInputs> = {}) => inputs('aws', instance, { region, size: name, ...extra });

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'meridian-provider-catalog-'));
      // As the program passes it: relative to the project directory, the provider's working directory.
      file = relative(process.cwd(), writeCatalogFile(dir));
    });
    afterEach(() => { installCatalog(); rmSync(dir, { recursive: true, force: true }); });

    it('checks region and size against the file the inputs name, and reads the file again once it changes', async () => {
      const without = await provider.check!({} as InstanceInputs, fresh('web-20'));
      assert.deepEqual(without.failures?.map((f) => f.property), ['size'], 'the bundled catalog does not have the type');
      const withFile = fresh('web-20', { catalogFile: file });
      assert.deepEqual(await provider.check!({} as InstanceInputs, withFile), { inputs: withFile });
      assert.deepEqual((await provider.check!({} as InstanceInputs, fresh('web-20'))).failures?.map((f) => f.property), ['size'], 'absent: the bundled catalog again');

      // A refresh that no longer lists the type, written later than the first.
      const path = writeCatalogFile(dir, { ...refreshedCatalog(), clouds: { ...refreshedCatalog().clouds, aws: { ...refreshedCatalog().clouds.aws, sizes: [] } } });
      const later = new Date(Date.now() + 60_000);
      utimesSync(path, later, later);
      const after = await provider.check!({} as InstanceInputs, withFile);
      assert.deepEqual(after.failures?.map((f) => f.property), ['size']);
    });

    it('names catalogFile and the file\'s problems when the file cannot be used, and create makes nothing', async () => {
      const missing = await provider.check!({} as InstanceInputs, fresh('web-21', { catalogFile: 'no-such-catalog.json' }));
      const failure = missing.failures?.find((f) => f.property === 'catalogFile');
      assert.match(failure?.reason ?? '', /^catalog file .*no-such-catalog\.json is not usable: \/: cannot be read: ENOENT/);
      const bad = relative(process.cwd(), writeCatalogFile(dir, { format: 'meridian-catalog', version: 2 }, 'v2.json'));
      await assert.rejects(provider.create(inputs('aws', 'web-21', { catalogFile: bad })),
        /invalid instance inputs: catalogFile: catalog file .*v2\.json is not usable: \/version: version 2 is not supported/);
      assert.equal(live('aws').length, 0);
    });

    it('creates an instance of a type only the file has, where the cloud offers it', async () => {
      const catalogs = readCatalogFile(join(process.cwd(), file));
      // The cloud that answered the refresh: an emulator offering what the file lists.
      const refreshed = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 30, catalogs });
      try {
        const created = await provider.create(fresh('web-22', { catalogFile: file, connection: { ...refreshed.providersConfig, resilience: RESILIENCE } }));
        const outs = created.outs as InstanceOutputs;
        assert.equal(outs.state, 'running');
        assert.equal(outs.size, name);
        assert.equal(outs.catalogFile, file, 'the state keeps the path as given');
        assert.deepEqual(refreshed.aws.store.all().map((i) => i.type), [name]);
      } finally {
        closeDrivers();
        await refreshed.stop();
      }
    });

    it('updates in place when the file is added or changed, never replacing; absent on both sides is no change', async () => {
      const created = await provider.create(inputs('aws', 'web-23'));
      const olds = created.outs as InstanceOutputs;
      assert.equal('catalogFile' in olds, false, 'absent stays absent in the state');
      assert.deepEqual(await provider.diff!(created.id, olds, inputs('aws', 'web-23')), { changes: false, replaces: [], deleteBeforeReplace: false });
      const added = await provider.diff!(created.id, olds, inputs('aws', 'web-23', { catalogFile: file }));
      assert.deepEqual(added, { changes: true, replaces: [], deleteBeforeReplace: false });
      const updated = await provider.update!(created.id, olds, inputs('aws', 'web-23', { catalogFile: file }));
      assert.equal((updated.outs as InstanceOutputs).catalogFile, file);
      assert.equal((updated.outs as InstanceOutputs).instanceId, created.id, 'the same instance');
      assert.deepEqual(liveIds('aws'), [created.id]);
      const changed = await provider.diff!(created.id, updated.outs as InstanceOutputs, inputs('aws', 'web-23', { catalogFile: 'other/catalog.json' }));
      assert.deepEqual(changed.replaces, []);
      assert.equal(changed.changes, true);
    });
  });
});
