import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { ResourceProviderClient } from '@pulumi/pulumi/proto/provider_grpc_pb';
import { GetSchemaRequest } from '@pulumi/pulumi/proto/provider_pb';
import { ComponentProvider } from '@pulumi/pulumi/provider/experimental';
import { parse } from 'yaml';
import { loadDocuments } from '../../policies';
import type * as Stacks from '../../stacks';

const INSTANCE = 'pulumi-nodejs:dynamic/meridian/cloud:Instance';
const PLUGIN = join(process.cwd(), 'stacks', 'plugin');

interface Schema {
  name: string;
  version: string;
  resources: Record<string, { isComponent: boolean; inputProperties: Record<string, { $ref?: string; type?: string; plain?: boolean }>;
    requiredInputs: string[]; properties: Record<string, unknown>; required: string[] }>;
  types: Record<string, { properties: Record<string, { type?: string; $ref?: string }>; required: string[] }>;
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => { resolve(v); return v; }));
}

describe('the component package (stacks/plugin) as the component provider host serves it', function () {
  // The schema comes from a TypeScript program over the plugin and the emitted declarations: seconds.
  this.timeout(120_000);
  const registered: Array<{ type: string; name: string }> = [];
  let provider: ComponentProvider;
  let schema: Schema;

  before(async () => {
    await pulumi.runtime.setMocks({
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name });
        return { id: `${args.name}_id`, state: args.type === INSTANCE ? { ...args.inputs, instanceId: `${args.name}_id`, state: 'running' } : {} };
      },
      call: (args) => args.inputs,
    }, 'other-language', 'test', false, 'organization');
    const stacks: typeof Stacks = await import('../../stacks/index.js');
    // What stacks/plugin/index.ts hands to componentProviderHost.
    provider = new ComponentProvider({ components: [stacks.Workload], name: 'meridian', dirname: PLUGIN });
    schema = JSON.parse(await provider.getSchema()) as Schema;
  });

  it('describes meridian:index:Workload with typed inputs and outputs', () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
    assert.equal(schema.name, 'meridian');
    assert.equal(schema.version, pkg.version, 'stacks/plugin/package.json carries the package version');
    assert.deepEqual(Object.keys(schema.resources), ['meridian:index:Workload']);
    const workload = schema.resources['meridian:index:Workload'];
    assert.equal(workload.isComponent, true);
    assert.deepEqual(workload.requiredInputs, ['policy', 'workload']);
    assert.deepEqual(Object.keys(workload.inputProperties).sort(), ['connection', 'policy', 'readyTimeoutSeconds', 'tags', 'workload']);
    assert.equal(workload.inputProperties.workload.$ref, '#/types/meridian:index:WorkloadDefinition');
    assert.equal(workload.inputProperties.workload.plain, true, 'placement needs the workload when the program runs');
    assert.equal(workload.inputProperties.policy.$ref, 'pulumi.json#/Any');
    // The instances are children, not outputs; the schema lists only what other languages can read.
    assert.deepEqual(Object.keys(workload.properties).sort(), ['dns', 'inventory', 'placement', 'usdPerHour']);
    assert.deepEqual(workload.required, ['inventory', 'placement', 'usdPerHour']);
    assert.deepEqual(schema.types['meridian:index:WorkloadDefinition'].required, ['image', 'name', 'policy', 'replicas', 'size']);
    assert.deepEqual(Object.keys(schema.types['meridian:index:WorkloadSize'].properties).sort(),
      ['alibaba', 'arch', 'aws', 'azure', 'memoryGiB', 'vcpu']);
    assert.deepEqual(schema.types['meridian:index:RegionPlacement'].required, ['cloud', 'count', 'region', 'size', 'usdPerHour', 'usdPerHourEach']);
  });

  it('matches the plugin manifest: a Node.js plugin run from its TypeScript entry', () => {
    const manifest = parse(readFileSync(join(PLUGIN, 'PulumiPlugin.yaml'), 'utf8')) as { runtime: { name: string; options: { typescript: boolean } } };
    assert.equal(manifest.runtime.name, 'nodejs');
    assert.equal(manifest.runtime.options.typescript, true);
    const pkg = JSON.parse(readFileSync(join(PLUGIN, 'package.json'), 'utf8')) as { main: string };
    assert.match(readFileSync(join(PLUGIN, pkg.main), 'utf8'), /componentProviderHost\(\{ components: \[Workload\], name: 'meridian'/);
  });

  it('constructs a workload from plain inputs, as another language sends them', async () => {
    const loaded = loadDocuments(readFileSync(join(process.cwd(), 'policies', 'examples', 'eu-residency.yaml'), 'utf8'));
    assert.ok(loaded.ok);
    // Plain JSON, as the engine deserializes it: no TypeScript types, no frozen objects.
    const policy = JSON.parse(JSON.stringify(loaded.value.policies[0])) as Record<string, unknown>;
    const inputs = {
      workload: { name: 'api', replicas: 4, size: { vcpu: 2, memoryGiB: 8 }, policy: 'eu-residency',
        image: { aws: 'ami-0a1b2c3d4e5f67890', azure: 'Canonical:ubuntu-24_04-lts:server:latest' } },
      policy,
    };
    const result = await provider.construct('api', 'meridian:index:Workload', inputs, {});
    const state = result.state as { placement: pulumi.Output<Array<{ count: number }>>; inventory: pulumi.Output<unknown[]> };
    const rows = await valueOf(state.placement);
    assert.equal(rows.reduce((n, r) => n + r.count, 0), 4);
    assert.equal((await valueOf(state.inventory)).length, 4);
    assert.match(await valueOf(pulumi.output(result.urn)), /::other-language::meridian:index:Workload::api$/);
    assert.equal(registered.filter((r) => r.type === INSTANCE && r.name.startsWith('api-')).length, 4);
  });

  it('rejects invalid inputs naming every key path, before declaring anything', async () => {
    const before = registered.length;
    const inputs = {
      workload: { name: 'bad', replicas: -1, size: { vcpu: 2, memoryGiB: 8 }, policy: 'p', image: { aws: 'ami-1' } },
      policy: { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'p' }, spec: { objective: 'fastest' } },
    };
    await assert.rejects(provider.construct('bad', 'meridian:index:Workload', inputs, {}), (err: Error) => {
      assert.match(err.message, /invalid arguments of Workload 'bad'/);
      assert.match(err.message, /workload\/replicas: /);
      assert.match(err.message, /policy\/spec\/objective: /);
      return true;
    });
    assert.equal(registered.length, before);
  });
});

describe('the component provider host serving the package over gRPC', function () {
  this.timeout(120_000);
  let host: ChildProcess;
  let client: ResourceProviderClient;

  before(async () => {
    // stacks/plugin/index.ts's call, from the build output (Pulumi runs the entry through ts-node).
    const script = `const { Workload } = require('./dist/stacks/index.js');
      require('@pulumi/pulumi/provider/experimental').componentProviderHost({ components: [Workload], name: 'meridian', dirname: 'stacks/plugin' });`;
    host = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    // The host prints the port it listens on (127.0.0.1, chosen by the system), as the engine expects.
    const [chunk] = await once(host.stdout!, 'data') as [Buffer];
    const port = Number(chunk.toString().trim());
    assert.ok(Number.isInteger(port) && port > 0, `a port, got '${chunk.toString()}'`);
    // The SDK's own gRPC library, as its generated client uses it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const grpc = require(require.resolve('@grpc/grpc-js', { paths: [dirname(require.resolve('@pulumi/pulumi'))] })) as typeof import('@grpc/grpc-js');
    client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    if (host && host.exitCode === null) {
      host.kill('SIGTERM');
      await once(host, 'exit');
    }
  });

  it('answers GetSchema with meridian:index:Workload', async () => {
    const response = await new Promise<string>((resolve, reject) => {
      client.getSchema(new GetSchemaRequest(), (err, res) => (err ? reject(err) : resolve(res.getSchema())));
    });
    const served = JSON.parse(response) as Schema;
    assert.equal(served.name, 'meridian');
    assert.deepEqual(served.resources['meridian:index:Workload'].requiredInputs, ['policy', 'workload']);
  });
});
