import { strict as assert } from 'node:assert';
import { createProviderContainer, providerFor } from '../../../providers/drivers';
import { TEST_CREDENTIALS } from '../../../providers/emulator/core';
import { CloudError, isCloudError } from '../../../providers/errors';
import { MERIDIAN_TAGS } from '../../../providers/types';
import { TEST_RESILIENCE, callCount, calls, collect, spec, startAlibaba, type AlibabaFixture } from './fixture';
import { waitForValue } from '../../tools/wait';

async function rejection(p: Promise<unknown>): Promise<CloudError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CloudError, `expected a CloudError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to reject');
}

describe('providers/alibaba: AlibabaProvider against the ECS emulator', () => {
  let f: AlibabaFixture;
  beforeEach(async () => { f = await startAlibaba(); });
  afterEach(async () => { await f.stop(); });

  it('creates an instance, sees it move from pending to running, gets it and terminates it', async () => {
    // A pending window that the create's own calls cannot outlast on a busy machine.
    await f.stop();
    f = await startAlibaba({ pendingMs: 1_000 });
    const created = await f.provider.createInstance(spec({ tags: { team: 'edge' } }));
    assert.equal(created.cloud, 'alibaba');
    assert.equal(created.region, 'cn-hangzhou');
    assert.equal(created.size, 'ecs.g7.large');
    assert.equal(created.state, 'pending');
    assert.match(created.id, /^i-/);
    assert.deepEqual(created.tags, { team: 'edge', [MERIDIAN_TAGS.workload]: 'web', [MERIDIAN_TAGS.key]: created.tags[MERIDIAN_TAGS.key] });
    assert.ok(!Number.isNaN(Date.parse(created.launchedAt)));

    let current = created;
    const deadline = Date.now() + 3_000;
    while (current.state !== 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      const got = await f.provider.getInstance('cn-hangzhou', created.id);
      assert.ok(got);
      current = got;
    }
    assert.equal(current.state, 'running');
    assert.match(current.publicIp ?? '', /^47\./);
    assert.match(current.privateIp ?? '', /^10\./);

    await f.provider.terminateInstance('cn-hangzhou', created.id);
    assert.equal(await f.provider.getInstance('cn-hangzhou', created.id), undefined);
    // Releasing twice is still success: gone is gone.
    await f.provider.terminateInstance('cn-hangzhou', created.id);
    assert.equal(calls(f.emu, 'DeleteInstance')['InvalidInstanceId.NotFound'], 1);
  });

  it('lists 250 instances over three pages of 100 and filters them by every tag on the server', async () => {
    const limits = { capacity: {}, quota: {} };
    for (let i = 0; i < 250; i++) {
      f.emu.store.create({
        region: 'cn-hangzhou', type: 'ecs.g7.large', image: 'img', fingerprint: String(i),
        tags: { [MERIDIAN_TAGS.workload]: i % 5 === 0 ? 'db' : 'web', shard: String(i % 2) },
      }, limits);
    }
    f.emu.store.create({ region: 'eu-central-1', type: 'ecs.g7.large', image: 'img', fingerprint: 'x', tags: { [MERIDIAN_TAGS.workload]: 'web' } }, limits);

    const all = await collect(f.provider.listInstances('cn-hangzhou'));
    assert.equal(all.length, 250);
    assert.equal(new Set(all.map((i) => i.id)).size, 250);
    assert.equal(callCount(f.emu, 'DescribeInstances'), 3);

    const web = await collect(f.provider.listInstances('cn-hangzhou', { [MERIDIAN_TAGS.workload]: 'web' }));
    assert.equal(web.length, 200);
    assert.ok(web.every((i) => i.tags[MERIDIAN_TAGS.workload] === 'web' && i.region === 'cn-hangzhou'));
    assert.equal(callCount(f.emu, 'DescribeInstances'), 3 + 2);

    const webShard0 = await collect(f.provider.listInstances('cn-hangzhou', { [MERIDIAN_TAGS.workload]: 'web', shard: '0' }));
    assert.equal(webShard0.length, 100);
  });

  it('follows NextToken through pages smaller than the driver asks for', async () => {
    await f.stop();
    f = await startAlibaba({ maxPageSize: 10 });
    const limits = { capacity: {}, quota: {} };
    for (let i = 0; i < 35; i++) f.emu.store.create({ region: 'cn-hangzhou', type: 'ecs.g7.large', image: 'img', fingerprint: String(i), tags: {} }, limits);
    const all = await collect(f.provider.listInstances('cn-hangzhou'));
    assert.equal(all.length, 35);
    assert.equal(callCount(f.emu, 'DescribeInstances'), 4);
  });

  it('creates exactly one instance when the same idempotency key is sent twice at once', async () => {
    const s = spec({ idempotencyKey: 'deploy-42/web/0' });
    const [a, b] = await Promise.all([f.provider.createInstance(s), f.provider.createInstance(s)]);
    assert.equal(a.id, b.id);
    const held = await f.admin.instances();
    assert.equal(held.length, 1);
    assert.equal(calls(f.emu, 'RunInstances').ok, 2);
  });

  it('retries a RunInstances whose reply was lost and gets the same instance back', async () => {
    await f.admin.setFaults({ dropReplies: 1 });
    const created = await f.provider.createInstance(spec({ idempotencyKey: 'lost-reply-1' }));
    assert.deepEqual(calls(f.emu, 'RunInstances'), { dropped: 1, ok: 1 });
    const held = await f.admin.instances();
    assert.equal(held.length, 1);
    assert.equal(held[0].id, created.id);
  });

  it('finishes while half the calls are throttled, waiting as long as the throttle asks and no more attempts than needed', async () => {
    await f.admin.setFaults({ throttleShare: 0.5, retryAfterSeconds: 1 });
    const started = Date.now();
    const created = await f.provider.createInstance(spec());
    const elapsed = Date.now() - started;
    // RunInstances passes, the DescribeInstances after it is throttled once and retried after 1 s.
    assert.equal(calls(f.emu, 'DescribeInstances')['Throttling.User'], 1);
    assert.equal(callCount(f.emu, 'RunInstances') + callCount(f.emu, 'DescribeInstances'), 3);
    assert.ok(elapsed >= 1_000, `waited only ${elapsed} ms despite a 1 s retry-after`);
    assert.ok(elapsed < 4_000, `took ${elapsed} ms`);
    assert.equal((await f.admin.instances()).length, 1);
    assert.match(created.id, /^i-/);
  });

  it('reports capacity after exactly one attempt when the region is out of stock for the type', async () => {
    await f.admin.setFaults({ capacity: { 'cn-hangzhou/ecs.g7.large': 0 } });
    const err = await rejection(f.provider.createInstance(spec()));
    assert.equal(err.kind, 'capacity');
    assert.equal(err.code, 'OperationDenied.NoStock');
    assert.equal(err.httpStatus, 403);
    assert.equal(err.retryable, false);
    assert.ok(err.requestId);
    assert.ok(err.cause);
    assert.deepEqual(calls(f.emu, 'RunInstances'), { 'OperationDenied.NoStock': 1 });
    // Another type in the same region is still fine.
    await f.provider.createInstance(spec({ size: 'ecs.t6-c1m1.large' }));
  });

  it('reports quota when the region quota is used up', async () => {
    await f.admin.setFaults({ quota: { 'cn-hangzhou': 1 } });
    await f.provider.createInstance(spec());
    const err = await rejection(f.provider.createInstance(spec()));
    assert.equal(err.kind, 'quota');
    assert.equal(err.code, 'QuotaExceed.ElasticQuota');
    assert.equal(calls(f.emu, 'RunInstances')['QuotaExceed.ElasticQuota'], 1);
  });

  it('raises auth naming the credentials to check when the secret is wrong or the key unknown', async () => {
    const wrongSecret = f.providerWith({ accessKeyId: 'LTAIMERIDIANTEST0001', accessKeySecret: 'not-the-secret' });
    const err = await rejection(wrongSecret.createInstance(spec()));
    assert.equal(err.kind, 'auth');
    assert.equal(err.code, 'SignatureDoesNotMatch');
    assert.match(err.message, /ALIBABA_CLOUD_ACCESS_KEY_ID \/ ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    assert.deepEqual(calls(f.emu, 'RunInstances'), { SignatureDoesNotMatch: 1 });

    const unknownKey = f.providerWith({ accessKeyId: 'LTAINOSUCHKEY', accessKeySecret: 'x' });
    const err2 = await rejection(unknownKey.getInstance('cn-hangzhou', 'i-abc'));
    assert.equal(err2.kind, 'auth');
    assert.equal(err2.code, 'InvalidAccessKeyId.NotFound');
    assert.equal(err2.httpStatus, 404);
    assert.equal((await f.admin.instances()).length, 0);
  });

  it('takes credentials from the default chain (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET) when the configuration has none', async () => {
    const saved = { id: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID, secret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET };
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = TEST_CREDENTIALS.alibaba.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = TEST_CREDENTIALS.alibaba.accessKeySecret;
    try {
      const fromEnv = providerFor(createProviderContainer({ alibaba: { endpoint: f.emu.url }, resilience: TEST_RESILIENCE }), 'alibaba');
      const created = await fromEnv.createInstance(spec());
      assert.equal((await fromEnv.getInstance('cn-hangzhou', created.id))?.id, created.id);
      process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'wrong';
      const wrong = providerFor(createProviderContainer({ alibaba: { endpoint: f.emu.url }, resilience: TEST_RESILIENCE }), 'alibaba');
      assert.equal((await rejection(wrong.getInstance('cn-hangzhou', created.id))).kind, 'auth');
    } finally {
      for (const [name, value] of [['ALIBABA_CLOUD_ACCESS_KEY_ID', saved.id], ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', saved.secret]] as const) {
        if (value === undefined) delete process.env[name]; else process.env[name] = value;
      }
    }
  });

  it('refuses half a key pair as invalid configuration before sending anything', async () => {
    const half = f.providerWith({ accessKeyId: 'LTAIMERIDIANTEST0001', accessKeySecret: '' });
    const err = await rejection(half.getInstance('cn-hangzhou', 'i-abc'));
    assert.equal(err.kind, 'invalid');
    assert.match(err.message, /accessKeySecret/);
    assert.deepEqual(f.emu.callStats(), {});
  });

  it('opens the breaker during a region outage, fails fast without calling, then recovers after the cool-down', async () => {
    await f.admin.setFaults({ outages: ['eu-central-1'] });
    const first = await rejection(f.provider.getInstance('eu-central-1', 'i-abc'));
    assert.equal(first.kind, 'unavailable');
    assert.equal(first.code, 'CircuitOpen');
    assert.deepEqual(calls(f.emu, 'DescribeInstances'), { ServiceUnavailable: 3 });

    const fast = await rejection(f.provider.listInstances('eu-central-1')[Symbol.asyncIterator]().next());
    assert.equal(fast.code, 'CircuitOpen');
    assert.equal(callCount(f.emu, 'DescribeInstances'), 3, 'no request may reach the emulator while the breaker is open');

    // Other regions are unaffected.
    await f.provider.createInstance(spec({ region: 'cn-hangzhou' }));

    await f.admin.setFaults({ outages: [] });
    // Fails fast while the breaker stays open; the first call after the cool-down reaches the region.
    const listed = await waitForValue('the breaker to let a call through after its cool-down', async () => {
      try { return await collect(f.provider.listInstances('eu-central-1')); } catch (e) {
        if (e instanceof CloudError && e.code === 'CircuitOpen') return undefined;
        throw e;
      }
    }, 5_000, 20);
    assert.equal(listed.length, 0);
    const created = await f.provider.createInstance(spec({ region: 'eu-central-1' }));
    assert.equal(created.region, 'eu-central-1');
    assert.equal((await collect(f.provider.listInstances('eu-central-1'))).length, 1);
  });

  it('retries injected 500s until the call succeeds', async () => {
    await f.admin.setFaults({ errorShare: 0.5 });
    const created = await f.provider.createInstance(spec());
    assert.equal((await f.admin.instances()).length, 1);
    assert.ok(await f.provider.getInstance('cn-hangzhou', created.id));
    assert.ok((calls(f.emu, 'RunInstances').InternalError ?? 0) + (calls(f.emu, 'DescribeInstances').InternalError ?? 0) >= 1);
  });

  it('rejects bad input as invalid, naming the field, before any request is sent', async () => {
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [f.provider.createInstance(spec({ region: 'mars-north-1' })), /region 'mars-north-1'/],
      [f.provider.createInstance(spec({ size: 'ecs.nonexistent.huge' })), /instance type 'ecs.nonexistent.huge'/],
      [f.provider.createInstance(spec({ image: '  ' })), /image/],
      [f.provider.createInstance(spec({ idempotencyKey: '' })), /idempotencyKey/],
      [f.provider.createInstance(spec({ workload: '' })), /workload/],
      [f.provider.createInstance(spec({ tags: { 'acs:owner': 'x' } })), /tags\['acs:owner'\]/],
      [f.provider.createInstance(spec({ tags: { link: 'https://example.com' } })), /tags\['link'\]/],
      [f.provider.createInstance(spec({ tags: { [MERIDIAN_TAGS.key]: 'mine' } })), /reserved/],
      [f.provider.createInstance(spec({ tags: Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`k${i}`, 'v'])) })), /at most 18/],
      [f.provider.createInstance(spec({ userData: 'x'.repeat(33 * 1024) })), /userData/],
      [f.provider.createInstance(spec({ cloud: 'aws' })), /cloud/],
      [f.provider.getInstance('nowhere-1', 'i-abc'), /region 'nowhere-1'/],
      [f.provider.getInstance('cn-hangzhou', ''), /instance id/],
      [f.provider.terminateInstance('nowhere-1', 'i-abc'), /region 'nowhere-1'/],
      [collect(f.provider.listInstances('nowhere-1')), /region 'nowhere-1'/],
      [collect(f.provider.listInstances('cn-hangzhou', { 'aliyun-x': 'y' })), /tags\['aliyun-x'\]/],
    ];
    for (const [p, message] of cases) {
      const err = await rejection(p);
      assert.equal(err.kind, 'invalid', err.message);
      assert.match(err.message, message);
    }
    assert.deepEqual(f.emu.callStats(), {}, 'no request may reach the emulator');
  });

  it('answers undefined for an instance that does not exist and treats terminating it as done', async () => {
    assert.equal(await f.provider.getInstance('cn-hangzhou', 'i-doesnotexist'), undefined);
    await f.provider.terminateInstance('cn-hangzhou', 'i-doesnotexist');
    assert.deepEqual(calls(f.emu, 'DeleteInstance'), { 'InvalidInstanceId.NotFound': 1 });
  });

  it('terminates an instance whose DeleteInstance reply was lost', async () => {
    const created = await f.provider.createInstance(spec());
    await f.admin.setFaults({ dropReplies: 1 });
    await f.provider.terminateInstance('cn-hangzhou', created.id);
    assert.deepEqual(calls(f.emu, 'DeleteInstance'), { dropped: 1, 'InvalidInstanceId.NotFound': 1 });
    assert.equal((await f.admin.instances()).length, 0);
  });

  it('creates spot instances with user data sent as Base64', async () => {
    const created = await f.provider.createInstance(spec({ spot: true, userData: '#!/bin/sh\necho hello\n' }));
    const held = f.emu.store.get(created.id);
    assert.ok(held);
    assert.equal(held.extra.spotStrategy, 'SpotAsPriceGo');
    assert.equal(Buffer.from(String(held.extra.userData), 'base64').toString(), '#!/bin/sh\necho hello\n');
    assert.equal(f.provider.capabilities.spot, true);
  });

  it('keeps one instance per key even when the key is too long or not ASCII for a ClientToken', async () => {
    const key = `déploiement/${'x'.repeat(200)}`;
    const a = await f.provider.createInstance(spec({ idempotencyKey: key }));
    const b = await f.provider.createInstance(spec({ idempotencyKey: key }));
    assert.equal(a.id, b.id);
    const held = await f.admin.instances();
    assert.equal(held.length, 1);
    assert.match(held[0].tags[MERIDIAN_TAGS.key], /^sha256:[0-9a-f]{64}$/);
    const token = f.emu.store.get(a.id)?.clientToken ?? '';
    assert.ok(token.length <= 64 && /^[\x21-\x7e]+$/.test(token), token);
  });

  it('rejects only with CloudError, also for errors the SDK raises itself', async () => {
    await f.stop();
    // Nothing listens any more: connection refused is `unavailable` and retried, then the breaker opens.
    const err = await rejection(f.provider.getInstance('cn-hangzhou', 'i-abc'));
    assert.ok(isCloudError(err, 'unavailable'));
  });
});
