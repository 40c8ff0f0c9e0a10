import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import {
  CreateTagsCommand, DeleteTagsCommand, DescribeInstanceStatusCommand, DescribeInstancesCommand, EC2Client, RebootInstancesCommand,
  RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type EcsClient from '@alicloud/ecs20140526';
import {
  DeleteInstancesRequest, DescribeInstanceStatusRequest, DescribeInstancesRequest, RebootInstanceRequest, RunInstancesRequest,
  StartInstanceRequest, StopInstanceRequest, TagResourcesRequest, TagResourcesRequestTag,
} from '@alicloud/ecs20140526';
import { createEcsClient, ecsRuntime } from '../../providers/alibaba/client';
import { createAzureClients } from '../../providers/azure/clients';
import { parseImage, subnetIdFor, vmFor } from '../../providers/azure/mapping';
import { AlibabaEmulator, AwsEmulator, AzureEmulator, TEST_CREDENTIALS } from '../../providers/emulator';

// Long enough that the calls made while an instance is pending land before it runs, even on a busy machine.
const PENDING_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds (bounded). */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1_000; i++) {
    const v = await read();
    if (done(v)) return v;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The error an SDK call rejects with: its code as the SDK reports it. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { name?: string; code?: string; Code?: string };
    return e.code ?? e.Code ?? e.name ?? String(err);
  }
  throw new Error('the call succeeded');
}

describe('emulators: lifecycle calls of other tools, through the real SDKs', () => {
  describe('EC2', () => {
    let emu: AwsEmulator;
    let ec2: EC2Client;
    before(async () => {
      emu = await new AwsEmulator({ pendingMs: PENDING_MS }).start();
      ec2 = new EC2Client({ region: 'eu-central-1', endpoint: emu.url, credentials: { ...TEST_CREDENTIALS.aws }, maxAttempts: 1 });
    });
    after(async () => { ec2.destroy(); await emu.stop(); });

    const state = async (id: string) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;

    it('creates an m7i.large in eu-central-1, stops, starts, reboots and tags it, with status checks', async () => {
      const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', InstanceType: 'm7i.large', MinCount: 1, MaxCount: 1 }));
      const id = run.Instances![0].InstanceId!;
      assert.equal(run.Instances![0].InstanceType, 'm7i.large');
      assert.equal(await codeOf(ec2.send(new StopInstancesCommand({ InstanceIds: [id] }))), 'IncorrectInstanceState', 'a pending instance cannot stop');
      const initializing = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id], IncludeAllInstances: true }));
      assert.equal(initializing.InstanceStatuses?.[0]?.InstanceState?.Name, 'pending');
      assert.equal(initializing.InstanceStatuses?.[0]?.InstanceStatus?.Status, 'initializing');
      assert.equal((await ec2.send(new DescribeInstanceStatusCommand({}))).InstanceStatuses?.length, 0, 'only running instances without IncludeAllInstances');
      await until(() => state(id), (s) => s === 'running', 'running');
      const ok = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id] }));
      assert.deepEqual([ok.InstanceStatuses?.[0]?.SystemStatus?.Status, ok.InstanceStatuses?.[0]?.InstanceStatus?.Status], ['ok', 'ok']);

      const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      assert.deepEqual([stop.StoppingInstances?.[0]?.PreviousState?.Name, stop.StoppingInstances?.[0]?.CurrentState?.Name], ['running', 'stopping']);
      assert.equal(await state(id), 'stopped');
      assert.equal(await codeOf(ec2.send(new RebootInstancesCommand({ InstanceIds: [id] }))), 'IncorrectInstanceState', 'a stopped instance cannot reboot');
      const start = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
      assert.deepEqual([start.StartingInstances?.[0]?.PreviousState?.Name, start.StartingInstances?.[0]?.CurrentState?.Name], ['stopped', 'pending']);
      await until(() => state(id), (s) => s === 'running', 'running again');
      await ec2.send(new RebootInstancesCommand({ InstanceIds: [id] }));
      assert.equal(await state(id), 'running');

      await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'tier', Value: 'web' }] }));
      await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'tier', Value: 'not-this-value' }] }));
      let tags = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0].Tags;
      assert.deepEqual(tags?.map((t) => `${t.Key}=${t.Value}`).sort(), ['team=blue', 'tier=web'], 'DeleteTags with another value keeps the tag');
      await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'tier' }] }));
      tags = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0].Tags;
      assert.deepEqual(tags?.map((t) => `${t.Key}=${t.Value}`), ['team=blue']);
      assert.equal(await codeOf(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] }))), 'InvalidInstanceID.NotFound');

      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      assert.equal(await codeOf(ec2.send(new StartInstancesCommand({ InstanceIds: [id] }))), 'IncorrectInstanceState', 'a terminated instance cannot start');
    });
  });

  describe('Azure compute', () => {
    let emu: AzureEmulator;
    let clients: ReturnType<typeof createAzureClients>;
    const { subscriptionId, resourceGroup, token } = TEST_CREDENTIALS.azure;
    before(async () => {
      emu = await new AzureEmulator({ pendingMs: PENDING_MS }).start();
      clients = createAzureClients({ endpoint: emu.url, token, subscriptionId, resourceGroup });
    });
    after(async () => { await emu.stop(); });

    const power = async (name: string) =>
      (await clients.compute.virtualMachines.instanceView(resourceGroup, name)).statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code;

    it('creates a Standard_D2s_v5 in westeurope, powers it off, deallocates, starts, restarts and retags it', async () => {
      const spec = { workload: 'web', cloud: 'azure' as const, region: 'westeurope', size: 'Standard_D2s_v5', image: 'Canonical:ubuntu-24_04-lts:server:latest', tags: { team: 'blue' }, idempotencyKey: 'k1' };
      const vm = await clients.compute.virtualMachines.beginCreateOrUpdateAndWait(resourceGroup, 'vm-life',
        vmFor(spec, 'vm-life', parseImage(spec.image)!, subnetIdFor(subscriptionId, resourceGroup, 'westeurope')));
      assert.equal(vm.hardwareProfile?.vmSize, 'Standard_D2s_v5');
      assert.equal(await power('vm-life'), 'PowerState/running');

      await clients.compute.virtualMachines.beginPowerOffAndWait(resourceGroup, 'vm-life');
      assert.equal(await power('vm-life'), 'PowerState/stopped');
      assert.equal(await codeOf(clients.compute.virtualMachines.beginRestartAndWait(resourceGroup, 'vm-life')), 'OperationNotAllowed');
      await clients.compute.virtualMachines.beginDeallocateAndWait(resourceGroup, 'vm-life');
      assert.equal(await power('vm-life'), 'PowerState/deallocated');
      assert.equal(await codeOf(clients.compute.virtualMachines.beginPowerOffAndWait(resourceGroup, 'vm-life')), 'OperationNotAllowed', 'a deallocated VM cannot power off');
      await clients.compute.virtualMachines.beginStartAndWait(resourceGroup, 'vm-life');
      assert.equal(await until(() => power('vm-life'), (p) => p === 'PowerState/running', 'running'), 'PowerState/running');
      await clients.compute.virtualMachines.beginRestartAndWait(resourceGroup, 'vm-life');
      assert.equal(await power('vm-life'), 'PowerState/running');

      const updated = await clients.compute.virtualMachines.beginUpdateAndWait(resourceGroup, 'vm-life', { tags: { team: 'green', env: 'prod' } });
      assert.deepEqual(updated.tags, { team: 'green', env: 'prod' });
      assert.deepEqual((await clients.compute.virtualMachines.get(resourceGroup, 'vm-life')).tags, { team: 'green', env: 'prod' });
      assert.equal(await codeOf(clients.compute.virtualMachines.beginStartAndWait(resourceGroup, 'no-such-vm')), 'ResourceNotFound');
    });
  });

  describe('Alibaba ECS', () => {
    let emu: AlibabaEmulator;
    let ecs: EcsClient;
    const runtime = ecsRuntime({ connectTimeoutMs: 2_000, readTimeoutMs: 10_000 });
    before(async () => {
      emu = await new AlibabaEmulator({ pendingMs: PENDING_MS }).start();
      ecs = createEcsClient({ endpoint: emu.url, ...TEST_CREDENTIALS.alibaba }, 'cn-hangzhou', { connectTimeoutMs: 2_000, readTimeoutMs: 10_000 });
    });
    after(async () => { await emu.stop(); });

    const status = async (id: string) =>
      (await ecs.describeInstanceStatusWithOptions(new DescribeInstanceStatusRequest({ regionId: 'cn-hangzhou', instanceId: [id] }), runtime)).body?.instanceStatuses?.instanceStatus?.[0]?.status;
    const run = async () => (await ecs.runInstancesWithOptions(new RunInstancesRequest({
      regionId: 'cn-hangzhou', instanceType: 'ecs.g6.large', imageId: 'ubuntu_22_04_x64_20G_alibase_20240101.vhd', amount: 1,
    }), runtime)).body!.instanceIdSets!.instanceIdSet![0];

    it('creates an ecs.g6.large in cn-hangzhou, stops, starts, reboots and tags it, with its status', async () => {
      const id = await run();
      assert.equal(await status(id), 'Pending');
      assert.equal(await codeOf(ecs.stopInstanceWithOptions(new StopInstanceRequest({ instanceId: id }), runtime)), 'IncorrectInstanceStatus');
      await until(() => status(id), (s) => s === 'Running', 'Running');
      assert.equal(await codeOf(ecs.startInstanceWithOptions(new StartInstanceRequest({ instanceId: id }), runtime)), 'IncorrectInstanceStatus', 'a running instance cannot start');
      await ecs.stopInstanceWithOptions(new StopInstanceRequest({ instanceId: id }), runtime);
      assert.equal(await status(id), 'Stopped');
      assert.equal(await codeOf(ecs.rebootInstanceWithOptions(new RebootInstanceRequest({ instanceId: id }), runtime)), 'IncorrectInstanceStatus');
      await ecs.startInstanceWithOptions(new StartInstanceRequest({ instanceId: id }), runtime);
      assert.equal(await status(id), 'Starting');
      await until(() => status(id), (s) => s === 'Running', 'Running again');
      await ecs.rebootInstanceWithOptions(new RebootInstanceRequest({ instanceId: id }), runtime);

      await ecs.tagResourcesWithOptions(new TagResourcesRequest({
        regionId: 'cn-hangzhou', resourceType: 'instance', resourceId: [id], tag: [new TagResourcesRequestTag({ key: 'team', value: 'blue' })],
      }), runtime);
      const described = await ecs.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'cn-hangzhou', instanceIds: JSON.stringify([id]) }), runtime);
      const inst = described.body?.instances?.instance?.[0];
      assert.equal(inst?.instanceType, 'ecs.g6.large');
      assert.deepEqual(inst?.tags?.tag?.map((t) => `${t.tagKey}=${t.tagValue}`), ['team=blue']);
      assert.equal(await codeOf(ecs.tagResourcesWithOptions(new TagResourcesRequest({
        regionId: 'cn-hangzhou', resourceType: 'instance', resourceId: ['i-missing'], tag: [new TagResourcesRequestTag({ key: 'a', value: 'b' })],
      }), runtime)), 'InvalidResourceId.NotFound');
    });

    it('releases several instances with DeleteInstances: stopped ones, or running ones only with Force', async () => {
      const a = await run();
      const b = await run();
      await until(() => status(b), (s) => s === 'Running', 'Running');
      await until(() => status(a), (s) => s === 'Running', 'Running');
      await ecs.stopInstanceWithOptions(new StopInstanceRequest({ instanceId: a }), runtime);
      assert.equal(await codeOf(ecs.deleteInstancesWithOptions(new DeleteInstancesRequest({ regionId: 'cn-hangzhou', instanceId: [a, b] }), runtime)), 'IncorrectInstanceStatus');
      assert.equal(await status(a), 'Stopped', 'a refused call releases nothing');
      await ecs.deleteInstancesWithOptions(new DeleteInstancesRequest({ regionId: 'cn-hangzhou', instanceId: [a, b], force: true }), runtime);
      const left = await ecs.describeInstanceStatusWithOptions(new DescribeInstanceStatusRequest({ regionId: 'cn-hangzhou', instanceId: [a, b] }), runtime);
      assert.equal(left.body?.totalCount, 0);
      assert.equal(await codeOf(ecs.deleteInstancesWithOptions(new DeleteInstancesRequest({ regionId: 'cn-hangzhou', instanceId: [a], force: true }), runtime)), 'InvalidInstanceId.NotFound');
    });
  });
});
