/** fast-check generators of canonical BGP values: prefixes, next hops, path attributes. */
import fc from 'fast-check';
import {
  AFI_IPV4, AFI_IPV6, ATTR, type Afi, type AsPathSegment, type PathAttributes, type SegmentType,
} from '../../../../../dns/geoip/channels/bgp/attributes';
import { formatIpv4At, formatIpv6At, type NlriPrefix } from '../../../../../dns/geoip/channels/bgp/nlri';

/** A canonical prefix of `afi` (host bits clear). */
export function prefixArb(afi: Afi): fc.Arbitrary<string> {
  const size = afi === AFI_IPV4 ? 4 : 16;
  return fc.tuple(fc.uint8Array({ minLength: size, maxLength: size }), fc.integer({ min: 0, max: size * 8 })).map(([bytes, bits]) => {
    const b = Uint8Array.from(bytes);
    for (let i = 0; i < size; i++) {
      const keep = Math.max(0, Math.min(8, bits - 8 * i));
      b[i] &= (0xff << (8 - keep)) & 0xff;
    }
    return `${afi === AFI_IPV4 ? formatIpv4At(b, 0) : formatIpv6At(b, 0)}/${bits}`;
  });
}

/** NLRI prefixes of `afi`, with path identifiers when `addPath`. */
export function nlriArb(afi: Afi, addPath: boolean): fc.Arbitrary<NlriPrefix[]> {
  const one = addPath
    ? fc.tuple(prefixArb(afi), fc.nat({ max: 0xffffffff })).map(([prefix, pathId]) => ({ prefix, pathId }))
    : prefixArb(afi).map((prefix) => ({ prefix }));
  return fc.array(one, { maxLength: 8 });
}

/** IPv4 address text. */
export const ipv4Arb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIpv4At(b, 0));
/** IPv6 address text. */
export const ipv6Arb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6At(b, 0));

const u32 = fc.nat({ max: 0xffffffff });

/** AS_PATH segments with AS numbers below 2^16 (`as4` false) or 2^32. */
export function asPathArb(as4: boolean): fc.Arbitrary<AsPathSegment[]> {
  const asn = as4 ? u32 : fc.nat({ max: 0xffff });
  return fc.array(fc.record({
    type: fc.constantFrom<SegmentType>(1, 2, 3, 4),
    asns: fc.array(asn, { maxLength: 12 }),
  }, { noNullPrototype: true }), { maxLength: 4 });
}

const KNOWN = new Set<number>(Object.values(ATTR));

/** Path attributes as `decodeAttributes` returns them for options `{ as4, addPath, mrtRib }`. */
export function attributesArb(as4: boolean, addPath: boolean, mrtRib: Afi | undefined): fc.Arbitrary<PathAttributes> {
  const asn = as4 ? u32 : fc.nat({ max: 0xffff });
  const aggregator = fc.record({ asn, address: ipv4Arb }, { noNullPrototype: true });
  const mpReach = fc.constantFrom<Afi>(AFI_IPV4, AFI_IPV6).chain((afi) => {
    const family = mrtRib ?? afi;
    const hops = family === AFI_IPV4 ? fc.oneof(fc.tuple(ipv4Arb), fc.tuple(ipv6Arb)) : fc.oneof(fc.tuple(ipv6Arb), fc.tuple(ipv6Arb, ipv6Arb));
    return fc.record({
      afi: fc.constant(family),
      safi: fc.constantFrom(1, 2),
      nextHops: hops.map((h) => [...h]),
      announce: mrtRib !== undefined ? fc.constant([]) : nlriArb(family, addPath),
    }, { noNullPrototype: true });
  });
  const mpUnreach = fc.constantFrom<Afi>(AFI_IPV4, AFI_IPV6).chain((afi) => fc.record({
    afi: fc.constant(afi), safi: fc.constantFrom(1, 2), withdraw: nlriArb(afi, addPath),
  }, { noNullPrototype: true }));
  const other = fc.uniqueArray(fc.record({
    flags: fc.constantFrom(0x80, 0xc0, 0xe0, 0x40),
    type: fc.integer({ min: 0, max: 255 }).filter((t) => !KNOWN.has(t)),
    value: fc.uint8Array({ maxLength: 300 }),
  }, { noNullPrototype: true }), { selector: (r) => r.type, minLength: 1, maxLength: 3 });
  return fc.record({
    origin: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
    asPath: asPathArb(as4),
    nextHop: ipv4Arb,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator,
    communities: fc.array(u32, { maxLength: 70 }),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { maxLength: 4 }),
    as4Path: asPathArb(true),
    as4Aggregator: fc.record({ asn: u32, address: ipv4Arb }, { noNullPrototype: true }),
    mpReach,
    mpUnreach,
    other,
  }, { requiredKeys: [], noNullPrototype: true });
}
