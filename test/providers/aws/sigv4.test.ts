import { strict as assert } from 'node:assert';
import { verifySigV4 } from '../../../providers/emulator/aws';

// The "get-vanilla" case of AWS's published SigV4 test suite.
const VANILLA = {
  method: 'GET', path: '/', query: new URLSearchParams(), body: Buffer.alloc(0),
  headers: {
    host: 'example.amazonaws.com',
    'x-amz-date': '20150830T123600Z',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, ' +
      'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
};
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);
const secretFor = (id: string) => (id === 'AKIDEXAMPLE' ? SECRET : undefined);

describe('providers/emulator/aws verifySigV4', () => {
  it("accepts AWS's get-vanilla test vector and reads region and service from the scope", () => {
    const r = verifySigV4(VANILLA, secretFor, AT);
    assert.ok(r.ok);
    assert.deepEqual(r.scope, { accessKeyId: 'AKIDEXAMPLE', date: '20150830', region: 'us-east-1', service: 'service' });
  });

  it('rejects a changed header, a wrong secret, an unknown key and a stale date', () => {
    const changed = verifySigV4({ ...VANILLA, headers: { ...VANILLA.headers, host: 'other.amazonaws.com' } }, secretFor, AT);
    assert.equal(changed.ok ? 'ok' : changed.reason, 'mismatch');
    const wrong = verifySigV4(VANILLA, () => 'other-secret', AT);
    assert.equal(wrong.ok ? 'ok' : wrong.reason, 'mismatch');
    const unknown = verifySigV4(VANILLA, () => undefined, AT);
    assert.equal(unknown.ok ? 'ok' : unknown.reason, 'unknown-key');
    const stale = verifySigV4(VANILLA, secretFor, AT + 16 * 60 * 1000);
    assert.equal(stale.ok ? 'ok' : stale.reason, 'expired');
  });

  it('rejects missing and malformed Authorization headers', () => {
    const { authorization: _drop, ...rest } = VANILLA.headers;
    const missing = verifySigV4({ ...VANILLA, headers: rest }, secretFor, AT);
    assert.equal(missing.ok ? 'ok' : missing.reason, 'missing');
    const malformed = verifySigV4({ ...VANILLA, headers: { ...VANILLA.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' } }, secretFor, AT);
    assert.equal(malformed.ok ? 'ok' : malformed.reason, 'malformed');
  });
});
