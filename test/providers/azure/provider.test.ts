import { strict as assert } from 'node:assert';
import { CloudError, MERIDIAN_TAGS, type Instance } from '../../../providers';
import { createProviderContainer, providerFor } from '../../../providers/drivers';
import { vmNameFor } from '../../../providers/azure/mapping';
import type { AttemptEvent } from '../../../providers/resilience';
import { waitFor, waitForValue } from '../../tools/wait';
import { TEST_CREDENTIALS } from '../../../providers/emulator';
import { arm, calls, spec, startAzure, totalCalls, vmBody, vmPath, type AzureFixture } from './fixtures';

function isCloudErrorOf(kind: CloudError['kind'], code?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof CloudError, `expected a CloudError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    if (code !== undefined) assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('providers/azure AzureProvider against the ARM emulator', function () {
  this.timeout(20_000);
  let fx: AzureFixture | undefined;
  afterEach(async () => { await fx?.stop(); fx = undefined; });

  it('creates a VM with addresses and tags, reads it, lists it and terminates it idempotently', async () => {
    fx = await startAzure();
    const created = await fx.provider.createInstance(spec({ idempotencyKey: 'web-0' }));
    assert.equal(created.id, vmNameFor('web-0'));
    assert.equal(created.region, 'eastus');
    assert.equal(created.size, 'Standard_B1s');
    assert.equal(created.state, 'running');
    assert.match(created.publicIp ?? '', /^20\.\d+\.\d+\.\d+$/);
    assert.match(created.privateIp ?? '', /^10\.\d+\.\d+\.\d+$/);
    assert.deepEqual(created.tags, { team: 'edge', [MERIDIAN_TAGS.workload]: 'web', [MERIDIAN_TAGS.key]: 'web-0' });
    assert.ok(!Number.isNaN(Date.parse(created.launchedAt)));

    assert.deepEqual(await fx.provider.getInstance('eastus', created.id), created);
    assert.equal(await fx.provider.getInstance('westeurope', created.id), undefined, 'a VM is only found in its own region');
    const listed: Instance[] = [];
    for await (const i of fx.provider.listInstances('eastus', { [MERIDIAN_TAGS.key]: 'web-0' })) listed.push(i);
    assert.deepEqual(listed.map((i) => [i.id, i.publicIp, i.privateIp]), [[created.id, created.publicIp, created.privateIp]]);

    await fx.provider.terminateInstance('eastus', created.id);
    assert.equal(await fx.provider.getInstance('eastus', created.id), undefined);
    await fx.provider.terminateInstance('eastus', created.id);
    assert.equal((await fx.admin.instances()).length, 0);
    const stats = await fx.admin.stats();
    assert.equal(calls(stats, 'VirtualMachines_Delete', 'ok'), 1);
    assert.equal(calls(stats, 'VirtualMachines_Delete', 'NoContent'), 1);
  });

  it('shows a VM as pending while Azure provisions it and running once the operation succeeds', async () => {
    // Long enough that a busy machine still sees the VM provisioning right after it appears.
    const pendingMs = 2000;
    fx = await startAzure({ emulator: { pendingMs } });
    const provider = fx.provider;
    const name = vmNameFor('slow-0');
    const t0 = Date.now();
    const creating = provider.createInstance(spec({ idempotencyKey: 'slow-0' }));
    const seen: Instance = await waitForValue('the VM to appear', () => provider.getInstance('eastus', name), 5_000);
    assert.ok(Date.now() - t0 < pendingMs, 'seen within the provisioning time');
    assert.equal(seen.state, 'pending');
    assert.equal(seen.publicIp, undefined, 'a public address is assigned once the VM runs');
    const done = await creating;
    assert.equal(done.state, 'running');
    assert.ok(done.publicIp);
    assert.equal((await fx.provider.getInstance('eastus', name))?.state, 'running');
  });

  it('lists 250 VMs over three pages of 100 and filters them by region, resource group and tags', async () => {
    fx = await startAzure({ emulator: { pendingMs: 0, maxPageSize: 100 } });
    const provider = fx.provider;
    const url = fx.emu.url;
    // Seeded over raw ARM PUTs (one call each) so the test measures listing, not 250 driver creates.
    const seeds: Array<[string, string, Record<string, string>]> = [];
    for (let i = 0; i < 250; i++) seeds.push([`fleet-${String(i).padStart(3, '0')}`, 'eastus', { shard: i % 2 ? 'odd' : 'even', [MERIDIAN_TAGS.workload]: 'web' }]);
    for (let i = 0; i < 5; i++) seeds.push([`eu-${i}`, 'westeurope', {}]);
    for (let i = 0; i < seeds.length; i += 25) {
      const batch = await Promise.all(seeds.slice(i, i + 25).map(([name, location, tags]) => arm(url, 'PUT', vmPath(name), vmBody(name, location, { tags }))));
      assert.ok(batch.every((r) => r.status === 201));
    }
    // A VM of the same subscription and region in another resource group is not the driver's.
    const foreign = vmPath('foreign-0').replace(`/resourceGroups/${TEST_CREDENTIALS.azure.resourceGroup}/`, '/resourceGroups/someone-else/');
    assert.equal((await arm(url, 'PUT', foreign, vmBody('foreign-0', 'eastus', { tags: { [MERIDIAN_TAGS.workload]: 'web' } }))).status, 201);
    const before = await fx.admin.stats();

    const all: Instance[] = [];
    for await (const i of provider.listInstances('eastus')) all.push(i);
    assert.equal(all.length, 250);
    assert.equal(new Set(all.map((i) => i.id)).size, 250);
    assert.ok(all.every((i) => i.publicIp && i.privateIp && i.state === 'running'));
    const after = await fx.admin.stats();
    assert.equal(calls(after, 'VirtualMachines_ListByLocation') - calls(before, 'VirtualMachines_ListByLocation'), 3, 'one call per page of 100');

    const odd: Instance[] = [];
    for await (const i of provider.listInstances('eastus', { shard: 'odd', [MERIDIAN_TAGS.workload]: 'web' })) odd.push(i);
    assert.equal(odd.length, 125);
    assert.ok(odd.every((i) => i.tags.shard === 'odd'));
    const eu: Instance[] = [];
    for await (const i of provider.listInstances('westeurope')) eu.push(i);
    assert.equal(eu.length, 5);
  });

  it('creates exactly one VM when the same idempotency key is used twice at once', async () => {
    fx = await startAzure({ emulator: { pendingMs: 100 } });
    const [a, b] = await Promise.all([
      fx.provider.createInstance(spec({ idempotencyKey: 'twice' })),
      fx.provider.createInstance(spec({ idempotencyKey: 'twice' })),
    ]);
    assert.equal(a.id, b.id);
    assert.equal((await fx.admin.instances()).length, 1);
  });

  it('returns the same VM when the reply to its PUT was lost and the driver retried', async () => {
    fx = await startAzure();
    await fx.admin.setFaults({ dropReplies: 1 });
    const inst = await fx.provider.createInstance(spec({ idempotencyKey: 'lost-reply' }));
    assert.equal(inst.id, vmNameFor('lost-reply'));
    const stats = await fx.admin.stats();
    assert.equal(calls(stats, 'VirtualMachines_CreateOrUpdate'), 2, 'the dropped PUT and its retry both reached ARM');
    const all = await fx.admin.instances();
    assert.equal(all.length, 1);
    assert.equal(all[0].state, 'running');
  });

  it('refuses an idempotency key reused for a different size without touching the VM', async () => {
    fx = await startAzure();
    await fx.provider.createInstance(spec({ idempotencyKey: 'reuse' }));
    await assert.rejects(fx.provider.createInstance(spec({ idempotencyKey: 'reuse', size: 'Standard_D2s_v5' })),
      isCloudErrorOf('invalid', 'IdempotencyKeyReused'));
    const all = await fx.admin.instances();
    assert.equal(all.length, 1);
    assert.equal(all[0].type, 'Standard_B1s');
  });

  it('completes a create while half the calls are throttled, waiting at least Retry-After each time', async () => {
    fx = await startAzure({ emulator: { pendingMs: 0 } });
    await fx.admin.setFaults({ throttleShare: 0.5, retryAfterSeconds: 1 });
    const events: AttemptEvent[] = [];
    fx.driver.resilience.onAttempt((e) => events.push(e));
    const t0 = Date.now();
    const inst = await fx.provider.createInstance(spec({ idempotencyKey: 'throttled' }));
    const elapsed = Date.now() - t0;
    assert.equal(inst.state, 'running');
    const throttled = events.filter((e) => e.outcome === 'throttled').length;
    assert.ok(throttled >= 1, 'some attempts were throttled');
    assert.ok(events.length <= 12, `attempts stay bounded, got ${events.length}`);
    assert.ok(elapsed >= throttled * 1000 - 50, `waited ${elapsed} ms for ${throttled} Retry-After of 1 s`);
    const stats = await fx.admin.stats();
    assert.equal(Object.values(stats).reduce((n, row) => n + (row.TooManyRequests ?? 0), 0), throttled);
    assert.equal((await fx.admin.instances()).length, 1);
  });

  it('raises capacity after exactly one attempt when the region has no room for the size', async () => {
    fx = await startAzure();
    await fx.admin.setFaults({ capacity: { 'eastus/Standard_B1s': 0 } });
    const events: AttemptEvent[] = [];
    fx.driver.resilience.onAttempt((e) => events.push(e));
    await assert.rejects(fx.provider.createInstance(spec({ idempotencyKey: 'full' })), isCloudErrorOf('capacity', 'AllocationFailed'));
    assert.equal(events.filter((e) => e.operation === 'virtualMachines.createOrUpdate').length, 1);
    assert.equal((await fx.admin.instances()).length, 0);
  });

  it('raises quota when the regional cores quota is used up', async () => {
    fx = await startAzure();
    await fx.admin.setFaults({ quota: { eastus: 1 } });
    await fx.provider.createInstance(spec({ idempotencyKey: 'q-0' }));
    await assert.rejects(fx.provider.createInstance(spec({ idempotencyKey: 'q-1' })), (e: unknown) => {
      isCloudErrorOf('quota', 'OperationNotAllowed')(e);
      assert.equal((e as CloudError).httpStatus, 409);
      assert.ok((e as CloudError).requestId, 'the ARM request id is kept');
      return true;
    });
  });

  it('raises auth naming the credential to check when ARM rejects the token', async () => {
    fx = await startAzure({ token: 'not-the-token' });
    const events: AttemptEvent[] = [];
    fx.driver.resilience.onAttempt((e) => events.push(e));
    await assert.rejects(fx.provider.createInstance(spec()), (e: unknown) => {
      isCloudErrorOf('auth', 'InvalidAuthenticationToken')(e);
      assert.match((e as Error).message, /azure\.token/);
      assert.match((e as Error).message, /AZURE_CLIENT_ID/);
      return true;
    });
    assert.equal(events.length, 1, 'auth failures are not retried');
    assert.equal(calls(await fx.admin.stats(), 'Authenticate', 'InvalidAuthenticationToken'), 1);
  });

  it('opens the breaker during a region outage, fails fast without calling ARM, and recovers after the cool-down', async () => {
    fx = await startAzure();
    const inst = await fx.provider.createInstance(spec({ idempotencyKey: 'outage' }));
    await fx.admin.setFaults({ outages: ['eastus'] });
    await assert.rejects(fx.provider.getInstance('eastus', inst.id), isCloudErrorOf('unavailable'));
    assert.equal(fx.driver.resilience.breakerState('eastus'), 'open');
    const failures = calls(await fx.admin.stats(), 'VirtualMachines_Get', 'ServiceUnavailable');
    assert.equal(failures, 3, 'the breaker opened after failureThreshold failures');
    const before = totalCalls(await fx.admin.stats());
    await assert.rejects(fx.provider.getInstance('eastus', inst.id), isCloudErrorOf('unavailable', 'CircuitOpen'));
    assert.equal(totalCalls(await fx.admin.stats()), before, 'no request reached ARM while the breaker was open');

    await fx.admin.setFaults({ outages: [] });
    const driver = fx.driver;
    await waitFor('the breaker cool-down to end', () => driver.resilience.breakerState('eastus') === 'half-open', 5_000);
    assert.equal((await fx.provider.getInstance('eastus', inst.id))?.id, inst.id);
    assert.equal(fx.driver.resilience.breakerState('eastus'), 'closed');
  });

  it('lists a region through that region: an outage there fails its listing as unavailable while other regions still list', async () => {
    fx = await startAzure();
    const east = await fx.provider.createInstance(spec({ idempotencyKey: 'east-0' }));
    const west = await fx.provider.createInstance(spec({ idempotencyKey: 'west-0', region: 'westeurope' }));
    await fx.admin.setFaults({ outages: ['eastus'] });
    const list = async (region: string) => {
      const out: string[] = [];
      for await (const i of fx?.provider.listInstances(region) ?? []) out.push(i.id);
      return out;
    };
    await assert.rejects(list('eastus'), isCloudErrorOf('unavailable'));
    assert.notEqual(fx.driver.resilience.breakerState('eastus'), 'closed', 'the failed listing counts against the region');
    assert.deepEqual(await list('westeurope'), [west.id]);
    assert.notEqual(fx.driver.resilience.breakerState('eastus'), 'closed', 'a listing of another region does not close it');
    assert.ok(calls(await fx.admin.stats(), 'VirtualMachines_ListByLocation', 'ServiceUnavailable') > 0);

    await fx.admin.setFaults({ outages: [] });
    const driver = fx.driver;
    await waitFor('the breaker cool-down to end', () => driver.resilience.breakerState('eastus') === 'half-open', 5_000);
    assert.deepEqual(await list('eastus'), [east.id]);
  });

  it('leaves retrying to the resilience layer: each driver attempt is one ARM request', async () => {
    fx = await startAzure({ resilience: { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 } } });
    await fx.admin.setFaults({ errorShare: 1 });
    await assert.rejects(fx.provider.getInstance('eastus', 'vm1'), isCloudErrorOf('unavailable', 'InternalServerError'));
    assert.equal(calls(await fx.admin.stats(), 'VirtualMachines_Get', 'InternalServerError'), 2);
  });

  it('reports a missing subscription or resource group as invalid configuration', async () => {
    const provider = providerFor(createProviderContainer({}), 'azure');
    await assert.rejects(provider.createInstance(spec()), isCloudErrorOf('invalid', 'MissingConfig'));
  });

  it('rejects bad input as invalid before sending any request', async () => {
    fx = await startAzure();
    const tooManyTags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, 'v']));
    const cases: Array<[string, Parameters<typeof spec>[0]]> = [
      ['unknown region', { region: 'atlantis' }],
      ['unknown size', { size: 'Standard_Z999' }],
      ['empty image', { image: '' }],
      ['malformed image', { image: 'ubuntu' }],
      ['empty workload', { workload: '' }],
      ['too many tags', { tags: tooManyTags }],
      ['long tag value', { tags: { note: 'x'.repeat(257) } }],
      ['forbidden tag name', { tags: { 'a/b': 'v' } }],
      ['wrong cloud', { cloud: 'aws' }],
    ];
    for (const [what, overrides] of cases) {
      await assert.rejects(fx.provider.createInstance(spec(overrides)), isCloudErrorOf('invalid'), what);
    }
    await assert.rejects(fx.provider.getInstance('atlantis', 'vm'), isCloudErrorOf('invalid'));
    await assert.rejects(fx.provider.getInstance('eastus', 'bad name!'), isCloudErrorOf('invalid', 'InvalidInstanceId'));
    await assert.rejects(fx.provider.terminateInstance('eastus', ''), isCloudErrorOf('invalid'));
    assert.equal(totalCalls(await fx.admin.stats()), 0);
  });

  it('names the field in an invalid spec error', async () => {
    fx = await startAzure();
    await assert.rejects(fx.provider.createInstance(spec({ image: '  ' })), /image: must not be empty/);
    await assert.rejects(fx.provider.createInstance(spec({ size: 'Standard_Z999' })), /Standard_Z999/);
  });

  it('keeps a long idempotency key within the tag limit and still finds the VM by it', async () => {
    fx = await startAzure({ emulator: { pendingMs: 0 } });
    const key = `k-${'é'.repeat(300)}`;
    const inst = await fx.provider.createInstance(spec({ idempotencyKey: key }));
    assert.ok(inst.tags[MERIDIAN_TAGS.key].length <= 256);
    assert.match(inst.id, /^mer-[0-9a-f]{24}$/);
    const found: Instance[] = [];
    for await (const i of fx.provider.listInstances('eastus', { [MERIDIAN_TAGS.key]: key })) found.push(i);
    assert.deepEqual(found.map((i) => i.id), [inst.id]);
    assert.equal((await fx.provider.createInstance(spec({ idempotencyKey: key }))).id, inst.id);
    assert.equal((await fx.admin.instances()).length, 1);
  });

  it('sends spot VMs with Spot priority', async () => {
    fx = await startAzure({ emulator: { pendingMs: 0 } });
    const inst = await fx.provider.createInstance(spec({ idempotencyKey: 'spot', spot: true }));
    const stored = fx.emu.store.get(`/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/meridian/providers/microsoft.compute/virtualmachines/${inst.id}`);
    const props = (stored?.extra.azure as { properties: Record<string, unknown> }).properties;
    assert.equal(props.priority, 'Spot');
    assert.equal(props.evictionPolicy, 'Deallocate');
  });
});
