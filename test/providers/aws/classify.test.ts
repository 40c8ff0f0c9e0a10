import { strict as assert } from 'node:assert';
import { classifyAwsError } from '../../../providers/aws/classify';
import { CloudError } from '../../../providers/errors';
import type { CallContext } from '../../../providers/resilience';

const run: CallContext = { region: 'us-east-1', apiClass: 'write', operation: 'RunInstances' };
const describe_: CallContext = { region: 'us-east-1', apiClass: 'read', operation: 'DescribeInstances' };

/** An error shaped like the SDK's service exceptions: named after the EC2 code, with metadata. */
function serviceError(code: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error('text that must not matter'), {
    name: code, Code: code, $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'req-1' }, ...extra,
  });
}

describe('providers/aws classifyAwsError', () => {
  it('classifies EC2 codes by code, not by message or status alone', () => {
    const table: Array<[string, number, CloudError['kind'], boolean]> = [
      ['InsufficientInstanceCapacity', 500, 'capacity', false],
      ['InstanceLimitExceeded', 400, 'quota', false],
      ['VcpuLimitExceeded', 400, 'quota', false],
      ['RequestLimitExceeded', 503, 'throttled', true],
      ['AuthFailure', 401, 'auth', false],
      ['SignatureDoesNotMatch', 403, 'auth', false],
      ['UnauthorizedOperation', 403, 'auth', false],
      ['InvalidInstanceID.Malformed', 400, 'invalid', false],
      ['IdempotentParameterMismatch', 400, 'invalid', false],
      ['InvalidParameterValue', 400, 'invalid', false],
      ['Unavailable', 503, 'unavailable', true],
      ['InternalError', 500, 'unavailable', true],
      ['SomethingNew', 502, 'unavailable', true],
      ['SomethingElse', 400, 'invalid', false],
      ['TooMany', 429, 'throttled', true],
    ];
    for (const [code, status, kind, retryable] of table) {
      const e = classifyAwsError(serviceError(code, status), run);
      assert.equal(e.kind, kind, code);
      assert.equal(e.retryable, retryable, code);
      assert.equal(e.code, code);
      assert.equal(e.httpStatus, status);
      assert.equal(e.requestId, 'req-1');
      assert.equal(e.cloud, 'aws');
      assert.equal(e.region, 'us-east-1');
    }
  });

  it('gives not-found for a missing instance but invalid for a missing AMI on RunInstances', () => {
    assert.equal(classifyAwsError(serviceError('InvalidInstanceID.NotFound', 400), describe_).kind, 'not-found');
    assert.equal(classifyAwsError(serviceError('InvalidAMIID.NotFound', 400), run).kind, 'invalid');
  });

  it('reads Retry-After from the raw response of a throttled call', () => {
    const err = serviceError('RequestLimitExceeded', 503);
    Object.defineProperty(err, '$response', { value: { statusCode: 503, headers: { 'retry-after': '3' } }, enumerable: false });
    assert.equal(classifyAwsError(err, run).retryAfterMs, 3000);
  });

  it('names the credentials to check on auth failures', () => {
    const e = classifyAwsError(serviceError('AuthFailure', 401), run);
    assert.match(e.message, /AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
    const none = classifyAwsError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), run);
    assert.equal(none.kind, 'auth');
    assert.equal(none.code, 'NoCredentials');
    assert.match(none.message, /AWS_ACCESS_KEY_ID/);
  });

  it('treats refused, reset and timed-out connections as unavailable and keeps the cause', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      const cause = Object.assign(new Error('x'), { code, $metadata: { attempts: 1 } });
      const e = classifyAwsError(cause, run);
      assert.equal(e.kind, 'unavailable', code);
      assert.equal(e.code, code);
      assert.ok(e.retryable);
      assert.equal(e.cause, cause);
    }
    assert.equal(classifyAwsError(Object.assign(new Error('aborted'), { name: 'AbortError' }), run).kind, 'unavailable');
  });

  it('passes a CloudError through unchanged', () => {
    const original = new CloudError('x', { kind: 'capacity', cloud: 'aws' });
    assert.equal(classifyAwsError(original, run), original);
  });
});
