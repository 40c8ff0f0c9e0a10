import { strict as assert } from 'node:assert';
import { CloudError } from '../../../providers';
import { classifyAzureError } from '../../../providers/azure/classify';

const ctx = { region: 'eastus', apiClass: 'write' as const, operation: 'virtualMachines.createOrUpdate' };

/** An error shaped like the SDKs' RestError: status, ARM code, response headers. */
function restError(statusCode: number | undefined, code: string | undefined, message = 'failed', headers: Record<string, string> = {}): Error {
  const e = new Error(message) as Error & Record<string, unknown>;
  e.name = 'RestError';
  e.statusCode = statusCode;
  e.code = code;
  e.response = { headers: { get: (n: string) => headers[n.toLowerCase()] } };
  return e;
}

describe('providers/azure classifyAzureError', () => {
  const cases: Array<[string, Error, CloudError['kind']]> = [
    ['429 TooManyRequests', restError(429, 'TooManyRequests'), 'throttled'],
    ['429 with the compute code OperationNotAllowed', restError(429, 'OperationNotAllowed', 'too many requests'), 'throttled'],
    ['SkuNotAvailable', restError(409, 'SkuNotAvailable'), 'capacity'],
    ['AllocationFailed', restError(200, 'AllocationFailed'), 'capacity'],
    ['OperationNotAllowed about cores quota', restError(409, 'OperationNotAllowed', 'exceeding approved Total Regional Cores quota'), 'quota'],
    ['OperationNotAllowed for another reason', restError(409, 'OperationNotAllowed', 'the VM is marked for deletion'), 'invalid'],
    ['InvalidAuthenticationToken', restError(401, 'InvalidAuthenticationToken'), 'auth'],
    ['AuthorizationFailed', restError(403, 'AuthorizationFailed'), 'auth'],
    ['ResourceNotFound', restError(404, 'ResourceNotFound'), 'not-found'],
    ['ResourceGroupNotFound', restError(404, 'ResourceGroupNotFound'), 'invalid'],
    ['InvalidParameter', restError(400, 'InvalidParameter'), 'invalid'],
    ['InternalServerError', restError(500, 'InternalServerError'), 'unavailable'],
    ['ServiceUnavailable', restError(503, 'ServiceUnavailable'), 'unavailable'],
    ['AnotherOperationInProgress', restError(409, 'AnotherOperationInProgress'), 'unavailable'],
    ['a reset connection', restError(undefined, 'ECONNRESET', 'socket hang up'), 'unavailable'],
    ['a plain network error', new Error('connect ECONNREFUSED 127.0.0.1:1'), 'unavailable'],
  ];
  for (const [what, err, kind] of cases) {
    it(`classifies ${what} as ${kind}`, () => {
      const e = classifyAzureError(err, ctx);
      assert.equal(e.kind, kind, e.message);
      assert.equal(e.cloud, 'azure');
      assert.equal(e.region, 'eastus');
      assert.equal(e.cause, err);
    });
  }

  it('keeps the ARM code, HTTP status, request id and Retry-After of a throttled answer', () => {
    const e = classifyAzureError(restError(429, 'TooManyRequests', 'slow down', { 'retry-after': '3', 'x-ms-request-id': 'req-1' }), ctx);
    assert.equal(e.code, 'TooManyRequests');
    assert.equal(e.httpStatus, 429);
    assert.equal(e.requestId, 'req-1');
    assert.equal(e.retryAfterMs, 3000);
    assert.equal(e.retryable, true);
  });

  it('reads the code of a failed long-running operation from the poller message', () => {
    const err = new Error('The long-running operation has failed. ZonalAllocationFailed. Allocation failed. We do not have sufficient capacity.');
    const e = classifyAzureError(err, ctx);
    assert.equal(e.kind, 'capacity');
    assert.equal(e.code, 'ZonalAllocationFailed');
    assert.equal(e.retryable, false);
  });

  it('says which credential to check for an identity failure', () => {
    const err = new Error('EnvironmentCredential is unavailable');
    err.name = 'CredentialUnavailableError';
    const e = classifyAzureError(err, ctx);
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /AZURE_TENANT_ID/);
    assert.match(e.message, /azure\.token/);
  });

  it('passes a CloudError through unchanged', () => {
    const original = new CloudError('already classified', { kind: 'quota', cloud: 'azure' });
    assert.equal(classifyAzureError(original, ctx), original);
  });
});
