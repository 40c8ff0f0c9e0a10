import { strict as assert } from 'node:assert';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import EcsClient, {
  DeleteInstanceRequest, DescribeInstancesRequest, DescribeInstancesRequestTag, RunInstancesRequest, RunInstancesRequestTag, ModifyInstanceSpecRequest, StopInstanceRequest,
} from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import OpenApiUtil from '@alicloud/openapi-util';
import * as $Util from '@alicloud/tea-util';
import { TEST_CREDENTIALS } from '../../../providers/emulator/core';
import { AlibabaEmulator, acs3Signature, canonicalRequest, parseAcs3Authorization } from '../../../providers/emulator/alibaba';
import { calls } from './fixture';

/** What an `@alicloud/openapi-core` error carries. */
interface SdkError { code?: string; statusCode?: number; requestId?: string; retryAfter?: number; data?: Record<string, unknown> }

function sdk(emu: AlibabaEmulator, keys: { accessKeyId: string; accessKeySecret: string } = TEST_CREDENTIALS.alibaba): EcsClient {
  return new EcsClient(new $OpenApi.Config({ ...keys, endpoint: new URL(emu.url).host, protocol: 'http', readTimeout: 5_000, connectTimeout: 2_000 }));
}

const runtime = () => new $Util.RuntimeOptions({ autoretry: false, maxAttempts: 1 });

async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  assert.fail('expected the SDK call to fail');
}

function run(region: string, overrides: Partial<RunInstancesRequest> = {}): RunInstancesRequest {
  return new RunInstancesRequest({ regionId: region, instanceType: 'ecs.g7.large', imageId: 'img-1', amount: 1, ...overrides });
}

describe('providers/emulator/alibaba: the ECS emulator speaks the SDK wire protocol', () => {
  let emu: AlibabaEmulator;
  beforeEach(async () => { emu = await new AlibabaEmulator({ pendingMs: 0 }).start(); });
  afterEach(async () => { await emu.stop(); });

  it('accepts the SDK signature and answers RunInstances and DescribeInstances in the SDK models', async () => {
    const c = sdk(emu);
    const out = await c.runInstancesWithOptions(run('cn-hangzhou', { tag: [new RunInstancesRequestTag({ key: 'app', value: 'web' })] }), runtime());
    const id = out.body?.instanceIdSets?.instanceIdSet?.[0];
    assert.match(id ?? '', /^i-/);
    assert.equal(out.statusCode, 200);
    assert.ok(out.body?.requestId);

    const desc = await c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'cn-hangzhou', instanceIds: JSON.stringify([id]) }), runtime());
    const inst = desc.body?.instances?.instance?.[0];
    assert.equal(inst?.instanceId, id);
    assert.equal(inst?.status, 'Running');
    assert.equal(inst?.instanceType, 'ecs.g7.large');
    assert.match(inst?.creationTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    assert.deepEqual(inst?.tags?.tag?.map((t) => [t.tagKey, t.tagValue]), [['app', 'web']]);
    assert.equal(inst?.publicIpAddress?.ipAddress?.length, 1);
  });

  it('rejects a wrong secret with SignatureDoesNotMatch and an unknown key with InvalidAccessKeyId.NotFound', async () => {
    const bad = await sdkError(sdk(emu, { accessKeyId: TEST_CREDENTIALS.alibaba.accessKeyId, accessKeySecret: 'wrong' }).runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(bad.code, 'SignatureDoesNotMatch');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.data?.HostId, 'ecs.cn-hangzhou.aliyuncs.com');
    assert.match(String(bad.data?.Recommend), /SignatureDoesNotMatch/);
    const unknown = await sdkError(sdk(emu, { accessKeyId: 'LTAIUNKNOWN', accessKeySecret: 'x' }).runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(unknown.code, 'InvalidAccessKeyId.NotFound');
    assert.equal(unknown.statusCode, 404);
    assert.equal(emu.store.all().length, 0);
  });

  it('rejects an unsigned request, a replayed nonce and a tampered query', async () => {
    const unsigned = await fetch(`${emu.url}/?RegionId=cn-hangzhou`, { method: 'POST', headers: { 'x-acs-action': 'DescribeInstances', 'x-acs-version': '2014-05-26' } });
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as { Code: string }).Code, 'IncompleteSignature');

    // Record one request the SDK signs, then replay it to the emulator byte for byte: the signed
    // host header names the recorder's port, which the signature covers and the emulator accepts.
    let captured: { url: string; headers: Record<string, string> } | undefined;
    const recorder = createServer((req, res) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      captured = { url: req.url ?? '/', headers };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"RequestId":"R"}');
    });
    await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
    const port = (recorder.address() as AddressInfo).port;
    try {
      const c = new EcsClient(new $OpenApi.Config({ ...TEST_CREDENTIALS.alibaba, endpoint: `127.0.0.1:${port}`, protocol: 'http' }));
      await c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'cn-hangzhou' }), runtime());
    } finally {
      recorder.closeAllConnections();
      await new Promise((r) => recorder.close(r));
    }
    assert.ok(captured);
    assert.ok(parseAcs3Authorization(captured.headers.authorization));
    const replayTarget = await new AlibabaEmulator({ port: 0 }).start();
    try {
      const target = new URL(replayTarget.url);
      // node:http, unlike fetch, sends the captured Host header as it is.
      const send = (path: string) => new Promise<{ status: number; body: string }>((done, fail) => {
        const req = request({ host: target.hostname, port: target.port, method: 'POST', path, headers: captured?.headers }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => done({ status: res.statusCode ?? 0, body }));
        });
        req.once('error', fail).end();
      });
      assert.equal(captured.headers.host, `127.0.0.1:${port}`);
      const first = await send(captured.url);
      assert.equal(first.status, 200, first.body);
      const replay = await send(captured.url);
      assert.equal((JSON.parse(replay.body) as { Code: string }).Code, 'SignatureNonceUsed');
      const tampered = await send(captured.url.replace('cn-hangzhou', 'eu-central-1'));
      assert.equal((JSON.parse(tampered.body) as { Code: string }).Code, 'SignatureDoesNotMatch');
      assert.deepEqual(calls(replayTarget, 'DescribeInstances'), { ok: 1, SignatureNonceUsed: 1, SignatureDoesNotMatch: 1 });
    } finally {
      await replayTarget.stop();
    }
  });

  it('computes the same signature as the SDK signer for the same request', () => {
    const query = { RegionId: 'cn-hangzhou', 'Tag.1.Key': 'a b*', 'Tag.1.Value': "it's(1)!~" };
    const headers = {
      host: 'ecs.cn-hangzhou.aliyuncs.com', 'x-acs-action': 'DescribeInstances', 'x-acs-version': '2014-05-26',
      'x-acs-date': '2026-01-01T00:00:00Z', 'x-acs-signature-nonce': 'n1', 'x-acs-content-sha256': 'e3b0', 'user-agent': 'ignored',
    };
    const request = { method: 'POST', pathname: '/', query, headers } as unknown as Parameters<typeof OpenApiUtil.getAuthorization>[0];
    const fromSdk = OpenApiUtil.getAuthorization(request, 'ACS3-HMAC-SHA256', 'e3b0', 'AK', 'secret');
    const auth = parseAcs3Authorization(fromSdk);
    assert.ok(auth);
    const canonical = canonicalRequest({ method: 'POST', path: '/', query: new Map(Object.entries(query)), headers, body: Buffer.alloc(0) }, auth.signedHeaders, 'e3b0');
    assert.match(canonical, /RegionId=cn-hangzhou&Tag\.1\.Key=a%20b%2A&Tag\.1\.Value=it%27s%281%29%21~/);
    assert.equal(acs3Signature(canonical, 'secret'), auth.signature);
    assert.notEqual(acs3Signature(canonical, 'other'), auth.signature);
  });

  it('signs and verifies tag values with characters that need escaping', async () => {
    const c = sdk(emu);
    const value = "a b+c/d*e'(f)!~é";
    await c.runInstancesWithOptions(run('cn-hangzhou', { tag: [new RunInstancesRequestTag({ key: 'odd key', value })] }), runtime());
    const found = await c.describeInstancesWithOptions(new DescribeInstancesRequest({
      regionId: 'cn-hangzhou', tag: [new DescribeInstancesRequestTag({ key: 'odd key', value })],
    }), runtime());
    assert.equal(found.body?.instances?.instance?.length, 1);
  });

  it('rejects reusing a ClientToken with other parameters with IdempotentParameterMismatch', async () => {
    const c = sdk(emu);
    const a = await c.runInstancesWithOptions(run('cn-hangzhou', { clientToken: 'tok-1' }), runtime());
    const b = await c.runInstancesWithOptions(run('cn-hangzhou', { clientToken: 'tok-1' }), runtime());
    assert.deepEqual(b.body?.instanceIdSets?.instanceIdSet, a.body?.instanceIdSets?.instanceIdSet);
    const err = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou', { clientToken: 'tok-1', instanceType: 'ecs.t6-c1m1.large' }), runtime()));
    assert.equal(err.code, 'IdempotentParameterMismatch');
    assert.equal(err.statusCode, 400);
    assert.equal(emu.store.all().length, 1);
  });

  it('pages DescribeInstances by NextToken and by PageNumber, with the documented bounds', async () => {
    const limits = { capacity: {}, quota: {} };
    for (let i = 0; i < 23; i++) emu.store.create({ region: 'eu-central-1', type: 'ecs.g7.large', image: 'img', fingerprint: String(i), tags: {} }, limits);
    const c = sdk(emu);
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      // MaxResults below 10 is raised to 10, as ECS documents.
      const page = await c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'eu-central-1', maxResults: 5, nextToken: token }), runtime());
      ids.push(...(page.body?.instances?.instance ?? []).map((i) => i.instanceId ?? ''));
      assert.equal(page.body?.totalCount, 23);
      token = page.body?.nextToken || undefined;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(new Set(ids).size, 23);

    const third = await c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'eu-central-1', pageNumber: 3, pageSize: 10 }), runtime());
    assert.equal(third.body?.instances?.instance?.length, 3);
    assert.equal(third.body?.pageNumber, 3);
    const bad = await sdkError(c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'eu-central-1', nextToken: 'garbage' }), runtime()));
    assert.equal(bad.code, 'InvalidParameter');
  });

  it('answers unknown regions, instances, types and actions with the ECS codes', async () => {
    const c = sdk(emu);
    const region = await sdkError(c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'xx-nowhere-1' }), runtime()));
    assert.equal(region.code, 'InvalidRegionId.NotFound');
    assert.equal(region.statusCode, 404);
    const inst = await sdkError(c.deleteInstanceWithOptions(new DeleteInstanceRequest({ instanceId: 'i-missing', force: true }), runtime()));
    assert.equal(inst.code, 'InvalidInstanceId.NotFound');
    assert.equal(inst.statusCode, 404);
    const type = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou', { instanceType: 'ecs.nope' }), runtime()));
    assert.equal(type.code, 'InvalidInstanceType.NotFound');
    const missing = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou', { imageId: undefined }), runtime()));
    assert.equal(missing.code, 'MissingParameter');
    const ud = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou', { userData: 'not base64!' }), runtime()));
    assert.equal(ud.code, 'InvalidUserData.Base64FormatInvalid');
    const tag = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou', { tag: [new RunInstancesRequestTag({ key: 'acs:x', value: 'y' })] }), runtime()));
    assert.equal(tag.code, 'InvalidTagKey.Malformed');
    const stopUnknown = await sdkError(c.stopInstanceWithOptions(new StopInstanceRequest({ instanceId: 'i-1' }), runtime()));
    assert.equal(stopUnknown.code, 'InvalidInstanceId.NotFound');
    const action = await sdkError(c.modifyInstanceSpecWithOptions(new ModifyInstanceSpecRequest({ instanceId: 'i-1', instanceType: 'ecs.g7.xlarge' }), runtime()));
    assert.equal(action.code, 'InvalidApi.NotFound');
    assert.equal(emu.store.all().length, 0);
  });

  it('refuses to release a running instance without Force and releases it with Force', async () => {
    const c = sdk(emu);
    const out = await c.runInstancesWithOptions(run('cn-hangzhou'), runtime());
    const id = out.body?.instanceIdSets?.instanceIdSet?.[0] ?? '';
    const err = await sdkError(c.deleteInstanceWithOptions(new DeleteInstanceRequest({ instanceId: id }), runtime()));
    assert.equal(err.code, 'IncorrectInstanceStatus');
    assert.equal(err.statusCode, 403);
    await c.deleteInstanceWithOptions(new DeleteInstanceRequest({ instanceId: id, force: true }), runtime());
    const after = await c.describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'cn-hangzhou', instanceIds: JSON.stringify([id]) }), runtime());
    assert.equal(after.body?.instances?.instance?.length, 0, 'a released instance is no longer listed');
  });

  it('answers faults with Throttling.User plus retry headers, ServiceUnavailable, InternalError, NoStock and quota codes', async () => {
    const c = sdk(emu);
    emu.patchFaults({ throttleShare: 1, retryAfterSeconds: 2 });
    const throttled = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(throttled.code, 'Throttling.User');
    assert.equal(throttled.statusCode, 400);
    assert.equal(throttled.retryAfter, 2_000);

    emu.patchFaults({ throttleShare: 0, outages: ['cn-hangzhou'] });
    const outage = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(outage.code, 'ServiceUnavailable');
    assert.equal(outage.statusCode, 503);

    emu.patchFaults({ outages: [], errorShare: 1 });
    const internal = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(internal.code, 'InternalError');
    assert.equal(internal.statusCode, 500);

    emu.patchFaults({ errorShare: 0, capacity: { 'cn-hangzhou/*': 0 } });
    const stock = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(stock.code, 'OperationDenied.NoStock');
    assert.equal(stock.statusCode, 403);

    emu.patchFaults({ capacity: {}, quota: { '*': 0 } });
    const quota = await sdkError(c.runInstancesWithOptions(run('cn-hangzhou'), runtime()));
    assert.equal(quota.code, 'QuotaExceed.ElasticQuota');
    assert.equal(quota.statusCode, 403);
    assert.equal(emu.store.all().length, 0);
  });

  it('accepts several key pairs and none of the test defaults when told otherwise', async () => {
    await emu.stop();
    emu = await new AlibabaEmulator({ credentials: [{ accessKeyId: 'LTAIONE', accessKeySecret: 's1' }, { accessKeyId: 'LTAITWO', accessKeySecret: 's2' }] }).start();
    await sdk(emu, { accessKeyId: 'LTAITWO', accessKeySecret: 's2' }).describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'cn-hangzhou' }), runtime());
    const err = await sdkError(sdk(emu).describeInstancesWithOptions(new DescribeInstancesRequest({ regionId: 'cn-hangzhou' }), runtime()));
    assert.equal(err.code, 'InvalidAccessKeyId.NotFound');
  });
});
