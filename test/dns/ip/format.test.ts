import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { formatIpv6, formatIpv6Bytes, readV6Words, tryParseIp } from '../../../dns/ip';

/** 16 bytes with whole zero groups likely, so every compression case comes up. */
const addressBytes = fc.array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => Uint8Array.from(groups.flatMap((g) => [g >>> 8, g & 255])));

describe('IPv6 text', function () {
  this.timeout(60_000);

  it('compresses the first longest run of two or more zero groups, and only such a run (RFC 5952 4.2)', () => {
    const cases: [number[], string][] = [
      [[0, 0, 0, 0, 0, 0, 0, 0], '::'], [[0, 0, 0, 0, 0, 0, 0, 1], '::1'], [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
      [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], [[1, 0, 1, 0, 1, 0, 1, 0], '1:0:1:0:1:0:1:0'],
      [[0x2001, 0, 1, 0, 0, 0, 0, 0], '2001:0:1::'], [[0, 0, 0, 0, 0, 0xffff, 0xc100, 0x38], '::ffff:c100:38'],
      [[0, 0, 0, 0, 0, 0, 0x102, 0x304], '::102:304'],
    ];
    for (const [groups, want] of cases) {
      const bytes = Uint8Array.from(groups.flatMap((g) => [g >>> 8, g & 255]));
      assert.equal(formatIpv6Bytes(bytes), want, want);
      assert.equal(formatIpv6(readV6Words(bytes)), want, want);
    }
  });

  it('writes IPv4-mapped and IPv4-compatible addresses with a dotted tail when asked, as inet_ntop does', () => {
    const at = (groups: number[]): Uint8Array => Uint8Array.from([0xaa, ...groups.flatMap((g) => [g >>> 8, g & 255])]);
    const dotted = { dottedTail: true };
    assert.equal(formatIpv6Bytes(at([0, 0, 0, 0, 0, 0xffff, 0xc100, 0x38]), 1, dotted), '::ffff:193.0.0.56');
    assert.equal(formatIpv6Bytes(at([0, 0, 0, 0, 0, 0, 0x102, 0x304]), 1, dotted), '::1.2.3.4');
    assert.equal(formatIpv6Bytes(at([0, 0, 0, 0, 0, 0, 0, 1]), 1, dotted), '::1');
    assert.equal(formatIpv6Bytes(at([0, 0, 0, 0, 0, 0, 0, 0]), 1, dotted), '::');
    assert.equal(formatIpv6(readV6Words(at([0, 0, 0, 0, 0, 0xffff, 0xc100, 0x38]), 1), dotted), '::ffff:193.0.0.56');
    assert.throws(() => formatIpv6Bytes(new Uint8Array(16), 1), RangeError);
  });

  it('gives the text of the C library\'s inet_ntop, dotted tail included, for random addresses', () => {
    const samples = fc.sample(addressBytes, 3000);
    const hex = samples.map((b) => Buffer.from(b).toString('hex'));
    const script = 'import socket,sys\nfor h in sys.stdin.read().split():\n print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(h)))';
    const want = execFileSync('python3', ['-c', script], { input: hex.join('\n') }).toString().trim().split('\n');
    assert.equal(want.length, samples.length);
    samples.forEach((b, i) => assert.equal(formatIpv6Bytes(b, 0, { dottedTail: true }), want[i], hex[i]));
  });

  it('writes text that parses back to the same address, with or without the dotted tail', () => {
    fc.assert(fc.property(addressBytes, fc.boolean(), (bytes, dottedTail) => {
      const parsed = tryParseIp(formatIpv6Bytes(bytes, 0, { dottedTail }));
      assert.equal(parsed?.version, 6);
      if (parsed?.version === 6) assert.deepEqual(parsed.words, readV6Words(bytes));
    }), { numRuns: 2000 });
  });
});
