import { strict as assert } from 'node:assert';
import { AzureEmulator } from '../../../providers/emulator/azure';
import { waitForValue } from '../../tools/wait';
import { arm, vmBody, vmPath } from './fixtures';

interface ArmErrorBody { error: { code: string; message: string; target?: string } }

async function errorOf(res: Response): Promise<ArmErrorBody['error']> {
  return ((await res.json()) as ArmErrorBody).error;
}

describe('providers/emulator/azure AzureEmulator over HTTP', function () {
  this.timeout(10_000);
  let emu: AzureEmulator | undefined;
  afterEach(async () => { await emu?.stop(); emu = undefined; });

  async function start(options: ConstructorParameters<typeof AzureEmulator>[0] = {}): Promise<AzureEmulator> {
    emu = await new AzureEmulator({ pendingMs: 100, deleteMs: 50, ...options }).start();
    return emu;
  }

  it('answers a missing token with 401 AuthenticationFailed and a wrong one with InvalidAuthenticationToken, both with a challenge', async () => {
    const e = await start();
    const none = await arm(e.url, 'GET', vmPath('vm1'), undefined, null);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer authorization_uri=".+", error="invalid_token"/);
    assert.equal((await errorOf(none)).code, 'AuthenticationFailed');
    const wrong = await arm(e.url, 'GET', vmPath('vm1'), undefined, 'forged');
    assert.equal(wrong.status, 401);
    assert.ok(wrong.headers.get('www-authenticate'));
    assert.equal((await errorOf(wrong)).code, 'InvalidAuthenticationToken');
    assert.deepEqual(e.callStats().Authenticate, { AuthenticationFailed: 1, InvalidAuthenticationToken: 1 });
  });

  it('accepts a token from configured credentials instead of the default one', async () => {
    const e = await start({ credentials: { token: 'custom' } });
    assert.equal((await arm(e.url, 'GET', vmPath('vm1'))).status, 401);
    assert.equal((await arm(e.url, 'GET', vmPath('vm1'), undefined, 'custom')).status, 404);
  });

  it('requires the api-version query parameter', async () => {
    const e = await start();
    const res = await arm(e.url, 'GET', `${e.url}${vmPath('vm1')}`);
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).code, 'MissingApiVersionParameter');
  });

  it('runs a create as a long-running operation whose status moves from InProgress to Succeeded once pendingMs has passed', async () => {
    // Long enough that a busy machine still sees the operation in progress right after the PUT.
    const pendingMs = 1500;
    const e = await start({ pendingMs });
    const t0 = Date.now();
    const put = await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'East US'));
    assert.equal(put.status, 201);
    assert.ok(put.headers.get('x-ms-request-id'));
    const created = (await put.json()) as { location: string; properties: { provisioningState: string } };
    assert.equal(created.location, 'eastus');
    assert.equal(created.properties.provisioningState, 'Creating');
    const asyncOp = put.headers.get('azure-asyncoperation') ?? '';
    const location = put.headers.get('location') ?? '';
    assert.match(asyncOp, /\/providers\/Microsoft\.Compute\/locations\/eastus\/operations\/[0-9a-f-]+\?.*api-version=/);
    assert.equal(((await (await arm(e.url, 'GET', asyncOp)).json()) as { status: string }).status, 'InProgress');
    assert.equal((await arm(e.url, 'GET', location)).status, 202);
    const done = await waitForValue('the operation to succeed', async () => {
      const op = (await (await arm(e.url, 'GET', asyncOp)).json()) as { status: string; endTime?: string };
      return op.status === 'InProgress' ? undefined : op;
    }, 10_000, 20);
    assert.ok(Date.now() - t0 >= pendingMs, `succeeded after ${Date.now() - t0} ms, before pendingMs`);
    assert.equal(done.status, 'Succeeded');
    assert.ok(done.endTime);
    assert.equal((await arm(e.url, 'GET', location)).status, 200);
    const vm = (await (await arm(e.url, 'GET', `${vmPath('vm1')}?$expand=instanceView`)).json()) as {
      properties: { provisioningState: string; instanceView: { statuses: Array<{ code: string }> } };
    };
    assert.equal(vm.properties.provisioningState, 'Succeeded');
    assert.deepEqual(vm.properties.instanceView.statuses.map((s) => s.code), ['ProvisioningState/succeeded', 'PowerState/running']);
  });

  it('treats a repeated PUT with the same spec as an update of the same VM', async () => {
    const e = await start({ pendingMs: 0 });
    assert.equal((await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus', { tags: { a: '1' } }))).status, 201);
    const again = await arm(e.url, 'PUT', vmPath('VM1'), vmBody('vm1', 'eastus', { tags: { a: '2' } }));
    assert.equal(again.status, 200, 'names are case-insensitive');
    assert.deepEqual(((await again.json()) as { tags: Record<string, string> }).tags, { a: '2' });
    assert.equal(e.store.all().length, 1);
  });

  it('refuses to move an existing VM to another location or change its image, with ARM codes', async () => {
    const e = await start({ pendingMs: 0 });
    await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus'));
    const moved = await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'westeurope'));
    assert.equal(moved.status, 409);
    assert.equal((await errorOf(moved)).code, 'InvalidResourceLocation');
    const reimaged = await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus', { image: { publisher: 'Debian', offer: 'debian-12', sku: '12', version: 'latest' } }));
    assert.equal(reimaged.status, 409);
    assert.equal((await errorOf(reimaged)).code, 'PropertyChangeNotAllowed');
  });

  it('answers an unknown VM with 404 ResourceNotFound and a DELETE of it with 204', async () => {
    const e = await start();
    const get = await arm(e.url, 'GET', vmPath('ghost'));
    assert.equal(get.status, 404);
    assert.equal((await errorOf(get)).code, 'ResourceNotFound');
    assert.equal((await arm(e.url, 'DELETE', vmPath('ghost'))).status, 204);
  });

  it('deletes through a long-running operation and forgets the VM', async () => {
    const deleteMs = 1500;
    const e = await start({ pendingMs: 0, deleteMs });
    await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus'));
    const t0 = Date.now();
    const del = await arm(e.url, 'DELETE', vmPath('vm1'));
    assert.equal(del.status, 202);
    const op = del.headers.get('azure-asyncoperation') ?? '';
    assert.equal(((await (await arm(e.url, 'GET', op)).json()) as { status: string }).status, 'InProgress');
    const status = await waitForValue('the delete to finish', async () => {
      const s = ((await (await arm(e.url, 'GET', op)).json()) as { status: string }).status;
      return s === 'InProgress' ? undefined : s;
    }, 10_000, 20);
    assert.equal(status, 'Succeeded');
    assert.ok(Date.now() - t0 >= deleteMs, `finished after ${Date.now() - t0} ms, before deleteMs`);
    assert.equal((await arm(e.url, 'GET', vmPath('vm1'))).status, 404);
  });

  it('pages a resource group list with nextLink and $skiptoken, in any subscription and group', async () => {
    const e = await start({ maxPageSize: 2 });
    const sub = '11111111-2222-4333-8444-555555555555';
    const base = `/subscriptions/${sub}/resourceGroups/other/providers/Microsoft.Compute/virtualMachines`;
    for (const n of ['a', 'b', 'c', 'd', 'e']) assert.equal((await arm(e.url, 'PUT', `${base}/${n}`, vmBody(n, 'eastus'))).status, 201);
    await arm(e.url, 'PUT', vmPath('elsewhere'), vmBody('elsewhere', 'eastus'));
    const names: string[] = [];
    let next: string | undefined = base;
    let pages = 0;
    while (next) {
      const page = (await (await arm(e.url, 'GET', next)).json()) as { value: Array<{ name: string }>; nextLink?: string };
      names.push(...page.value.map((v) => v.name));
      next = page.nextLink;
      if (next) assert.match(next, /\$skiptoken=/);
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(names, ['a', 'b', 'c', 'd', 'e']);
  });

  it('serves the NIC and public IP that a VM network interface configuration made', async () => {
    const e = await start({ pendingMs: 0 });
    await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus'));
    const vm = (await (await arm(e.url, 'GET', vmPath('vm1'))).json()) as { properties: { networkProfile: { networkInterfaces: Array<{ id: string }> } } };
    const nicId = vm.properties.networkProfile.networkInterfaces[0].id;
    assert.match(nicId, /\/providers\/Microsoft\.Network\/networkInterfaces\/vm1-nic$/);
    const nic = (await (await arm(e.url, 'GET', nicId)).json()) as {
      properties: { ipConfigurations: Array<{ properties: { privateIPAddress: string; publicIPAddress: { id: string } } }> };
    };
    const ipc = nic.properties.ipConfigurations[0].properties;
    assert.match(ipc.privateIPAddress, /^10\./);
    const pip = (await (await arm(e.url, 'GET', ipc.publicIPAddress.id)).json()) as { properties: { ipAddress: string } };
    assert.match(pip.properties.ipAddress, /^20\./);
  });

  it('reports exhausted capacity through the operation status and a full quota at once, with ARM codes', async () => {
    const e = await start();
    e.patchFaults({ capacity: { 'eastus/Standard_B1s': 0 }, quota: { westeurope: 0 } });
    const full = await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus'));
    assert.equal(full.status, 201, 'ARM accepts the PUT; allocation fails later');
    const status = (await (await arm(e.url, 'GET', full.headers.get('azure-asyncoperation') ?? '')).json()) as { status: string; error: { code: string } };
    assert.equal(status.status, 'Failed');
    assert.equal(status.error.code, 'AllocationFailed');
    const zonal = await arm(e.url, 'PUT', vmPath('vm2'), vmBody('vm2', 'eastus', { zones: ['1'] }));
    const zonalStatus = (await (await arm(e.url, 'GET', zonal.headers.get('azure-asyncoperation') ?? '')).json()) as { error: { code: string } };
    assert.equal(zonalStatus.error.code, 'ZonalAllocationFailed');
    const quota = await arm(e.url, 'PUT', vmPath('vm3'), vmBody('vm3', 'westeurope'));
    assert.equal(quota.status, 409);
    const qe = await errorOf(quota);
    assert.equal(qe.code, 'OperationNotAllowed');
    assert.match(qe.message, /Cores quota/);
    const sku = await arm(e.url, 'PUT', vmPath('vm4'), vmBody('vm4', 'westeurope', { size: 'Standard_Nope' }));
    assert.equal(sku.status, 409);
    assert.equal((await errorOf(sku)).code, 'SkuNotAvailable');
    assert.equal(e.store.all().length, 0);
  });

  it('validates the PUT body with InvalidParameter naming the property', async () => {
    const e = await start();
    const body = vmBody('vm1', 'eastus') as { properties: Record<string, unknown> };
    delete body.properties.hardwareProfile;
    const res = await arm(e.url, 'PUT', vmPath('vm1'), body);
    assert.equal(res.status, 400);
    const err = await errorOf(res);
    assert.equal(err.code, 'InvalidParameter');
    assert.equal(err.target, 'hardwareProfile.vmSize');
    const noLocation = await arm(e.url, 'PUT', vmPath('vm1'), { properties: {} });
    assert.equal((await errorOf(noLocation)).code, 'LocationRequired');
    const tooManyTags = vmBody('vm1', 'eastus', { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v'])) });
    assert.equal((await arm(e.url, 'PUT', vmPath('vm1'), tooManyTags)).status, 400);
  });

  it('throttles with 429 TooManyRequests and Retry-After, and fails an outage region with 503', async () => {
    const e = await start();
    e.patchFaults({ throttleShare: 1, retryAfterSeconds: 7 });
    const throttled = await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus'));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '7');
    assert.equal((await errorOf(throttled)).code, 'TooManyRequests');
    e.patchFaults({ throttleShare: 0, outages: ['eastus'] });
    const down = await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'eastus'));
    assert.equal(down.status, 503);
    assert.equal((await errorOf(down)).code, 'ServiceUnavailable');
    assert.equal((await arm(e.url, 'PUT', vmPath('vm1'), vmBody('vm1', 'westeurope'))).status, 201);
  });

  it('answers 500 InternalServerError for the configured share of calls', async () => {
    const e = await start();
    e.patchFaults({ errorShare: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await arm(e.url, 'GET', vmPath('ghost'))).status);
    assert.deepEqual(statuses, [404, 500, 404, 500]);
  });
});
