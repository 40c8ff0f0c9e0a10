import { strict as assert } from 'node:assert';
import { AwsProvider } from '../../../providers/aws/provider';
import { CloudError } from '../../../providers/errors';
import type { AttemptEvent } from '../../../providers/resilience';
import { MERIDIAN_TAGS, type Instance } from '../../../providers/types';
import { TEST_RESILIENCE, inBatches, spec, startAws, type AwsFixture } from './fixtures';

async function collect(it: AsyncIterable<Instance>): Promise<Instance[]> {
  const out: Instance[] = [];
  for await (const i of it) out.push(i);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isKind(kind: CloudError['kind'], code?: string) {
  return (e: unknown) => e instanceof CloudError && e.kind === kind && (code === undefined || e.code === code);
}

describe('providers/aws driver against the EC2 emulator', () => {
  let fx: AwsFixture | undefined;
  afterEach(async () => {
    await fx?.stop();
    fx = undefined;
  });

  it('reports the regions the account can use: those open to every account and the opt-in ones it enabled', async () => {
    fx = await startAws({ enabledRegions: ['af-south-1'] });
    const regions = await (fx.provider.enabledRegions?.() ?? assert.fail('the AWS driver asks EC2 DescribeRegions'));
    for (const r of ['us-east-1', 'eu-west-1', 'af-south-1']) assert.ok(regions.includes(r), r);
    for (const r of ['ap-east-1', 'us-gov-west-1', 'cn-north-1']) assert.ok(!regions.includes(r), r);
  });

  it('creates an instance that moves from pending to running, finds it, and terminates it', async () => {
    fx = await startAws({ pendingMs: 50 });
    const created = await fx.provider.createInstance(spec({ idempotencyKey: 'lifecycle-1' }));
    assert.equal(created.state, 'pending');
    assert.match(created.id, /^i-[0-9a-f]{17}$/);
    assert.equal(created.size, 't3.micro');
    assert.equal(created.tags[MERIDIAN_TAGS.workload], 'web');
    assert.equal(created.tags[MERIDIAN_TAGS.key], 'lifecycle-1');
    assert.equal(created.tags.team, 'blue');

    let seen = created;
    for (let i = 0; i < 50 && seen.state !== 'running'; i++) {
      await sleep(20);
      seen = (await fx.provider.getInstance('us-east-1', created.id)) ?? assert.fail('instance vanished');
    }
    assert.equal(seen.state, 'running');
    assert.match(seen.publicIp ?? '', /^3\.\d+\.\d+\.\d+$/);
    assert.ok(seen.privateIp);

    await fx.provider.terminateInstance('us-east-1', created.id);
    const after = await fx.provider.getInstance('us-east-1', created.id);
    assert.equal(after?.state, 'terminated');
    assert.deepEqual(await collect(fx.provider.listInstances('us-east-1')), [], 'terminated instances are not listed');
    // Terminating again is success: the instance is already gone.
    await fx.provider.terminateInstance('us-east-1', created.id);
  });

  it('lists 250 tagged instances over three pages of 100, leaving out other tags', async () => {
    fx = await startAws({ maxPageSize: 100 });
    const { provider, emu } = fx;
    await inBatches(Array.from({ length: 250 }, (_, n) => n), 25, (n) => provider.createInstance(spec({ idempotencyKey: `page-${n}` })));
    await inBatches([1, 2, 3], 3, (n) => provider.createInstance(spec({ idempotencyKey: `other-${n}`, tags: { team: 'red' } })));
    const before = emu.callStats().DescribeInstances?.ok ?? 0;

    const blue = await collect(provider.listInstances('us-east-1', { team: 'blue' }));
    assert.equal(blue.length, 250);
    assert.equal(new Set(blue.map((i) => i.id)).size, 250, 'no instance is listed twice');
    assert.ok(blue.every((i) => i.tags.team === 'blue'));
    assert.equal((emu.callStats().DescribeInstances?.ok ?? 0) - before, 3, 'three pages were read');

    const all = await collect(provider.listInstances('us-east-1'));
    assert.equal(all.length, 253);
    assert.deepEqual(await collect(provider.listInstances('eu-central-1')), []);
  });

  it('matches tag filters literally, even when values contain EC2 wildcard characters', async () => {
    fx = await startAws();
    await fx.provider.createInstance(spec({ idempotencyKey: 'w1', tags: { team: 'a*' } }));
    await fx.provider.createInstance(spec({ idempotencyKey: 'w2', tags: { team: 'abc' } }));
    const listed = await collect(fx.provider.listInstances('us-east-1', { team: 'a*' }));
    assert.deepEqual(listed.map((i) => i.tags[MERIDIAN_TAGS.key]), ['w1']);
    const both = await collect(fx.provider.listInstances('us-east-1', { team: 'a*', [MERIDIAN_TAGS.workload]: 'web' }));
    assert.equal(both.length, 1);
  });

  it('returns one instance for the same idempotency key sent twice at once', async () => {
    fx = await startAws();
    const s = spec({ idempotencyKey: 'twice-at-once' });
    const [a, b] = await Promise.all([fx.provider.createInstance(s), fx.provider.createInstance(s)]);
    assert.equal(a.id, b.id);
    assert.equal(fx.emu.store.all().length, 1);
  });

  it('retries a RunInstances whose reply was lost and gets the instance it created', async () => {
    fx = await startAws();
    fx.emu.patchFaults({ dropReplies: 1 });
    const created = await fx.provider.createInstance(spec({ idempotencyKey: 'lost-reply' }));
    const all = fx.emu.store.all();
    assert.equal(all.length, 1, 'exactly one instance exists');
    assert.equal(all[0].id, created.id);
    assert.equal(fx.emu.callStats().RunInstances?.ok, 2, 'the call was carried out twice with the same ClientToken');
  });

  it('derives a stable ClientToken of at most 64 ASCII characters from a long or non-ASCII key', async () => {
    fx = await startAws();
    const key = `workload/web/replica/${'x'.repeat(80)}/ünïcode`;
    const a = await fx.provider.createInstance(spec({ idempotencyKey: key }));
    const b = await fx.provider.createInstance(spec({ idempotencyKey: key }));
    assert.equal(a.id, b.id);
    const token = fx.emu.store.all()[0].clientToken ?? '';
    assert.ok(token.length > 0 && token.length <= 64 && /^[\x21-\x7e]+$/.test(token), `token ${token}`);
    assert.equal(a.tags[MERIDIAN_TAGS.key], key, 'the key tag keeps the key when it fits');
  });

  it('completes under 50% throttling, waiting at least the advertised Retry-After, with bounded attempts', async () => {
    fx = await startAws();
    fx.emu.patchFaults({ throttleShare: 0.5, retryAfterSeconds: 1 });
    const attempts: AttemptEvent[] = [];
    assert.ok(fx.provider instanceof AwsProvider);
    fx.provider.onAttempt((e) => attempts.push(e));

    const durations: number[] = [];
    for (const key of ['throttled-1', 'throttled-2']) {
      const t0 = Date.now();
      await fx.provider.createInstance(spec({ idempotencyKey: key }));
      durations.push(Date.now() - t0);
    }
    const throttled = attempts.filter((a) => a.outcome === 'throttled').length;
    assert.equal(throttled, 1, 'every other call is throttled: one of the three attempts');
    assert.ok(attempts.length <= 4, `attempts bounded, got ${attempts.length}`);
    assert.ok(Math.max(...durations) >= 1000, `the throttled create waited for Retry-After: ${durations.join(', ')} ms`);
    assert.equal(fx.emu.callStats().RunInstances?.RequestLimitExceeded, 1);
    assert.equal(fx.emu.store.all().length, 2);
  });

  it('fails with capacity after exactly one attempt when the region is out of the type', async () => {
    fx = await startAws();
    fx.emu.patchFaults({ capacity: { 'us-east-1/t3.micro': 0 } });
    await assert.rejects(fx.provider.createInstance(spec()), (e: unknown) => {
      assert.ok(e instanceof CloudError);
      assert.equal(e.kind, 'capacity');
      assert.equal(e.code, 'InsufficientInstanceCapacity');
      assert.equal(e.httpStatus, 500);
      assert.equal(e.retryable, false);
      assert.match(e.requestId ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(e.cause, 'the SDK error is kept as cause');
      return true;
    });
    assert.deepEqual(fx.emu.callStats().RunInstances, { InsufficientInstanceCapacity: 1 });
    // Another type in the same region still has room.
    await fx.provider.createInstance(spec({ size: 'm6i.large' }));
  });

  it('fails with quota when the region instance quota is full', async () => {
    fx = await startAws();
    fx.emu.patchFaults({ quota: { 'us-east-1': 1 } });
    await fx.provider.createInstance(spec());
    await assert.rejects(fx.provider.createInstance(spec()), isKind('quota', 'InstanceLimitExceeded'));
    assert.equal(fx.emu.callStats().RunInstances?.InstanceLimitExceeded, 1);
  });

  it('raises auth naming the credentials to check when the secret is wrong or the key unknown', async () => {
    fx = await startAws({}, { credentials: { accessKeyId: 'AKIAMERIDIANTEST0001', secretAccessKey: 'not-the-secret' } });
    await assert.rejects(fx.provider.createInstance(spec()), (e: unknown) => {
      assert.ok(e instanceof CloudError);
      assert.equal(e.kind, 'auth');
      assert.equal(e.code, 'SignatureDoesNotMatch');
      assert.equal(e.httpStatus, 403);
      assert.match(e.message, /AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
      return true;
    });
    assert.deepEqual(fx.emu.callStats().RunInstances, { SignatureDoesNotMatch: 1 }, 'auth failures are not retried');
    await fx.stop();

    fx = await startAws({}, { credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever' } });
    await assert.rejects(fx.provider.getInstance('us-east-1', 'i-0123456789abcdef0'), (e: unknown) =>
      e instanceof CloudError && e.kind === 'auth' && e.code === 'AuthFailure' && e.httpStatus === 401 && /AWS_ACCESS_KEY_ID/.test(e.message));
    assert.equal(fx.emu.store.all().length, 0);
  });

  it('uses the SDK default credential chain (environment) when the config has no credentials', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, profile: process.env.AWS_PROFILE };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAMERIDIANTEST0001';
    process.env.AWS_SECRET_ACCESS_KEY = 'meridian-emulator-aws-secret';
    delete process.env.AWS_PROFILE;
    try {
      fx = await startAws({}, { credentials: undefined });
      const created = await fx.provider.createInstance(spec());
      assert.ok(created.id);
    } finally {
      const restore = (k: string, v: string | undefined) => { if (v === undefined) delete process.env[k]; else process.env[k] = v; };
      restore('AWS_ACCESS_KEY_ID', saved.id);
      restore('AWS_SECRET_ACCESS_KEY', saved.secret);
      restore('AWS_PROFILE', saved.profile);
    }
  });

  it('opens the breaker during a region outage, fails fast, and recovers after the cool-down', async () => {
    fx = await startAws();
    const { provider, emu } = fx;
    const inst = await provider.createInstance(spec({ region: 'eu-central-1' }));
    emu.patchFaults({ outages: ['eu-central-1'] });

    await assert.rejects(provider.getInstance('eu-central-1', inst.id), isKind('unavailable'));
    assert.equal(emu.callStats().DescribeInstances?.Unavailable, 3, 'three failures open the breaker');
    const t0 = Date.now();
    await assert.rejects(provider.getInstance('eu-central-1', inst.id), isKind('unavailable', 'CircuitOpen'));
    await assert.rejects(provider.createInstance(spec({ region: 'eu-central-1' })), isKind('unavailable', 'CircuitOpen'));
    assert.ok(Date.now() - t0 < 100, 'open breaker fails fast');
    assert.equal(emu.callStats().DescribeInstances?.Unavailable, 3, 'no request reached the emulator while open');
    assert.equal(emu.callStats().RunInstances?.ok, 1);

    // Other regions are not affected.
    await provider.createInstance(spec({ region: 'us-east-1' }));

    emu.patchFaults({ outages: [] });
    await sleep(320);
    const back = await provider.getInstance('eu-central-1', inst.id);
    assert.equal(back?.id, inst.id);
  });

  it('rejects bad input as invalid before sending any request', async () => {
    fx = await startAws();
    const { provider, emu } = fx;
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['unknown region', () => provider.createInstance(spec({ region: 'mars-north-1' }))],
      ['unknown type', () => provider.createInstance(spec({ size: 'z9.impossible' }))],
      ['empty image', () => provider.createInstance(spec({ image: '' }))],
      ['non-AMI image', () => provider.createInstance(spec({ image: 'ubuntu:22.04' }))],
      ['empty workload', () => provider.createInstance(spec({ workload: '' }))],
      ['empty key', () => provider.createInstance(spec({ idempotencyKey: '' }))],
      ['reserved tag', () => provider.createInstance(spec({ tags: { 'aws:cloudformation': 'x' } }))],
      ['long tag value', () => provider.createInstance(spec({ tags: { team: 'v'.repeat(257) } }))],
      ['too many tags', () => provider.createInstance(spec({ tags: Object.fromEntries(Array.from({ length: 49 }, (_, n) => [`t${n}`, 'x'])) }))],
      ['other cloud', () => provider.createInstance(spec({ cloud: 'azure' }))],
      ['get in unknown region', () => provider.getInstance('mars-north-1', 'i-0123456789abcdef0')],
      ['terminate empty id', () => provider.terminateInstance('us-east-1', '')],
      ['list in unknown region', () => collect(provider.listInstances('mars-north-1'))],
    ];
    for (const [name, run] of cases) await assert.rejects(run(), isKind('invalid'), name);
    await assert.rejects(provider.createInstance(spec({ image: '', workload: '' })), (e: unknown) =>
      e instanceof CloudError && /image/.test(e.message) && /workload/.test(e.message), 'every problem is named');
    await assert.rejects(provider.createInstance(spec({ region: 'mars-north-1' })), (e: unknown) =>
      e instanceof CloudError && /mars-north-1/.test(e.message) && /us-east-1/.test(e.message), 'names the region and the known ones');
    assert.deepEqual(emu.callStats(), {}, 'no request reached EC2');
  });

  it('answers undefined for an unknown instance and treats terminating it as success', async () => {
    fx = await startAws();
    assert.equal(await fx.provider.getInstance('us-east-1', 'i-0123456789abcdef0'), undefined);
    await fx.provider.terminateInstance('us-east-1', 'i-0123456789abcdef0');
    // An instance of another region is not found in this one.
    const inst = await fx.provider.createInstance(spec({ region: 'eu-central-1' }));
    assert.equal(await fx.provider.getInstance('us-east-1', inst.id), undefined);
    assert.equal((await fx.provider.getInstance('eu-central-1', inst.id))?.region, 'eu-central-1');
    assert.equal(fx.emu.store.all()[0].region, 'eu-central-1', 'the emulator took the region from the signature scope');
  });

  it('rejects a malformed instance id as invalid rather than not found', async () => {
    fx = await startAws();
    await assert.rejects(fx.provider.getInstance('us-east-1', 'vm-123'), isKind('invalid', 'InvalidInstanceID.Malformed'));
  });

  it('launches spot instances with base64 user data', async () => {
    fx = await startAws();
    const created = await fx.provider.createInstance(spec({ spot: true, userData: '#!/bin/sh\necho hello\n' }));
    const held = fx.emu.store.get(created.id);
    assert.equal(held?.extra.spot, true);
    assert.ok(fx.provider.capabilities.spot);
  });

  it('keeps retrying 5xx answers within the attempt budget and then reports unavailable', async () => {
    fx = await startAws({}, {}, { ...TEST_RESILIENCE, breaker: { failureThreshold: 100, coolDownMs: 300 } });
    fx.emu.patchFaults({ errorShare: 1 });
    await assert.rejects(fx.provider.createInstance(spec()), (e: unknown) =>
      e instanceof CloudError && e.kind === 'unavailable' && e.code === 'InternalError' && e.httpStatus === 500 && e.retryable);
    assert.equal(fx.emu.callStats().RunInstances?.InternalError, 5, 'maxAttempts bounds the retries; the SDK adds none');
  });
});
