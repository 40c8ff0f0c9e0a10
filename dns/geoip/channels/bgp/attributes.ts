/**
 * BGP path attributes (RFC 4271 4.3 and 5), as a symmetric codec shared by the BGP speaker and the
 * MRT reader: ORIGIN, AS_PATH (2- and 4-byte AS, RFC 6793), NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF,
 * ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES (RFC 1997), LARGE_COMMUNITY (RFC 8092),
 * AS4_PATH/AS4_AGGREGATOR (RFC 6793), MP_REACH_NLRI/MP_UNREACH_NLRI (RFC 4760) for IPv4 and IPv6
 * unicast and multicast, including the abbreviated MP_REACH_NLRI of MRT RIB entries (RFC 6396
 * 4.3.4). Anything else is kept as raw bytes. Decoding is bounds-checked; a malformed attribute
 * throws `BgpDecodeError` carrying its type code and its RFC 7606 handling, except those RFC 7606
 * says to discard, which are dropped and listed in `discarded`.
 */
import { BgpDecodeError, type Rfc7606Action } from './decode-error';
import {
  AFI_IPV4, AFI_IPV6, SAFI_MULTICAST, SAFI_UNICAST, type Afi, type NlriPrefix,
  decodePrefixes, encodeAddress, encodePrefixes, formatIpv4At, formatIpv6At, isKnownAfi,
} from './nlri';

export { BgpDecodeError, isBgpDecodeError, type BgpDecodeErrorCode, type Rfc7606Action } from './decode-error';

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** Attribute flag bits (RFC 4271 4.3). */
export const ATTR_FLAG = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/** ORIGIN values (RFC 4271 5.1.1). */
export const ORIGIN = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
/** One of `ORIGIN`. */
export type Origin = 0 | 1 | 2;

/** AS_PATH segment types: RFC 4271 4.3 (SET, SEQUENCE) and RFC 5065 3 (confederation). */
export const SEGMENT = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;
/** One of `SEGMENT`. */
export type SegmentType = 1 | 2 | 3 | 4;

/** AS_TRANS, the 2-byte stand-in for a 4-byte AS number (RFC 6793 9). */
export const AS_TRANS = 23456;

/** One AS_PATH segment. */
export interface AsPathSegment {
  readonly type: SegmentType;
  /** AS numbers as unsigned 32-bit integers, in wire order. */
  readonly asns: readonly number[];
}

/** AGGREGATOR or AS4_AGGREGATOR. */
export interface Aggregator {
  readonly asn: number;
  /** IPv4 address text of the BGP speaker that aggregated. */
  readonly address: string;
}

/** One RFC 8092 large community. */
export type LargeCommunity = readonly [globalAdmin: number, localData1: number, localData2: number];

/** MP_REACH_NLRI of an IPv4 or IPv6 unicast/multicast family. */
export interface MpReach {
  readonly afi: Afi;
  readonly safi: number;
  /**
   * Next hop addresses as text: one, or two for IPv6 (global then link-local, RFC 2545 3); an IPv6
   * next hop may carry IPv4 NLRI (RFC 8950).
   */
  readonly nextHops: readonly string[];
  /** Announced prefixes; empty in the abbreviated MRT form. */
  readonly announce: readonly NlriPrefix[];
}

/** MP_UNREACH_NLRI of an IPv4 or IPv6 unicast/multicast family. */
export interface MpUnreach {
  readonly afi: Afi;
  readonly safi: number;
  readonly withdraw: readonly NlriPrefix[];
}

/** An attribute kept as it came: unknown types, and known types of families this codec does not read. */
export interface RawAttribute {
  /** Flag octet as received, extended-length bit excluded (the encoder sets it from the length). */
  readonly flags: number;
  readonly type: number;
  readonly value: Uint8Array;
}

/** The decoded path attributes of one UPDATE or RIB entry; absent attributes are undefined. */
export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  /** NEXT_HOP (IPv4 text). */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  /** RFC 1997 communities as unsigned 32-bit values (`asn << 16 | value`). */
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
  readonly as4Path?: readonly AsPathSegment[];
  readonly as4Aggregator?: Aggregator;
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  /** Other attributes, raw, in wire order. */
  readonly other?: readonly RawAttribute[];
  /** Attributes dropped while decoding as RFC 7606 prescribes (attribute-discard), with why. */
  readonly discarded?: readonly BgpDecodeError[];
}

/** How the bytes were (or are to be) written. */
export interface AttributeCodecOptions {
  /** AS numbers in AS_PATH and AGGREGATOR are 4 bytes (RFC 6793: both speakers are 4-byte capable; MRT *_AS4 and TABLE_DUMP_V2). */
  readonly as4: boolean;
  /** NLRI in MP_REACH/MP_UNREACH carry RFC 7911 path identifiers (for every family, or as the predicate says). */
  readonly addPath?: boolean | ((afi: Afi, safi: number) => boolean);
  /**
   * The attributes are a TABLE_DUMP_V2 RIB entry's for this family: MP_REACH_NLRI may be the
   * abbreviated form holding only the next hop (RFC 6396 4.3.4), and is written that way.
   */
  readonly mrtRib?: { readonly afi: Afi; readonly safi: number };
  /** Skip the optional/transitive flag checks (archives written by many implementations). */
  readonly lenientFlags?: boolean;
}

/** RFC 7606 7: the handling of a malformed attribute of each type. */
function actionFor(type: number): Rfc7606Action {
  switch (type) {
    case ATTR.MP_REACH_NLRI:
    case ATTR.MP_UNREACH_NLRI:
      return 'session-reset';                   // 7.11 (unless AFI/SAFI disable is supported)
    case ATTR.ATOMIC_AGGREGATE:                 // 7.6
    case ATTR.AGGREGATOR:                       // 7.7
    case ATTR.AS4_PATH:                         // RFC 6793 6
    case ATTR.AS4_AGGREGATOR:
      return 'attribute-discard';
    default:
      return 'treat-as-withdraw';               // 7.1-7.5, 7.8-7.10, 7.14; RFC 8092 6
  }
}

/** Marks a type without a required optional/transitive pair in `EXPECTED_FLAGS`. */
const ANY_FLAGS = 0xff;

/** The optional and transitive bits each attribute type must carry, indexed by type code. */
const EXPECTED_FLAGS = ((): Uint8Array => {
  const t = new Uint8Array(256).fill(ANY_FLAGS);
  for (const type of [ATTR.ORIGIN, ATTR.AS_PATH, ATTR.NEXT_HOP, ATTR.LOCAL_PREF, ATTR.ATOMIC_AGGREGATE]) t[type] = ATTR_FLAG.TRANSITIVE;
  for (const type of [ATTR.AGGREGATOR, ATTR.COMMUNITIES, ATTR.AS4_PATH, ATTR.AS4_AGGREGATOR, ATTR.LARGE_COMMUNITY]) {
    t[type] = ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE;
  }
  for (const type of [ATTR.MULTI_EXIT_DISC, ATTR.MP_REACH_NLRI, ATTR.MP_UNREACH_NLRI]) t[type] = ATTR_FLAG.OPTIONAL;
  return t;
})();

function u32(buf: Uint8Array, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}

function fail(code: ConstructorParameters<typeof BgpDecodeError>[0], offset: number, message: string, type: number): never {
  throw new BgpDecodeError(code, offset, message, type, actionFor(type));
}

function fixedLength(type: number, name: string, offset: number, length: number, want: number): void {
  if (length !== want) fail('BGP_ERR_ATTR_LENGTH', offset, `${name} must be ${want} bytes, not ${length}`, type);
}

/** Decodes AS_PATH or AS4_PATH segments in `[offset, end)` with 2- or 4-byte AS numbers. */
export function decodeAsPath(buf: Uint8Array, offset: number, end: number, asBytes: 2 | 4, type: number = ATTR.AS_PATH): AsPathSegment[] {
  const segments: AsPathSegment[] = [];
  let o = offset;
  while (o < end) {
    if (o + 2 > end) fail('BGP_ERR_BAD_AS_PATH', o, 'an AS_PATH segment header needs 2 bytes', type);
    const segType = buf[o];
    const count = buf[o + 1];
    if (segType < 1 || segType > 4) fail('BGP_ERR_BAD_AS_PATH', o, `AS_PATH segment type ${segType} is not SET, SEQUENCE or a confederation segment`, type);
    const bodyEnd = o + 2 + count * asBytes;
    if (bodyEnd > end) fail('BGP_ERR_BAD_AS_PATH', o, `an AS_PATH segment of ${count} ${asBytes}-byte AS numbers runs ${bodyEnd - end} bytes past its attribute`, type);
    const asns = new Array<number>(count);
    let p = o + 2;
    if (asBytes === 4) {
      for (let i = 0; i < count; i++, p += 4) asns[i] = u32(buf, p);
    } else {
      for (let i = 0; i < count; i++, p += 2) asns[i] = (buf[p] << 8) | buf[p + 1];
    }
    segments.push({ type: segType as SegmentType, asns });
    o = bodyEnd;
  }
  return segments;
}

function decodeAggregator(buf: Uint8Array, o: number, length: number, asBytes: 2 | 4, type: number, name: string): Aggregator {
  fixedLength(type, name, o, length, asBytes + 4);
  const asn = asBytes === 4 ? u32(buf, o) : (buf[o] << 8) | buf[o + 1];
  return { asn, address: formatIpv4At(buf, o + asBytes) };
}

function decodeNextHops(buf: Uint8Array, o: number, length: number, type: number): string[] {
  // RFC 4760 3: the next hop's length says its family; 32 is IPv6 global + link-local (RFC 2545 3).
  switch (length) {
    case 4: return [formatIpv4At(buf, o)];
    case 16: return [formatIpv6At(buf, o)];
    case 32: return [formatIpv6At(buf, o), formatIpv6At(buf, o + 16)];
    default: return fail('BGP_ERR_BAD_NEXT_HOP', o, `an MP_REACH_NLRI next hop of ${length} bytes is neither IPv4 nor IPv6`, type);
  }
}

function addPathFor(options: AttributeCodecOptions, afi: Afi, safi: number): boolean {
  const a = options.addPath;
  return typeof a === 'function' ? a(afi, safi) : a === true;
}

function isDecodedFamily(afi: number, safi: number): afi is Afi {
  return isKnownAfi(afi) && (safi === SAFI_UNICAST || safi === SAFI_MULTICAST);
}

interface Mutable {
  origin?: Origin; asPath?: AsPathSegment[]; nextHop?: string; med?: number; localPref?: number;
  atomicAggregate?: boolean; aggregator?: Aggregator; communities?: number[]; largeCommunities?: LargeCommunity[];
  as4Path?: AsPathSegment[]; as4Aggregator?: Aggregator; mpReach?: MpReach; mpUnreach?: MpUnreach;
  other?: RawAttribute[]; discarded?: BgpDecodeError[];
}

/**
 * Decodes the path attributes filling `[offset, end)` of `buf`. Throws `BgpDecodeError` for an
 * attribute whose header or length runs past `end` and for malformed attributes other than those
 * RFC 7606 says to discard; repeats of one type keep the first (RFC 7606 3.g), except
 * MP_REACH_NLRI/MP_UNREACH_NLRI, whose repeat is an error.
 */
export function decodeAttributes(buf: Uint8Array, offset: number, end: number, options: AttributeCodecOptions): PathAttributes {
  if (offset < 0 || end > buf.length || offset > end) {
    throw new BgpDecodeError('BGP_ERR_TRUNCATED', Math.min(end, buf.length), `the path attributes span [${offset}, ${end}) but the buffer has ${buf.length} bytes`, undefined, 'treat-as-withdraw');
  }
  const out: Mutable = {};
  // Types seen so far: a bit each below 64 (every type this codec reads), a set for the rest.
  let seenLow = 0;
  let seenHigh = 0;
  let seenOther: Set<number> | undefined;
  const asBytes = options.as4 ? 4 : 2;
  let o = offset;
  while (o < end) {
    if (o + 3 > end) throw new BgpDecodeError('BGP_ERR_TRUNCATED', o, `an attribute header needs at least 3 bytes, ${end - o} left`, undefined, 'treat-as-withdraw');
    const flags = buf[o];
    const type = buf[o + 1];
    let length: number;
    let v: number;
    if (flags & ATTR_FLAG.EXTENDED_LENGTH) {
      if (o + 4 > end) fail('BGP_ERR_TRUNCATED', o, `attribute ${type}'s extended length field runs past the attributes`, type);
      length = (buf[o + 2] << 8) | buf[o + 3];
      v = o + 4;
    } else {
      length = buf[o + 2];
      v = o + 3;
    }
    if (v + length > end) fail('BGP_ERR_TRUNCATED', o, `attribute ${type} of ${length} bytes runs ${v + length - end} bytes past the attributes`, type);
    const next = v + length;
    o = next;
    let repeated: boolean;
    if (type < 32) {
      repeated = (seenLow & (1 << type)) !== 0;
      seenLow |= 1 << type;
    } else if (type < 64) {
      repeated = (seenHigh & (1 << (type - 32))) !== 0;
      seenHigh |= 1 << (type - 32);
    } else {
      seenOther ??= new Set<number>();
      repeated = seenOther.has(type);
      seenOther.add(type);
    }
    if (repeated) {
      if (type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI) fail('BGP_ERR_ATTR_DUPLICATE', v - 3, `attribute ${type} appears twice`, type);
      continue;
    }
    try {
      decodeOne(buf, flags, type, v, length, asBytes, options, out);
    } catch (e) {
      if (e instanceof BgpDecodeError && e.action === 'attribute-discard') {
        (out.discarded ??= []).push(e);
        continue;
      }
      throw e;
    }
  }
  return out;
}

function decodeOne(buf: Uint8Array, flags: number, type: number, v: number, length: number, asBytes: 2 | 4,
  options: AttributeCodecOptions, out: Mutable): void {
  const want = EXPECTED_FLAGS[type];
  if (want !== ANY_FLAGS && !options.lenientFlags && (flags & (ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE)) !== want) {
    fail('BGP_ERR_ATTR_FLAGS', v, `attribute ${type} has flags 0x${flags.toString(16)}, its type needs optional=${want & ATTR_FLAG.OPTIONAL ? 1 : 0} transitive=${want & ATTR_FLAG.TRANSITIVE ? 1 : 0}`, type);
  }
  const end = v + length;
  switch (type) {
    case ATTR.ORIGIN: {
      fixedLength(type, 'ORIGIN', v, length, 1);
      const origin = buf[v];
      if (origin > 2) fail('BGP_ERR_BAD_ORIGIN', v, `ORIGIN ${origin} is not IGP (0), EGP (1) or INCOMPLETE (2)`, type);
      out.origin = origin as Origin;
      return;
    }
    case ATTR.AS_PATH:
      out.asPath = decodeAsPath(buf, v, end, asBytes, type);
      return;
    case ATTR.NEXT_HOP:
      fixedLength(type, 'NEXT_HOP', v, length, 4);
      out.nextHop = formatIpv4At(buf, v);
      return;
    case ATTR.MULTI_EXIT_DISC:
      fixedLength(type, 'MULTI_EXIT_DISC', v, length, 4);
      out.med = u32(buf, v);
      return;
    case ATTR.LOCAL_PREF:
      fixedLength(type, 'LOCAL_PREF', v, length, 4);
      out.localPref = u32(buf, v);
      return;
    case ATTR.ATOMIC_AGGREGATE:
      fixedLength(type, 'ATOMIC_AGGREGATE', v, length, 0);
      out.atomicAggregate = true;
      return;
    case ATTR.AGGREGATOR:
      out.aggregator = decodeAggregator(buf, v, length, asBytes, type, 'AGGREGATOR');
      return;
    case ATTR.COMMUNITIES: {
      if (length % 4 !== 0) fail('BGP_ERR_ATTR_LENGTH', v, `COMMUNITIES of ${length} bytes is not a multiple of 4`, type);
      const c = new Array<number>(length / 4);
      for (let i = 0; i < c.length; i++) c[i] = u32(buf, v + 4 * i);
      out.communities = c;
      return;
    }
    case ATTR.LARGE_COMMUNITY: {
      if (length % 12 !== 0) fail('BGP_ERR_ATTR_LENGTH', v, `LARGE_COMMUNITY of ${length} bytes is not a multiple of 12`, type);
      const c = new Array<LargeCommunity>(length / 12);
      for (let i = 0; i < c.length; i++) c[i] = [u32(buf, v + 12 * i), u32(buf, v + 12 * i + 4), u32(buf, v + 12 * i + 8)];
      out.largeCommunities = c;
      return;
    }
    case ATTR.AS4_PATH:
      out.as4Path = decodeAsPath(buf, v, end, 4, type);
      return;
    case ATTR.AS4_AGGREGATOR:
      out.as4Aggregator = decodeAggregator(buf, v, length, 4, type, 'AS4_AGGREGATOR');
      return;
    case ATTR.MP_REACH_NLRI: {
      const rib = options.mrtRib;
      // RFC 6396 4.3.4: in a RIB entry only the next hop length and next hop are kept; some
      // writers still emit the full form, which the first byte tells apart.
      if (rib !== undefined && length >= 1 && buf[v] + 1 === length) {
        out.mpReach = { afi: rib.afi, safi: rib.safi, nextHops: decodeNextHops(buf, v + 1, buf[v], type), announce: [] };
        return;
      }
      if (length < 5) fail('BGP_ERR_ATTR_LENGTH', v, `MP_REACH_NLRI of ${length} bytes is shorter than its fixed fields`, type);
      const afi = (buf[v] << 8) | buf[v + 1];
      const safi = buf[v + 2];
      if (!isDecodedFamily(afi, safi)) { (out.other ??= []).push(raw(buf, flags, type, v, length)); return; }
      const nhLen = buf[v + 3];
      const afterNh = v + 4 + nhLen;
      if (afterNh + 1 > end) fail('BGP_ERR_ATTR_LENGTH', v, `MP_REACH_NLRI next hop of ${nhLen} bytes runs past the attribute`, type);
      const nextHops = decodeNextHops(buf, v + 4, nhLen, type);
      // RFC 4760 3: one reserved octet (formerly the SNPA count) precedes the NLRI.
      const announce = decodeMpPrefixes(buf, afterNh + 1, end, afi, addPathFor(options, afi, safi), type);
      out.mpReach = { afi, safi, nextHops, announce };
      return;
    }
    case ATTR.MP_UNREACH_NLRI: {
      if (length < 3) fail('BGP_ERR_ATTR_LENGTH', v, `MP_UNREACH_NLRI of ${length} bytes is shorter than its fixed fields`, type);
      const afi = (buf[v] << 8) | buf[v + 1];
      const safi = buf[v + 2];
      if (!isDecodedFamily(afi, safi)) { (out.other ??= []).push(raw(buf, flags, type, v, length)); return; }
      out.mpUnreach = { afi, safi, withdraw: decodeMpPrefixes(buf, v + 3, end, afi, addPathFor(options, afi, safi), type) };
      return;
    }
    default:
      (out.other ??= []).push(raw(buf, flags, type, v, length));
  }
}

function decodeMpPrefixes(buf: Uint8Array, o: number, end: number, afi: Afi, addPath: boolean, type: number): NlriPrefix[] {
  try {
    return decodePrefixes(buf, o, end, afi, addPath);
  } catch (e) {
    if (e instanceof BgpDecodeError) throw new BgpDecodeError(e.code, e.offset, `in attribute ${type}: ${e.message}`, type, actionFor(type));
    throw e;
  }
}

function raw(buf: Uint8Array, flags: number, type: number, v: number, length: number): RawAttribute {
  return { flags: flags & ~ATTR_FLAG.EXTENDED_LENGTH & 0xff, type, value: buf.slice(v, v + length) };
}

// ---------------------------------------------------------------------------------------------
// Encoding

function be32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function ipv4Bytes(text: string, what: string): Uint8Array {
  const { afi, bytes } = encodeAddress(text);
  if (afi !== AFI_IPV4) throw new RangeError(`${what} "${text}" must be an IPv4 address`);
  return bytes;
}

/** Encodes AS_PATH segments with 2- or 4-byte AS numbers; in 2 bytes, AS numbers above 65535 become AS_TRANS (RFC 6793 4.2.2). */
export function encodeAsPath(segments: readonly AsPathSegment[], asBytes: 2 | 4): Uint8Array {
  const out: number[] = [];
  for (const s of segments) {
    if (s.asns.length > 255) throw new RangeError(`an AS_PATH segment holds at most 255 AS numbers, this one ${s.asns.length}`);
    out.push(s.type, s.asns.length);
    for (const a of s.asns) {
      if (asBytes === 4) out.push(...be32(a));
      else { const x = a > 0xffff ? AS_TRANS : a; out.push(x >>> 8, x & 255); }
    }
  }
  return Uint8Array.from(out);
}

function encodeAggregator(a: Aggregator, asBytes: 2 | 4): Uint8Array {
  const asn = asBytes === 2 && a.asn > 0xffff ? AS_TRANS : a.asn;
  const head = asBytes === 4 ? be32(asn) : [asn >>> 8, asn & 255];
  return Uint8Array.from([...head, ...ipv4Bytes(a.address, 'the aggregator address')]);
}

function encodeNextHops(hops: readonly string[]): Uint8Array {
  const parts = hops.map((h) => encodeAddress(h).bytes);
  const len = parts.reduce((n, p) => n + p.length, 0);
  if (![4, 16, 32].includes(len)) throw new RangeError(`next hops ${hops.join(', ')} take ${len} bytes; one IPv4, one IPv6 or two IPv6 addresses are allowed`);
  const buf = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { buf.set(p, o); o += p.length; }
  return buf;
}

/** Attribute bodies in type order, each with its flags; the header is added by `encodeAttributes`. */
function bodies(a: PathAttributes, options: AttributeCodecOptions): { flags: number; type: number; value: Uint8Array }[] {
  const asBytes = options.as4 ? 4 : 2;
  const list: { flags: number; type: number; value: Uint8Array }[] = [];
  const add = (type: number, value: Uint8Array, flags = EXPECTED_FLAGS[type] === ANY_FLAGS ? ATTR_FLAG.OPTIONAL : EXPECTED_FLAGS[type]): void => { list.push({ flags, type, value }); };
  if (a.origin !== undefined) add(ATTR.ORIGIN, Uint8Array.of(a.origin));
  if (a.asPath !== undefined) add(ATTR.AS_PATH, encodeAsPath(a.asPath, asBytes));
  if (a.nextHop !== undefined) add(ATTR.NEXT_HOP, ipv4Bytes(a.nextHop, 'NEXT_HOP'));
  if (a.med !== undefined) add(ATTR.MULTI_EXIT_DISC, Uint8Array.from(be32(a.med)));
  if (a.localPref !== undefined) add(ATTR.LOCAL_PREF, Uint8Array.from(be32(a.localPref)));
  if (a.atomicAggregate === true) add(ATTR.ATOMIC_AGGREGATE, new Uint8Array(0));
  if (a.aggregator !== undefined) add(ATTR.AGGREGATOR, encodeAggregator(a.aggregator, asBytes));
  if (a.communities !== undefined) add(ATTR.COMMUNITIES, Uint8Array.from(a.communities.flatMap(be32)));
  if (a.mpReach !== undefined) {
    const r = a.mpReach;
    const nh = encodeNextHops(r.nextHops);
    if (options.mrtRib !== undefined) {
      if (r.announce.length > 0) throw new RangeError('the abbreviated MRT MP_REACH_NLRI holds no prefixes; the RIB entry names its prefix');
      add(ATTR.MP_REACH_NLRI, Uint8Array.from([nh.length, ...nh]));
    } else {
      const nlri = encodePrefixes(r.announce, r.afi, addPathFor(options, r.afi, r.safi));
      add(ATTR.MP_REACH_NLRI, Uint8Array.from([r.afi >>> 8, r.afi & 255, r.safi, nh.length, ...nh, 0, ...nlri]));
    }
  }
  if (a.mpUnreach !== undefined) {
    const u = a.mpUnreach;
    const nlri = encodePrefixes(u.withdraw, u.afi, addPathFor(options, u.afi, u.safi));
    add(ATTR.MP_UNREACH_NLRI, Uint8Array.from([u.afi >>> 8, u.afi & 255, u.safi, ...nlri]));
  }
  if (a.as4Path !== undefined) add(ATTR.AS4_PATH, encodeAsPath(a.as4Path, 4));
  if (a.as4Aggregator !== undefined) add(ATTR.AS4_AGGREGATOR, encodeAggregator(a.as4Aggregator, 4));
  if (a.largeCommunities !== undefined) add(ATTR.LARGE_COMMUNITY, Uint8Array.from(a.largeCommunities.flatMap((c) => [...be32(c[0]), ...be32(c[1]), ...be32(c[2])])));
  for (const r of a.other ?? []) add(r.type, r.value, r.flags & ~ATTR_FLAG.EXTENDED_LENGTH & 0xff);
  return list;
}

/**
 * Encodes path attributes (the inverse of `decodeAttributes`): known attributes in type order with
 * their RFC flags, then `other` as given; the extended-length bit is set exactly when a value
 * exceeds 255 bytes. `discarded` is not encoded.
 */
export function encodeAttributes(attrs: PathAttributes, options: AttributeCodecOptions): Uint8Array {
  const list = bodies(attrs, options);
  let n = 0;
  for (const b of list) {
    if (b.value.length > 0xffff) throw new RangeError(`attribute ${b.type} of ${b.value.length} bytes exceeds 65535`);
    n += (b.value.length > 255 ? 4 : 3) + b.value.length;
  }
  const buf = new Uint8Array(n);
  let o = 0;
  for (const b of list) {
    const ext = b.value.length > 255;
    buf[o] = ext ? b.flags | ATTR_FLAG.EXTENDED_LENGTH : b.flags;
    buf[o + 1] = b.type;
    if (ext) { buf[o + 2] = b.value.length >>> 8; buf[o + 3] = b.value.length & 255; o += 4; }
    else { buf[o + 2] = b.value.length; o += 3; }
    buf.set(b.value, o);
    o += b.value.length;
  }
  return buf;
}

/** Bytes `encodeAttributes(attrs, options)` produces. */
export function attributesEncodingLength(attrs: PathAttributes, options: AttributeCodecOptions): number {
  return encodeAttributes(attrs, options).length;
}

// ---------------------------------------------------------------------------------------------
// AS path helpers

function pathLength(segments: readonly AsPathSegment[]): number {
  // RFC 4271 9.1.2.2 a / RFC 6793 4.2.3: a SET counts 1; confederation segments count 0.
  let n = 0;
  for (const s of segments) {
    if (s.type === SEGMENT.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === SEGMENT.AS_SET) n += 1;
  }
  return n;
}

/**
 * The AS path a 4-byte speaker reconstructs from AS_PATH and AS4_PATH (RFC 6793 4.2.3): when
 * AS4_PATH is present and not longer than AS_PATH, the leading AS_PATH entries it does not cover
 * followed by AS4_PATH; otherwise AS_PATH. Use it only on paths decoded with 2-byte AS numbers.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[] | undefined): readonly AsPathSegment[] {
  if (as4Path === undefined) return asPath;
  // RFC 6793 4.2.3: confederation segments in AS4_PATH are ignored.
  const as4 = as4Path.filter((s) => s.type === SEGMENT.AS_SEQUENCE || s.type === SEGMENT.AS_SET);
  const len = pathLength(asPath);
  const len4 = pathLength(as4);
  if (len < len4) return asPath;
  let keep = len - len4;
  const head: AsPathSegment[] = [];
  for (const s of asPath) {
    if (keep <= 0) {
      if (s.type === SEGMENT.AS_CONFED_SEQUENCE || s.type === SEGMENT.AS_CONFED_SET) continue;
      break;
    }
    if (s.type === SEGMENT.AS_SEQUENCE) {
      const take = Math.min(keep, s.asns.length);
      head.push({ type: s.type, asns: s.asns.slice(0, take) });
      keep -= take;
    } else if (s.type === SEGMENT.AS_SET) {
      head.push(s);
      keep -= 1;
    } else {
      head.push(s);
    }
  }
  return [...head, ...as4];
}

/** The attributes' effective AS path: AS_PATH merged with AS4_PATH when the path was 2-byte. */
export function effectiveAsPath(attrs: PathAttributes, options: Pick<AttributeCodecOptions, 'as4'>): readonly AsPathSegment[] {
  const path = attrs.asPath ?? [];
  return options.as4 ? path : mergeAs4Path(path, attrs.as4Path);
}

/** The AGGREGATOR a 4-byte speaker keeps (RFC 6793 4.2.3): AS4_AGGREGATOR when AGGREGATOR names AS_TRANS. */
export function effectiveAggregator(attrs: PathAttributes, options: Pick<AttributeCodecOptions, 'as4'>): Aggregator | undefined {
  if (options.as4 || attrs.aggregator === undefined) return attrs.aggregator;
  return attrs.aggregator.asn === AS_TRANS && attrs.as4Aggregator !== undefined ? attrs.as4Aggregator : attrs.aggregator;
}

/** AS numbers of a path nearest first, SET members flattened in order, confederation segments dropped. */
export function flattenAsPath(segments: readonly AsPathSegment[]): number[] {
  const out: number[] = [];
  for (const s of segments) if (s.type === SEGMENT.AS_SEQUENCE || s.type === SEGMENT.AS_SET) out.push(...s.asns);
  return out;
}

/** The origin AS: the last AS of a path ending in a SEQUENCE; 0 when the path is empty or ends in a SET. */
export function originAsOf(segments: readonly AsPathSegment[]): number {
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i];
    if (s.type === SEGMENT.AS_CONFED_SEQUENCE || s.type === SEGMENT.AS_CONFED_SET) continue;
    if (s.type === SEGMENT.AS_SET || s.asns.length === 0) return 0;
    return s.asns[s.asns.length - 1];
  }
  return 0;
}

/** IPv4 and IPv6 families re-exported for callers that read attributes only. */
export { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, SAFI_MULTICAST, type Afi, type NlriPrefix };
