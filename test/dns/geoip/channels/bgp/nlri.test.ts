import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BgpDecodeError } from '../../../../../dns/geoip/channels/bgp/decode-error';
import {
  AFI_IPV4, AFI_IPV6, decodePrefix, decodePrefixes, encodeAddress, encodePrefixes, formatIpv6At, type Afi,
} from '../../../../../dns/geoip/channels/bgp/nlri';
import { nlriArb } from './arbitraries';

describe('BGP NLRI codec', function () {
  this.timeout(30_000);

  it('round-trips IPv4 and IPv6 prefixes, with and without ADD-PATH ids, at a non-zero offset', () => {
    for (const afi of [AFI_IPV4, AFI_IPV6] as Afi[]) {
      for (const addPath of [false, true]) {
        fc.assert(fc.property(nlriArb(afi, addPath), fc.nat({ max: 30 }), (prefixes, pad) => {
          const bytes = encodePrefixes(prefixes, afi, addPath);
          const buf = new Uint8Array(pad + bytes.length + 3).fill(0x55);
          buf.set(bytes, pad);
          assert.deepEqual(decodePrefixes(buf, pad, pad + bytes.length, afi, addPath), prefixes);
        }), { numRuns: 300 });
      }
    }
  });

  it('clears host bits past the prefix length so the text is canonical', () => {
    assert.equal(decodePrefix(Uint8Array.of(20, 10, 1, 0xff), 0, 4, AFI_IPV4).prefix, '10.1.240.0/20');
    assert.equal(decodePrefix(Uint8Array.of(33, 0x20, 1, 0x0d, 0xb8, 0x7f), 0, 6, AFI_IPV6).prefix, '2001:db8::/33');
    assert.equal(decodePrefix(Uint8Array.of(0), 0, 1, AFI_IPV4).prefix, '0.0.0.0/0');
  });

  it('rejects a prefix longer than its family and one past its field with a typed error', () => {
    assert.throws(() => decodePrefixes(Uint8Array.of(33, 1, 2, 3, 4, 5), 0, 6, AFI_IPV4, false), (e: BgpDecodeError) => e.code === 'BGP_ERR_BAD_PREFIX');
    assert.throws(() => decodePrefixes(Uint8Array.of(24, 1, 2, 3), 0, 3, AFI_IPV4, false), (e: BgpDecodeError) => e.code === 'BGP_ERR_TRUNCATED');
    assert.throws(() => decodePrefixes(Uint8Array.of(0, 0, 0), 0, 3, AFI_IPV4, true), (e: BgpDecodeError) => e.code === 'BGP_ERR_TRUNCATED');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<Afi>(1, 2), fc.boolean(), (bytes, afi, addPath) => {
      try {
        decodePrefixes(bytes, 0, bytes.length, afi, addPath);
      } catch (e) {
        if (!(e instanceof BgpDecodeError)) throw e;
      }
    }), { numRuns: 3000 });
  });

  it('writes IPv6 addresses as inet_ntop does, including IPv4-mapped and IPv4-compatible forms', () => {
    const cases: [string, string][] = [
      ['::', '::'], ['::1', '::1'], ['2001:db8::', '2001:db8::'], ['::ffff:193.0.0.56', '::ffff:193.0.0.56'],
      ['::1.2.3.4', '::1.2.3.4'], ['2001:200:0:fe00::6249:0', '2001:200:0:fe00::6249:0'], ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['fe80::1:2:3:4:5', 'fe80::1:2:3:4:5'],
    ];
    for (const [input, want] of cases) assert.equal(formatIpv6At(encodeAddress(input).bytes, 0), want, input);
  });
});
