import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatIpv4, formatIpv6, GeoIpError, mappedV4, parseIp, tryParseIp, v6WordsOf, widestPrefixWithin, widestPrefixWithinV6,
  type V6Words,
} from '../../../dns/geoip';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const words = fc.tuple(u32, u32, u32, u32);

function big(w: V6Words): bigint {
  return w.reduce((acc, x) => (acc << 32n) | BigInt(x), 0n);
}

describe('IP address helpers', function () {
  this.timeout(30_000);
  it('parses IPv4 text to an unsigned 32-bit number and formats it back', () => {
    assert.deepEqual(parseIp('0.0.0.0'), { version: 4, value: 0 });
    assert.deepEqual(parseIp('255.255.255.255'), { version: 4, value: 0xffffffff });
    assert.deepEqual(parseIp('81.2.69.160'), { version: 4, value: 0x510245a0 });
    fc.assert(fc.property(u32, (v) => {
      const parsed = parseIp(formatIpv4(v));
      return parsed.version === 4 && parsed.value === v;
    }));
  });

  it('parses every IPv6 text form, including :: and an embedded IPv4 tail', () => {
    assert.deepEqual(parseIp('::'), { version: 6, words: [0, 0, 0, 0] });
    assert.deepEqual(parseIp('::1'), { version: 6, words: [0, 0, 0, 1] });
    assert.deepEqual(parseIp('2001:db8::'), { version: 6, words: [0x20010db8, 0, 0, 0] });
    assert.deepEqual(parseIp('2001:DB8:0:0:1::1'), { version: 6, words: [0x20010db8, 0, 0x10000, 1] });
    assert.deepEqual(parseIp('::ffff:1.2.3.4'), { version: 6, words: [0, 0, 0xffff, 0x01020304] });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7:8'), { version: 6, words: [0x10002, 0x30004, 0x50006, 0x70008] });
  });

  it('formats IPv6 canonically (RFC 5952) and round-trips any address', () => {
    assert.equal(formatIpv6([0x20010db8, 0, 0, 1]), '2001:db8::1');
    // Two equal zero runs: the first one is compressed (RFC 5952 section 4.2.3).
    assert.equal(formatIpv6([0x20010db8, 0, 0x10000, 1]), '2001:db8::1:0:0:1');
    assert.equal(formatIpv6([0x20010000, 0x10000, 0, 0]), '2001:0:1::');
    assert.equal(formatIpv6([0, 0, 0, 0]), '::');
    assert.equal(formatIpv6([0x20010db8, 0x00010001, 0x00010001, 0x00010001]), '2001:db8:1:1:1:1:1:1');
    fc.assert(fc.property(words, (w) => {
      const parsed = parseIp(formatIpv6(w));
      return parsed.version === 6 && big(parsed.words) === big(w);
    }));
  });

  it('refuses malformed text, zone ids and non-strings', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '01.2.3.4', 'a.b.c.d', ':::', '1::2::3', '12345::', 'fe80::1%eth0']) {
      assert.equal(tryParseIp(bad), undefined, bad);
      assert.throws(() => parseIp(bad), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_ADDRESS', bad);
    }
    assert.equal(tryParseIp(42 as unknown as string), undefined);
  });

  it('recognises IPv4-mapped IPv6 only in ::ffff:0:0/96', () => {
    assert.equal(mappedV4([0, 0, 0xffff, 0x01020304]), 0x01020304);
    assert.equal(mappedV4([0, 0, 0, 0x01020304]), -1);
    assert.equal(mappedV4([0x20020102, 0x0304, 0xffff, 1]), -1);
  });

  it('reads IPv6 words from a buffer at an offset and refuses to read past its end', () => {
    const buf = Buffer.from('00ff20010db80000000000000000000000010000', 'hex');
    assert.deepEqual(v6WordsOf(buf, 2), [0x20010db8, 0, 0, 1]);
    assert.throws(() => v6WordsOf(buf, 5), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_ADDRESS');
  });

  it('finds the widest IPv4 prefix inside a range for known cases', () => {
    assert.equal(widestPrefixWithin(0x510245a0, 0x51024400, 0x510245ff), 23);
    assert.equal(widestPrefixWithin(0x510245a0, 0x510245a0, 0x510245a0), 32);
    assert.equal(widestPrefixWithin(5, 0, 0xffffffff), 0);
    assert.equal(widestPrefixWithin(0x0a000001, 0x0a000001, 0x0a0000ff), 32);
    assert.equal(widestPrefixWithin(0x0a000002, 0x0a000001, 0x0a0000ff), 31);
    assert.equal(widestPrefixWithin(0x0a000080, 0x0a000001, 0x0a0000ff), 25);
    assert.throws(() => widestPrefixWithin(1, 2, 3), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_RANGE');
  });

  it('returns an IPv4 prefix that fits the range while the next wider one does not', () => {
    fc.assert(fc.property(u32, u32, u32, (a, b, c) => {
      const [s, ip, e] = [a, b, c].sort((x, y) => x - y);
      const len = widestPrefixWithin(ip, s, e);
      const size = 2 ** (32 - len);
      const start = ip - (ip % size);
      if (start < s || start + size - 1 > e) return false;
      if (len === 0) return true;
      const wider = size * 2;
      const wstart = ip - (ip % wider);
      return wstart < s || wstart + wider - 1 > e;
    }), { numRuns: 2000 });
  });

  it('returns an IPv6 prefix that fits the range while the next wider one does not', () => {
    fc.assert(fc.property(words, words, words, fc.integer({ min: 0, max: 127 }), (a, b, c, shareBits) => {
      // Share a random number of leading bits so that ranges are narrow as often as wide.
      const top = big(a) >> BigInt(128 - shareBits);
      const vals = [a, b, c].map((w) => shareBits === 0 ? big(w) : (top << BigInt(128 - shareBits)) | (big(w) & ((1n << BigInt(128 - shareBits)) - 1n)))
        .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const toWords = (v: bigint): V6Words => [0, 1, 2, 3].map((i) => Number((v >> BigInt(96 - 32 * i)) & 0xffffffffn)) as unknown as V6Words;
      const [s, ip, e] = vals;
      const len = widestPrefixWithinV6(toWords(ip), toWords(s), toWords(e));
      const size = 1n << BigInt(128 - len);
      const start = ip - (ip % size);
      if (start < s || start + size - 1n > e) return false;
      if (len === 0) return true;
      const wider = size * 2n;
      const wstart = ip - (ip % wider);
      return wstart < s || wstart + wider - 1n > e;
    }), { numRuns: 1000 });
  });
});
