import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { startEmulators, type RunningEmulators } from '../../providers/emulator';
import type * as Stacks from '../../stacks';

// Pulumi's wire form of a secret: this signature key next to the value (sdk/nodejs/runtime/rpc.ts).
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const INSTANCE = 'pulumi-nodejs:dynamic/meridian/cloud:Instance';

const unwrapSecret = (v: unknown): unknown =>
  (typeof v === 'object' && v !== null && SECRET_SIG in v ? (v as unknown as { value: unknown }).value : v);

/** The stack config of a Pulumi.<stack>.yaml as the engine hands it to the program: objects and lists as JSON text. */
function stackConfig(file: string): Record<string, string> {
  const doc = parse(readFileSync(join(process.cwd(), file), 'utf8')) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

describe('the dev stack, with the engine stood in by mocks that call the Instance provider', function () {
  this.timeout(40_000);
  let emus: RunningEmulators;
  let main: () => Promise<Stacks.StackOutputs>;
  let stacks: typeof Stacks;
  const calls: string[] = [];

  before(async () => {
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 20 });
    const fast = {
      retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 5_000 },
      rateLimits: { read: { ratePerSecond: 10_000, burst: 10_000 }, write: { ratePerSecond: 10_000, burst: 10_000 } },
    };
    stacks = await import('../../stacks/index.js');
    const provider = stacks.sharedInstanceProvider();
    // What `pulumi up` does for each Instance: check its inputs, then create it.
    await pulumi.runtime.setMocks({
      newResource: async (args) => {
        // The stack's reference to itself: a first deployment has no outputs yet.
        if (args.type === 'pulumi:pulumi:StackReference') return { id: String(args.inputs.name), state: { ...args.inputs, outputs: {} } };
        if (args.type !== INSTANCE) return { id: `${args.name}_id`, state: {} };
        const { __provider: _serialized, ...rest } = args.inputs as Record<string, unknown>;
        const inputs = { ...rest, connection: unwrapSecret(rest.connection) } as unknown as Stacks.InstanceInputs;
        calls.push(`check ${args.name}`);
        const checked = await provider.check!({} as Stacks.InstanceInputs, inputs);
        if (checked.failures?.length) throw new Error(`${args.name}: ${JSON.stringify(checked.failures)}`);
        calls.push(`create ${args.name}`);
        const created = await provider.create(checked.inputs!);
        return { id: created.id, state: created.outs as unknown as Record<string, unknown> };
      },
      call: (args) => args.inputs,
    }, 'meridian', 'dev', false, 'organization');
    const config = stackConfig('Pulumi.dev.yaml');
    // Same stack, pointed at this test's emulators on their random ports.
    config['meridian:clouds'] = JSON.stringify({ ...emus.providersConfig, resilience: fast });
    pulumi.runtime.setAllConfig(config, ['meridian:clouds']);
    main = (await import('../../stacks/main.js')).default as () => Promise<Stacks.StackOutputs>;
  });

  after(async () => {
    pulumi.runtime.setAllConfig({});
    (await import('../../stacks/instance/operations.js')).closeDrivers();
    await emus?.stop();
  });

  it('creates every replica of every workload on the emulators and exports their addresses', async () => {
    const out = await main();
    const wait = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => { resolve(v); return v; }));
    const shop = await wait(out.instances.shop);
    const edge = await wait(out.instances.edge);
    assert.equal(shop.length, 6);
    assert.equal(edge.length, 10);
    const live = [emus.aws, emus.azure, emus.alibaba].flatMap((e) => e.store.all()).filter((i) => i.state === 'running');
    assert.equal(live.length, 16);
    for (const i of [...shop, ...edge]) assert.match(i.publicIp ?? '', /^\d+\.\d+\.\d+\.\d+$/, `${i.name} has a public address`);
    const dns = await wait(out.dns.shop);
    assert.equal(dns?.name, 'shop.example.com');
    assert.deepEqual(dns?.addresses, shop.map((i) => i.publicIp).sort());
    const placement = await wait(out.placements.edge);
    assert.ok(new Set(placement.map((r) => r.cloud)).size === 3, 'the global policy uses all three clouds');
    assert.ok((await wait(out.usdPerHour)) > 0);
    assert.equal(calls.filter((c) => c.startsWith('create')).length, 16);
  });
});
