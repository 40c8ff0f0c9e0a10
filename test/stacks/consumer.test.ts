import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import type * as Consumer from './consumer';

// Pulumi's mocks must be in place before the program that declares resources is loaded.
interface Registered { type: string; name: string; inputs: Record<string, unknown> }
const registered: Registered[] = [];
let addresses = 0;

const WORKLOAD = 'meridian:index:Workload';
const INSTANCE = 'pulumi-nodejs:dynamic/meridian/cloud:Instance';

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => { resolve(v); return v; }));
}

describe('a program of another project using the Workload component from the built package', function () {
  // The first Instance serializes the dynamic provider (a second or two, once per process).
  this.timeout(60_000);
  let out: Consumer.ConsumerOutputs;

  before(async () => {
    await pulumi.runtime.setMocks({
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        if (args.type !== INSTANCE) return { id: `${args.name}_id`, state: {} };
        addresses += 1;
        // Addresses in the documentation range (RFC 5737), one per instance.
        return { id: `i-${addresses}`, state: { ...args.inputs, instanceId: `i-${addresses}`, state: 'running', publicIp: `198.51.100.${addresses}` } };
      },
      call: (args) => args.inputs,
    }, 'storefront', 'prod', false, 'organization');
    const consumer: typeof Consumer = await import('./consumer/index.js');
    out = consumer.program();
    // Every resource is registered once the outputs that depend on all of them are known.
    await valueOf(out.addresses);
  });

  it('resolves the package name to the build output, not to the sources', () => {
    const resolved = require.resolve('meridian');
    assert.equal(resolved, join(process.cwd(), 'dist', 'stacks', 'index.js'));
    assert.equal(require.resolve('meridian/stacks'), resolved);
    assert.equal(require.resolve('meridian/stacks/instance-operations'), join(process.cwd(), 'dist', 'stacks', 'instance', 'operations.js'));
  });

  it('declares the component and one Instance per replica under it, with the placement as outputs', async () => {
    const rows = await valueOf(out.placement);
    const ips = await valueOf(out.addresses);
    const workloads = registered.filter((r) => r.type === WORKLOAD);
    const instances = registered.filter((r) => r.type === INSTANCE);
    assert.deepEqual(workloads.map((w) => w.name), ['web']);
    assert.equal(instances.length, 3);
    assert.equal(rows.reduce((n, r) => n + r.count, 0), 3);
    // The policy's spread and residency hold in what was declared.
    assert.deepEqual(new Set(rows.map((r) => r.cloud)), new Set(['aws', 'azure']));
    for (const i of instances) {
      assert.ok(rows.some((r) => r.cloud === i.inputs.cloud && r.region === i.inputs.region), `${i.name} is in a placed region`);
      assert.match(i.name, /^web-(aws|azure)-[a-z0-9-]+-\d+$/);
      // The URN that keys idempotency names the component as the parent.
      assert.match(String(i.inputs.resourceUrn), /::storefront::meridian:index:Workload\$pulumi-nodejs:dynamic\/meridian\/cloud:Instance::web-/);
      assert.deepEqual(i.inputs.tags, { team: 'storefront', 'meridian:stack': 'prod' });
    }
    assert.deepEqual(ips, ['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    assert.ok((await valueOf(out.usdPerHour)) > 0);
  });

  it('records a serialized Instance provider that holds no path of the checkout', async () => {
    const serialized = registered.filter((r) => r.type === INSTANCE).map((r) => String(r.inputs.__provider));
    assert.equal(serialized.length, 3);
    for (const text of serialized) {
      assert.ok(text.includes('exports.handler'), 'the provider as Pulumi serializes it');
      assert.ok(text.includes('meridian/stacks/instance-operations'));
      assert.ok(!text.includes(process.cwd()), 'no working directory in the state');
      assert.ok(!text.includes('/work/'), 'no checkout path in the state');
    }
  });
});
