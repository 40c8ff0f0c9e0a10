import { strict as assert } from 'node:assert';
import { MERIDIAN_TAGS, type CloudId } from '../../../providers';
import { loadSchedulerConfig } from '../../../scheduler/config';
import type { Workload } from '../../../scheduler/placement/types';
import { Reconciler } from '../../../scheduler/reconciler';
import { openSqliteStore, type StateStore, type SyncStateStore } from '../../../scheduler/store';
import { FakeCloud, fakePlace, fakePolicies, waitFor, type FakePolicy } from '../fakes';

const RECONCILER = loadSchedulerConfig({
  api: { token: 'test-token-0123456789' },
  reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2, capacityCoolDownSeconds: 0.4, unhealthyAfterFailures: 2, provisionTimeoutSeconds: 5, concurrencyPerRegion: 4 },
}).reconciler;

interface Fixture {
  store: StateStore;
  /** The same store, answering synchronously. */
  sync: SyncStateStore;
  clouds: Record<CloudId, FakeCloud>;
  reconciler: Reconciler<FakePolicy>;
}

function workload(replicas: number, policy = 'p'): Workload {
  return { name: 'web', replicas, size: { aws: 't', azure: 't', alibaba: 't' }, image: { aws: 'ami-1', azure: 'img', alibaba: 'img' }, policy };
}

function policy(regions: Array<[CloudId, string]>, perRegion: number, extra: Partial<FakePolicy> = {}): FakePolicy {
  return { candidates: regions.map(([cloud, region]) => ({ cloud, region, size: 't' })), perRegion, ...extra };
}

describe('Reconciler with fake clouds', () => {
  let fx: Fixture | undefined;

  function setup(): Fixture {
    const store = openSqliteStore({ dataDir: ':memory:' });
    const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    const reconciler = new Reconciler<FakePolicy>({
      store, provider: (c) => clouds[c], place: fakePlace, policies: fakePolicies, config: RECONCILER, log: () => undefined,
    });
    fx = { store, sync: store.sync, clouds, reconciler };
    return fx;
  }

  afterEach(async () => {
    await fx?.reconciler.stop(1000);
    await fx?.store.close();
    fx = undefined;
  });

  const liveIn = (f: Fixture, cloud: CloudId, region?: string) => f.clouds[cloud].live(region).length;
  const converged = async (f: Fixture) => (await f.reconciler.status('web'))?.converged === true;

  it('journals every create with its idempotency key before the cloud call, then converges', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1'], ['azure', 'eastus']], 3));
    f.sync.putWorkload(workload(5));
    const unjournalled: string[] = [];
    f.clouds.aws.onCreate = f.clouds.azure.onCreate = (spec) => {
      const rec = f.sync.getRecord(spec.idempotencyKey);
      const journalled = f.sync.listJournal('web').some((e) => e.key === spec.idempotencyKey && e.operation === 'create');
      if (!rec || !journalled) unjournalled.push(spec.idempotencyKey);
    };
    await f.reconciler.start();
    await waitFor('convergence', () => converged(f));
    assert.deepEqual(unjournalled, []);
    assert.equal(liveIn(f, 'aws', 'us-east-1'), 3);
    assert.equal(liveIn(f, 'azure', 'eastus'), 2);
    const tagged = f.clouds.aws.live().every((i) => i.tags[MERIDIAN_TAGS.workload] === 'web' && i.tags[MERIDIAN_TAGS.key]?.startsWith('mrd:web:aws:us-east-1:'));
    assert.ok(tagged, 'every instance carries the workload and key tags');
  });

  it('keeps the serving count at the replica count throughout a move to another region, including while the old replicas are terminated', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1']], 10));
    f.sync.putWorkload(workload(4));
    await f.reconciler.start();
    await waitFor('first convergence', () => converged(f));
    const old = new Set(f.clouds.aws.live().map((i) => i.id));
    // Serving capacity: running instances in the clouds, and what the reconciler reports ready.
    const running = (except?: string) => (['aws', 'azure', 'alibaba'] as const)
      .reduce((n, c) => n + f.clouds[c].running().filter((i) => i.id !== except).length, 0);
    // At the moment each terminate reaches the cloud, what serves without that instance.
    const atTerminate: number[] = [];
    f.clouds.aws.onTerminate = (_region, id) => { if (old.has(id)) atTerminate.push(running(id)); };
    let minRunning = Infinity;
    let minReady = Infinity;
    let samples = 0;
    const sample = async (): Promise<void> => {
      minRunning = Math.min(minRunning, running());
      minReady = Math.min(minReady, (await f.reconciler.status('web'))?.ready ?? 0);
      samples++;
    };
    const sampler = setInterval(() => { void sample(); }, 2);
    try {
      f.clouds.azure.stuck.add('westeurope');
      f.sync.putPolicy('p', policy([['azure', 'westeurope']], 10));
      f.reconciler.trigger();
      await waitFor('new replicas created (still pending)', () => f.clouds.azure.live('westeurope').length === 4);
      // Several reconcile passes look at the pending replicas: nothing old may go meanwhile.
      const reads = f.clouds.azure.readCalls;
      await waitFor('passes over the pending replicas', () => f.clouds.azure.readCalls >= reads + 8 && samples >= 10);
      assert.equal(liveIn(f, 'aws', 'us-east-1'), 4, 'old replicas stay while the new ones are not running');
      assert.deepEqual(atTerminate, [], 'no old replica terminated before its replacement runs');
      f.clouds.azure.stuck.delete('westeurope');
      await waitFor('the move', async () => await converged(f) && liveIn(f, 'aws') === 0);
      await sample();
    } finally {
      clearInterval(sampler);
    }
    assert.equal(liveIn(f, 'azure', 'westeurope'), 4);
    assert.equal(atTerminate.length, 4, 'each old replica was terminated once, sampled as it went');
    assert.ok(atTerminate.every((n) => n >= 4), `serving without the replica being terminated: ${atTerminate.join(', ')}`);
    assert.ok(minRunning >= 4, `running instances dropped to ${minRunning} during the move`);
    assert.ok(minReady >= 4, `ready replicas dropped to ${minReady} during the move`);
  });

  it('moves replicas out of a region whose quota is used up, constrains the whole region, and returns once it has quota again', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['azure', 'eastus'], ['alibaba', 'cn-hangzhou']], 6));
    f.clouds.azure.noQuota.add('eastus');
    f.sync.putWorkload(workload(6));
    await f.reconciler.start();
    await waitFor('placement elsewhere', async () => await converged(f) && liveIn(f, 'alibaba', 'cn-hangzhou') === 6);
    assert.equal(liveIn(f, 'azure'), 0);
    const constraint = f.sync.listConstraints(Date.now()).find((c) => c.cloud === 'azure');
    assert.equal(constraint?.region, 'eastus');
    assert.equal(constraint?.size, '', 'a quota binds every size of the region, unlike a capacity shortage of one size');
    assert.match(constraint?.reason ?? '', /quota/);
    f.clouds.azure.noQuota.delete('eastus');
    await waitFor('failback', async () => await converged(f) && liveIn(f, 'azure', 'eastus') === 6 && liveIn(f, 'alibaba') === 0);
  });

  it('moves replicas away from a region out of capacity and back once it recovers', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1'], ['alibaba', 'cn-hangzhou']], 6));
    f.clouds.aws.noCapacity.add('us-east-1');
    f.sync.putWorkload(workload(6));
    await f.reconciler.start();
    await waitFor('placement elsewhere', async () => await converged(f) && liveIn(f, 'alibaba', 'cn-hangzhou') === 6);
    assert.equal(liveIn(f, 'aws'), 0);
    const constraint = f.sync.listConstraints(Date.now()).find((c) => c.cloud === 'aws');
    assert.equal(constraint?.region, 'us-east-1');
    assert.equal(constraint?.size, 't');
    f.clouds.aws.noCapacity.delete('us-east-1');
    await waitFor('failback', async () => await converged(f) && liveIn(f, 'aws', 'us-east-1') === 6 && liveIn(f, 'alibaba') === 0);
  });

  it('goes on with healthy regions while one region is in an outage, and fails back after it', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1'], ['azure', 'eastus'], ['alibaba', 'cn-hangzhou']], 3));
    f.clouds.azure.outages.add('eastus');
    f.sync.putWorkload(workload(6));
    await f.reconciler.start();
    await waitFor('the other regions', async () => (await f.reconciler.status('web'))?.ready === 6 && liveIn(f, 'aws') === 3 && liveIn(f, 'alibaba') === 3);
    assert.equal(f.reconciler.health.isHealthy('azure', 'eastus'), false);
    f.clouds.azure.outages.delete('eastus');
    await waitFor('failback to eastus', async () => await converged(f) && liveIn(f, 'azure', 'eastus') === 3 && liveIn(f, 'alibaba') === 0);
  });

  it('stores region health only when it flips, and a reconciler started later on the store avoids the failing region until a call there succeeds', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['azure', 'eastus'], ['aws', 'us-east-1']], 3));
    f.clouds.azure.outages.add('eastus');
    const written: string[] = [];
    f.store.onChange((c) => { if (c.kind === 'health') written.push(c.name); });
    f.sync.putWorkload(workload(3));
    await f.reconciler.start();
    await waitFor('eastus unhealthy', () => !f.reconciler.health.isHealthy('azure', 'eastus'));
    // Calls to the failing region go on (refreshes, probes); none of them is a write.
    const reads = f.clouds.azure.readCalls;
    await waitFor('more calls to the failing region', () => f.clouds.azure.readCalls >= reads + 3);
    assert.deepEqual(written, ['azure/eastus']);
    assert.deepEqual(f.sync.listRegionHealth().map((h) => [h.cloud, h.region, h.healthy, h.breaker, h.lastError]), [['azure', 'eastus', false, 'open', 'ServiceUnavailable']]);
    await f.reconciler.stop(1000);

    // The next leader (or a restart) has not called the region yet, and still avoids it.
    const next = new Reconciler<FakePolicy>({
      store: f.store, provider: (c) => f.clouds[c], place: fakePlace, policies: fakePolicies, config: RECONCILER, log: () => undefined,
    });
    fx = { ...f, reconciler: next };
    assert.equal(next.health.isHealthy('azure', 'eastus'), true);
    await next.start();
    assert.equal(next.health.isHealthy('azure', 'eastus'), false);
    assert.ok((await next.exclusions()).some((e) => e.cloud === 'azure' && e.region === 'eastus'));
    f.clouds.azure.outages.delete('eastus');
    await waitFor('eastus healthy again, as stored', () => f.sync.listRegionHealth()[0]?.healthy === true);
    assert.deepEqual(written, ['azure/eastus', 'azure/eastus']);
    await waitFor('failback to eastus', async () => await converged(fx as Fixture) && liveIn(f, 'azure', 'eastus') === 3);
  });

  it('gives up a region whose instances never reach running within the provisioning timeout', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1'], ['azure', 'eastus']], 2, { provisionTimeoutSeconds: 0.3 }));
    f.clouds.aws.stuck.add('us-east-1');
    f.sync.putWorkload(workload(2));
    await f.reconciler.start();
    await waitFor('move to eastus', async () => await converged(f) && liveIn(f, 'azure', 'eastus') === 2 && liveIn(f, 'aws') === 0);
    assert.match(f.sync.listConstraints(Date.now()).find((c) => c.cloud === 'aws')?.reason ?? '', /provisioning took longer/);
  });

  it('resumes after a crash without duplicates: replays a pending create and removes an unknown tagged instance', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1']], 5));
    f.sync.putWorkload(workload(2));
    // A previous process journalled an intent and the cloud created it, but the reply was lost.
    const key = 'mrd:web:aws:us-east-1:' + String(f.sync.nextOrdinal('web'));
    f.sync.recordCreateIntent({ key, workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't', image: 'ami-1', ordinal: 0 });
    const made = await f.clouds.aws.createInstance({ workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't', image: 'ami-1', idempotencyKey: key, tags: {} });
    // And an instance tagged for the workload that no journal knows about.
    const stray = f.clouds.aws.plant('us-east-1', { [MERIDIAN_TAGS.workload]: 'web', [MERIDIAN_TAGS.key]: 'mrd:web:aws:us-east-1:999' });
    await f.reconciler.start();
    await waitFor('convergence', async () => await converged(f) && liveIn(f, 'aws') === 2);
    const ids = f.clouds.aws.live().map((i) => i.id);
    assert.ok(ids.includes(made.id), 'the instance of the replayed key is kept');
    assert.ok(!ids.includes(stray.id), 'the unknown instance is terminated');
    assert.equal(f.sync.listJournal().filter((e) => e.outcome === 'pending').length, 0);
  });

  it('terminates every instance of a deleted workload and forgets it', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1'], ['azure', 'eastus']], 2));
    f.sync.putWorkload(workload(3));
    await f.reconciler.start();
    await waitFor('convergence', () => converged(f));
    assert.ok(f.sync.markWorkloadDeleted('web'));
    f.reconciler.trigger();
    await waitFor('teardown', () => f.sync.getWorkload('web') === undefined);
    assert.equal(liveIn(f, 'aws') + liveIn(f, 'azure'), 0);
  });

  it('does not replay a create that finished after the pass listed its record', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1']], 1));
    f.sync.putWorkload(workload(1));
    // Listings taken while the create is in flight are handed back only once it has finished, as a
    // slow store (a database across the network) does when a pass's read overlaps the call.
    const inner = f.store;
    let stale = 0;
    const slow: StateStore = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop !== 'listRecords') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<StateStore['listRecords']>) => {
          const rows = await target.listRecords(...args);
          if (rows.some((r) => r.state === 'creating')) {
            stale++;
            await waitFor('the create to finish', () => f.sync.listRecords('web').every((r) => r.state === 'active'));
            await new Promise((r) => setTimeout(r, 10));
          }
          return rows;
        };
      },
    });
    // Each create takes a while, so that passes run while it is in flight.
    const slowCreate = (cloud: FakeCloud): FakeCloud => new Proxy(cloud, {
      get(target, prop, receiver) {
        if (prop !== 'createInstance') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<FakeCloud['createInstance']>) => {
          await new Promise((r) => setTimeout(r, 150));
          return target.createInstance(...args);
        };
      },
    });
    const reconciler = new Reconciler<FakePolicy>({
      store: slow, provider: (c) => slowCreate(f.clouds[c]), place: fakePlace, policies: fakePolicies, config: RECONCILER, log: () => undefined,
    });
    f.reconciler = reconciler;
    await reconciler.start();
    await waitFor('convergence', () => converged(f));
    reconciler.trigger();
    await waitFor('a later pass', async () => (await reconciler.status('web'))?.converged === true && f.clouds.aws.readCalls > 0);
    assert.ok(stale > 0, 'a pass listed the record while its create was in flight');
    assert.equal(f.clouds.aws.createCalls, 1);
    assert.equal(liveIn(f, 'aws'), 1);
  });

  it('counts every workload\'s instances in one go as status counts each one', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1'], ['azure', 'eastus']], 3));
    f.sync.putWorkload(workload(4));
    f.sync.putWorkload({ ...workload(0), name: 'idle' });
    await f.reconciler.start();
    await waitFor('convergence', () => converged(f));
    await f.reconciler.stop(1000);
    // One replica on its way out: terminating, no longer ready.
    const [first] = f.sync.listRecords('web');
    f.sync.updateRecord(first!.key, { state: 'terminating' });
    const all = await f.reconciler.allCounts();
    assert.deepEqual([...all.keys()].sort(), ['idle', 'web']);
    for (const name of ['web', 'idle']) {
      const s = (await f.reconciler.status(name))!;
      assert.deepEqual(all.get(name), { desired: s.desired, ready: s.ready, pending: s.pending, terminating: s.terminating });
    }
    assert.deepEqual(all.get('web'), { desired: 4, ready: 3, pending: 0, terminating: 1 });
    assert.deepEqual(all.get('idle'), { desired: 0, ready: 0, pending: 0, terminating: 0 });
  });

  it('counts a call that fails after the lease ended as the lease\'s end, not as the region failing', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1']], 1));
    f.sync.putWorkload(workload(1));
    f.clouds.aws.outages.add('us-east-1');
    let leading = true;
    // The lease ends while the create is under way; the region's refusal then comes back.
    const losing = new Proxy(f.clouds.aws, {
      get(target, prop, receiver) {
        if (prop !== 'createInstance') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<FakeCloud['createInstance']>) => {
          leading = false;
          return target.createInstance(...args);
        };
      },
    });
    const reconciler = new Reconciler<FakePolicy>({
      store: f.store, provider: (c) => (c === 'aws' ? losing : f.clouds[c]), place: fakePlace, policies: fakePolicies, config: RECONCILER,
      log: () => undefined, fence: () => (leading ? 7 : undefined),
    });
    f.reconciler = reconciler;
    await reconciler.start();
    await waitFor('the create', () => f.clouds.aws.createCalls > 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(reconciler.health.state('aws', 'us-east-1').consecutiveFailures, 0);
    assert.equal(reconciler.health.isHealthy('aws', 'us-east-1'), true);
  });

  it('scales down by removing surplus replicas and never creating new ones', async () => {
    const f = setup();
    f.sync.putPolicy('p', policy([['aws', 'us-east-1']], 10));
    f.sync.putWorkload(workload(6));
    await f.reconciler.start();
    await waitFor('convergence', () => converged(f));
    const creates = f.clouds.aws.createCalls;
    f.sync.putWorkload(workload(2));
    f.reconciler.trigger();
    await waitFor('scale down', async () => await converged(f) && liveIn(f, 'aws') === 2);
    assert.equal(f.clouds.aws.createCalls, creates);
  });
});
