import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AFI_IPV4, AFI_IPV6, AS_TRANS, ATTR, BgpDecodeError, decodeAttributes, effectiveAggregator, effectiveAsPath,
  encodeAttributes, flattenAsPath, mergeAs4Path, originAsOf, type Afi, type AttributeCodecOptions, type PathAttributes,
} from '../../../../../dns/geoip/channels/bgp/attributes';
import { attributesArb } from './arbitraries';

function at(bytes: Uint8Array, pad: number): Uint8Array {
  const buf = new Uint8Array(pad + bytes.length + 5).fill(0xee);
  buf.set(bytes, pad);
  return buf;
}

function decodeErr(fn: () => unknown): BgpDecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BgpDecodeError, `expected a BgpDecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('decoding succeeded');
}

const AS4: AttributeCodecOptions = { as4: true };

describe('BGP path attribute codec', function () {
  this.timeout(60_000);

  it('decodes a hand-written UPDATE attribute block field by field', () => {
    const bytes = Uint8Array.from([
      0x40, 1, 1, 0,                                   // ORIGIN IGP
      0x40, 2, 14, 2, 3, 0, 0, 0x0d, 0x1c, 0, 0, 0x0b, 0x62, 0, 0, 0x7, 0xd0, // AS_SEQUENCE 3356 2914 2000 (4-byte)
      0x40, 3, 4, 192, 0, 2, 1,                        // NEXT_HOP
      0x80, 4, 4, 0, 0, 0, 10,                         // MED 10
      0x40, 5, 4, 0, 0, 0, 100,                        // LOCAL_PREF 100
      0x40, 6, 0,                                      // ATOMIC_AGGREGATE
      0xc0, 7, 8, 0, 0, 0x0d, 0x1c, 10, 0, 0, 1,       // AGGREGATOR 3356 10.0.0.1
      0xc0, 8, 8, 0x0d, 0x1c, 0, 1, 0xff, 0xff, 0xff, 0x01, // COMMUNITIES 3356:1 65535:65281
      0xc0, 32, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, // LARGE_COMMUNITY 1:2:3
      0xc0, 99, 2, 0xab, 0xcd,                          // unknown, kept raw
    ]);
    const a = decodeAttributes(at(bytes, 7), 7, 7 + bytes.length, AS4);
    assert.deepEqual(a, {
      origin: 0,
      asPath: [{ type: 2, asns: [3356, 2914, 2000] }],
      nextHop: '192.0.2.1', med: 10, localPref: 100, atomicAggregate: true,
      aggregator: { asn: 3356, address: '10.0.0.1' },
      communities: [(3356 << 16) | 1, 0xffffff01],
      largeCommunities: [[1, 2, 3]],
      other: [{ flags: 0xc0, type: 99, value: Uint8Array.of(0xab, 0xcd) }],
    });
  });

  it('decodes IPv6 MP_REACH_NLRI with a global and link-local next hop, and MP_UNREACH_NLRI with ADD-PATH ids', () => {
    const reach = [0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0xfe, 0x80, ...new Array<number>(13).fill(0), 1, 0,
      0, 0, 0, 7, 32, 0x20, 0x01, 0x0d, 0xb8];
    const unreach = [0, 1, 1, 0, 0, 0, 9, 24, 198, 51, 100];
    const bytes = Uint8Array.from([0x80, 14, reach.length, ...reach, 0x80, 15, unreach.length, ...unreach]);
    const a = decodeAttributes(bytes, 0, bytes.length, { as4: true, addPath: true });
    assert.deepEqual(a.mpReach, { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], announce: [{ prefix: '2001:db8::/32', pathId: 7 }] });
    assert.deepEqual(a.mpUnreach, { afi: 1, safi: 1, withdraw: [{ prefix: '198.51.100.0/24', pathId: 9 }] });
  });

  it('reads the abbreviated MP_REACH_NLRI of an MRT RIB entry and still accepts the full form there', () => {
    const abbreviated = Uint8Array.from([0x80, 14, 17, 16, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2]);
    const rib = { as4: true, mrtRib: { afi: AFI_IPV6 as Afi, safi: 1 } };
    assert.deepEqual(decodeAttributes(abbreviated, 0, abbreviated.length, rib).mpReach, { afi: 2, safi: 1, nextHops: ['2001:db8::2'], announce: [] });
    const full = encodeAttributes({ mpReach: { afi: AFI_IPV6, safi: 1, nextHops: ['2001:db8::3'], announce: [] } }, AS4);
    assert.deepEqual(decodeAttributes(full, 0, full.length, rib).mpReach, { afi: 2, safi: 1, nextHops: ['2001:db8::3'], announce: [] });
    assert.deepEqual(encodeAttributes({ mpReach: { afi: AFI_IPV6, safi: 1, nextHops: ['2001:db8::2'], announce: [] } }, rib), abbreviated);
  });

  it('round-trips any attributes through encode and decode at a non-zero offset, in every option combination', () => {
    for (const as4 of [true, false]) {
      for (const addPath of [false, true]) {
        for (const mrtRib of [undefined, AFI_IPV4, AFI_IPV6] as const) {
          const options: AttributeCodecOptions = { as4, addPath, mrtRib: mrtRib === undefined ? undefined : { afi: mrtRib, safi: 1 } };
          fc.assert(fc.property(attributesArb(as4, addPath, mrtRib), fc.nat({ max: 40 }), (attrs, pad) => {
            const fixed: PathAttributes = mrtRib !== undefined && attrs.mpReach !== undefined ? { ...attrs, mpReach: { ...attrs.mpReach, safi: 1 } } : attrs;
            const bytes = encodeAttributes(fixed, options);
            assert.deepEqual(decodeAttributes(at(bytes, pad), pad, pad + bytes.length, options), fixed);
          }), { numRuns: 150 });
        }
      }
    }
  });

  it('throws nothing but BgpDecodeError on random bytes, and never reads past the range it is given', () => {
    const options = fc.record({ as4: fc.boolean(), addPath: fc.boolean(), lenientFlags: fc.boolean(),
      mrtRib: fc.option(fc.record({ afi: fc.constantFrom<Afi>(1, 2), safi: fc.constant(1) }), { nil: undefined }) });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), options, (bytes, opts) => {
      // The bytes after the range are a valid-looking attribute header that would overrun if read.
      const buf = Uint8Array.from([...bytes, 0x40, 2, 255]);
      try {
        decodeAttributes(buf, 0, bytes.length, opts);
      } catch (e) {
        if (!(e instanceof BgpDecodeError)) throw e;
        assert.ok(e.offset <= bytes.length);
      }
    }), { numRuns: 3000 });
    // Random bytes behind plausible headers reach the per-type decoders far more often.
    const typed = fc.tuple(fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 17, 18, 32), fc.uint8Array({ maxLength: 60 }));
    fc.assert(fc.property(fc.array(typed, { maxLength: 5 }), options, (list, opts) => {
      const bytes = Uint8Array.from(list.flatMap(([t, v]) => [t === 14 || t === 15 || t === 4 ? 0x80 : t >= 7 ? 0xc0 : 0x40, t, v.length, ...v]));
      try {
        decodeAttributes(bytes, 0, bytes.length, opts);
      } catch (e) {
        if (!(e instanceof BgpDecodeError)) throw e;
      }
    }), { numRuns: 5000 });
  });

  it('names the attribute type and the RFC 7606 handling in its errors', () => {
    const badOrigin = Uint8Array.of(0x40, 1, 1, 7);
    let e = decodeErr(() => decodeAttributes(badOrigin, 0, 4, AS4));
    assert.equal(e.code, 'BGP_ERR_BAD_ORIGIN');
    assert.equal(e.attributeType, ATTR.ORIGIN);
    assert.equal(e.action, 'treat-as-withdraw');

    const overrun = Uint8Array.of(0x40, 2, 10, 2, 1, 0, 0);
    e = decodeErr(() => decodeAttributes(overrun, 0, overrun.length, AS4));
    assert.equal(e.code, 'BGP_ERR_TRUNCATED');
    assert.equal(e.attributeType, ATTR.AS_PATH);

    const badSegment = Uint8Array.of(0x40, 2, 6, 9, 1, 0, 0, 0, 1);
    e = decodeErr(() => decodeAttributes(badSegment, 0, badSegment.length, AS4));
    assert.equal(e.code, 'BGP_ERR_BAD_AS_PATH');

    const flags = Uint8Array.of(0xc0, 1, 1, 0);
    e = decodeErr(() => decodeAttributes(flags, 0, flags.length, AS4));
    assert.equal(e.code, 'BGP_ERR_ATTR_FLAGS');
    assert.equal(decodeAttributes(flags, 0, flags.length, { as4: true, lenientFlags: true }).origin, 0);

    const unreach = [0x80, 15, 3, 0, 1, 1];
    const twice = Uint8Array.from([...unreach, ...unreach]);
    e = decodeErr(() => decodeAttributes(twice, 0, twice.length, AS4));
    assert.equal(e.code, 'BGP_ERR_ATTR_DUPLICATE');
    assert.equal(e.action, 'session-reset');

    const badNlri = Uint8Array.of(0x80, 15, 5, 0, 1, 1, 33, 1);
    e = decodeErr(() => decodeAttributes(badNlri, 0, badNlri.length, AS4));
    assert.equal(e.code, 'BGP_ERR_BAD_PREFIX');
    assert.equal(e.attributeType, ATTR.MP_UNREACH_NLRI);
    assert.equal(e.action, 'session-reset');

    const badMed = Uint8Array.of(0x80, 4, 3, 0, 0, 1);
    assert.equal(decodeErr(() => decodeAttributes(badMed, 0, badMed.length, AS4)).code, 'BGP_ERR_ATTR_LENGTH');
  });

  it('drops a malformed AGGREGATOR or AS4_PATH and keeps the rest, as RFC 7606 7.7 and RFC 6793 6 say', () => {
    const bytes = Uint8Array.of(0x40, 1, 1, 2, 0xc0, 7, 3, 1, 2, 3, 0xc0, 17, 3, 2, 1, 0);
    const a = decodeAttributes(bytes, 0, bytes.length, AS4);
    assert.equal(a.origin, 2);
    assert.equal(a.aggregator, undefined);
    assert.equal(a.as4Path, undefined);
    assert.deepEqual(a.discarded?.map((d) => [d.attributeType, d.action]), [[7, 'attribute-discard'], [17, 'attribute-discard']]);
  });

  it('keeps the first of a repeated attribute (RFC 7606 3.g)', () => {
    const bytes = Uint8Array.of(0x40, 1, 1, 1, 0x40, 1, 1, 2);
    assert.equal(decodeAttributes(bytes, 0, bytes.length, AS4).origin, 1);
  });

  it('writes AS numbers above 65535 as AS_TRANS on a 2-byte path and merges AS4_PATH back (RFC 6793 4.2.3)', () => {
    const attrs: PathAttributes = {
      asPath: [{ type: 2, asns: [65001, 196608, 200000] }, { type: 1, asns: [7, 8] }],
      as4Path: [{ type: 2, asns: [196608, 200000] }, { type: 1, asns: [7, 8] }],
      aggregator: { asn: 4200000000, address: '10.0.0.1' },
      as4Aggregator: { asn: 4200000000, address: '10.0.0.1' },
    };
    const two = { as4: false };
    const bytes = encodeAttributes(attrs, two);
    const back = decodeAttributes(bytes, 0, bytes.length, two);
    assert.deepEqual(back.asPath, [{ type: 2, asns: [65001, AS_TRANS, AS_TRANS] }, { type: 1, asns: [7, 8] }]);
    assert.deepEqual(effectiveAsPath(back, two), [{ type: 2, asns: [65001] }, { type: 2, asns: [196608, 200000] }, { type: 1, asns: [7, 8] }]);
    assert.deepEqual(flattenAsPath(effectiveAsPath(back, two)), [65001, 196608, 200000, 7, 8]);
    assert.deepEqual(effectiveAggregator(back, two), { asn: 4200000000, address: '10.0.0.1' });
    // An AS4_PATH longer than AS_PATH is ignored (RFC 6793 4.2.3).
    assert.deepEqual(mergeAs4Path([{ type: 2, asns: [1] }], [{ type: 2, asns: [2, 3] }]), [{ type: 2, asns: [1] }]);
  });

  it('finds the origin AS at the end of the path, and none after an AS_SET', () => {
    assert.equal(originAsOf([{ type: 2, asns: [1, 2, 3] }]), 3);
    assert.equal(originAsOf([{ type: 2, asns: [1] }, { type: 1, asns: [5, 6] }]), 0);
    assert.equal(originAsOf([{ type: 3, asns: [64512] }, { type: 2, asns: [9] }, { type: 3, asns: [64513] }]), 9);
    assert.equal(originAsOf([]), 0);
  });
});
