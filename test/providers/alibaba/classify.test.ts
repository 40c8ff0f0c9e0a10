import { strict as assert } from 'node:assert';
import { ALIBABA_CREDENTIAL_HINT, classifyAlibabaError } from '../../../providers/alibaba/classify';
import { ecsEndpointFor } from '../../../providers/alibaba/client';
import { clientTokenFor, instanceStateOf, isoTime, keyTagValue, toInstance } from '../../../providers/alibaba/mapping';
import { CloudError } from '../../../providers/errors';

const ctx = { region: 'cn-hangzhou', apiClass: 'write' as const, operation: 'RunInstances' };

/** An error shaped like the ones `@alicloud/openapi-core` throws for an HTTP answer. */
function answer(name: 'ClientError' | 'ServerError' | 'ThrottlingError', statusCode: number, code: string, extra: Record<string, unknown> = {}): Error {
  const e = new Error(`code: ${statusCode}, msg request id: R-1`);
  return Object.assign(e, { name, statusCode, code, requestId: 'R-1', data: { Code: code, Message: `${code} happened`, RequestId: 'R-1' }, ...extra });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe('providers/alibaba: classifying SDK errors', () => {
  it('sorts ECS codes into kinds and keeps code, request id, status and cause', () => {
    const table: Array<[Error, CloudError['kind'], boolean]> = [
      [answer('ClientError', 403, 'OperationDenied.NoStock'), 'capacity', false],
      [answer('ClientError', 403, 'QuotaExceed.ElasticQuota'), 'quota', false],
      [answer('ClientError', 403, 'Account.Arrearage'), 'quota', false],
      [answer('ThrottlingError', 400, 'Throttling.User'), 'throttled', true],
      [answer('ThrottlingError', 400, 'Throttling'), 'throttled', true],
      [answer('ClientError', 400, 'SignatureDoesNotMatch'), 'auth', false],
      [answer('ClientError', 404, 'InvalidAccessKeyId.NotFound'), 'auth', false],
      [answer('ClientError', 404, 'InvalidInstanceId.NotFound'), 'not-found', false],
      [answer('ClientError', 404, 'InvalidRegionId.NotFound'), 'invalid', false],
      [answer('ClientError', 400, 'IdempotentParameterMismatch'), 'invalid', false],
      [answer('ClientError', 403, 'IncorrectInstanceStatus'), 'invalid', false],
      [answer('ServerError', 503, 'ServiceUnavailable'), 'unavailable', true],
      [answer('ServerError', 500, 'InternalError'), 'unavailable', true],
      [answer('ServerError', 502, 'BadGateway'), 'unavailable', true],
      [answer('ClientError', 429, 'TooManyRequests'), 'throttled', true],
    ];
    for (const [err, kind, retryable] of table) {
      const c = classifyAlibabaError(err, ctx);
      const code = (err as Error & { code: string }).code;
      assert.equal(c.kind, kind, code);
      assert.equal(c.retryable, retryable, code);
      assert.equal(c.code, code);
      assert.equal(c.requestId, 'R-1');
      assert.equal(c.httpStatus, (err as Error & { statusCode: number }).statusCode);
      assert.equal(c.cause, err);
      assert.equal(c.cloud, 'alibaba');
      assert.equal(c.region, 'cn-hangzhou');
    }
  });

  it('carries the throttle wait from x-acs-retry-after, in milliseconds', () => {
    const c = classifyAlibabaError(answer('ThrottlingError', 400, 'Throttling.User', { retryAfter: 2000 }), ctx);
    assert.equal(c.retryAfterMs, 2000);
    assert.equal(classifyAlibabaError(answer('ThrottlingError', 400, 'Throttling.User'), ctx).retryAfterMs, undefined);
  });

  it('names the credentials to check in every auth error, also when no credentials were found at all', () => {
    const wrong = classifyAlibabaError(answer('ClientError', 400, 'SignatureDoesNotMatch'), ctx);
    assert.ok(wrong.message.includes(ALIBABA_CREDENTIAL_HINT));
    const none = classifyAlibabaError(new Error('unable to get credentials from any of the providers in the chain: x'), ctx);
    assert.equal(none.kind, 'auth');
    assert.ok(none.message.includes('ALIBABA_CLOUD_ACCESS_KEY_ID'));
    const unset = classifyAlibabaError(Object.assign(new Error('Please set up the credentials correctly.'), { name: 'ClientError', code: 'InvalidCredentials' }), ctx);
    assert.equal(unset.kind, 'auth');
  });

  it('treats connection failures and timeouts as retryable unavailability', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      const c = classifyAlibabaError(systemError(code), ctx);
      assert.equal(c.kind, 'unavailable', code);
      assert.equal(c.retryable, true, code);
    }
    const hangup = classifyAlibabaError(new Error('socket hang up'), ctx);
    assert.equal(hangup.kind, 'unavailable');
    assert.equal(hangup.retryable, true);
    const timeout = classifyAlibabaError(Object.assign(new Error('ReadTimeout(5000)'), { name: 'RequestTimeoutError' }), ctx);
    assert.equal(timeout.kind, 'unavailable');
    assert.equal(timeout.retryable, true);
  });

  it('does not retry an error it cannot explain, and passes CloudErrors through', () => {
    const odd = classifyAlibabaError(new TypeError('x is not a function'), ctx);
    assert.equal(odd.kind, 'unavailable');
    assert.equal(odd.retryable, false);
    const mine = new CloudError('already classified', { kind: 'quota', cloud: 'alibaba' });
    assert.equal(classifyAlibabaError(mine, ctx), mine);
  });
});

describe('providers/alibaba: mapping ECS shapes', () => {
  it('maps every ECS status to a normalized state', () => {
    assert.equal(instanceStateOf('Pending'), 'pending');
    assert.equal(instanceStateOf('Starting'), 'pending');
    assert.equal(instanceStateOf('Running'), 'running');
    assert.equal(instanceStateOf('Stopping'), 'stopping');
    assert.equal(instanceStateOf('Stopped'), 'stopped');
    assert.equal(instanceStateOf('SomethingNew'), 'pending');
  });

  it('derives ClientTokens that are stable, at most 64 printable ASCII characters, and the key itself when it fits', () => {
    assert.equal(clientTokenFor('deploy-1/web/0'), 'deploy-1/web/0');
    for (const key of ['x'.repeat(65), 'naïve', 'with space', '日本']) {
      const t = clientTokenFor(key);
      assert.ok(t.length <= 64 && /^[\x21-\x7e]+$/.test(t), t);
      assert.equal(clientTokenFor(key), t);
    }
    assert.notEqual(clientTokenFor('x'.repeat(65)), clientTokenFor('x'.repeat(66)));
    assert.equal(keyTagValue('short'), 'short');
    assert.match(keyTagValue('y'.repeat(129)), /^sha256:[0-9a-f]{64}$/);
    assert.match(keyTagValue('see https://x'), /^sha256:/);
  });

  it('reads minute-precision ECS times and DescribeInstances entries', () => {
    assert.equal(isoTime('2017-12-10T04:04Z'), '2017-12-10T04:04:00.000Z');
    const inst = toInstance('cn-hangzhou', {
      instanceId: 'i-1', status: 'Running', instanceType: 'ecs.g7.large', creationTime: '2026-01-02T03:04Z',
      publicIpAddress: { ipAddress: ['47.1.2.3'] }, vpcAttributes: { privateIpAddress: { ipAddress: ['10.0.0.5'] } },
      tags: { tag: [{ tagKey: 'a', tagValue: 'b' }] },
    } as Parameters<typeof toInstance>[1]);
    assert.deepEqual({ ...inst, tags: { ...inst.tags } }, {
      cloud: 'alibaba', region: 'cn-hangzhou', id: 'i-1', state: 'running', size: 'ecs.g7.large',
      publicIp: '47.1.2.3', privateIp: '10.0.0.5', tags: { a: 'b' }, launchedAt: '2026-01-02T03:04:00.000Z',
    });
  });

  it('takes the emulator endpoint apart into host and protocol and defaults to the regional https endpoint', () => {
    assert.deepEqual(ecsEndpointFor({ endpoint: 'http://127.0.0.1:4568' }, 'cn-hangzhou'), { host: '127.0.0.1:4568', protocol: 'http' });
    assert.deepEqual(ecsEndpointFor(undefined, 'eu-central-1'), { host: 'ecs.eu-central-1.aliyuncs.com', protocol: 'https' });
    assert.deepEqual(ecsEndpointFor({ endpoint: 'ecs.example.internal' }, 'cn-hangzhou'), { host: 'ecs.example.internal', protocol: 'https' });
    assert.throws(() => ecsEndpointFor({ endpoint: 'ftp://x' }, 'cn-hangzhou'), (e: unknown) => e instanceof CloudError && e.kind === 'invalid');
  });
});
