/**
 * UPDATE contents (RFC 4271 section 4.3, RFC 4760, RFC 6793, RFC 7911): the prefixes an UPDATE
 * announces and withdraws, with the route's origin AS and AS path, decoded with the session's
 * negotiated options. Only the attributes the routing overlay needs are interpreted (ORIGIN,
 * AS_PATH, NEXT_HOP, MP_REACH_NLRI, MP_UNREACH_NLRI, AS4_PATH); the others are checked for framing
 * and skipped. Errors follow RFC 7606: attribute errors that leave the NLRI locatable are handled
 * as treat-as-withdraw (`treatAsWithdraw` names why); NLRI and MP attribute errors, and duplicate
 * MP attributes, throw `BgpDecodeError` (session reset). `encodeUpdate` is the inverse, for tests
 * and tools: this speaker never announces routes.
 */
import { formatIpv6, parseIp } from '../../ip';
import { Afi, concat, SAFI_UNICAST, type Family, type UpdateMessage } from './codec';
import { BgpDecodeError, ErrorCode, UpdateSubcode } from './errors';

/** What a session negotiated that changes how UPDATEs read. */
export interface UpdateContext {
  /** Both sides sent the 4-octet AS capability: AS_PATH carries 4-byte ASes (RFC 6793 section 4.1). */
  readonly as4: boolean;
  /** The peer sends path identifiers for IPv4 unicast NLRI (RFC 7911 section 3). */
  readonly addPathV4: boolean;
  /** The peer sends path identifiers for IPv6 unicast NLRI. */
  readonly addPathV6: boolean;
}

/** One NLRI: canonical CIDR text and the ADD-PATH path identifier (0 without ADD-PATH). */
export interface Nlri {
  readonly prefix: string;
  readonly pathId: number;
}

/** A decoded UPDATE. */
export interface DecodedUpdate {
  /** Announced NLRI (IPv4 field and MP_REACH_NLRI); empty when `treatAsWithdraw` moved them to `withdraw`. */
  readonly announce: readonly Nlri[];
  readonly withdraw: readonly Nlri[];
  /** The routes' origin: last AS of the path; 0 for an empty path or one ending in an AS_SET. */
  readonly originAs: number;
  /** AS path, nearest first, AS_SET members flattened, confederation segments left out (RFC 5065). */
  readonly asPath: readonly number[];
  /** Set when this UPDATE is an End-of-RIB marker (RFC 4724 section 2) for that family. */
  readonly endOfRib: Family | undefined;
  /** Set when an attribute error made the announced routes withdrawn (RFC 7606 section 2), in words. */
  readonly treatAsWithdraw: string | undefined;
}

/** Path attribute type codes (IANA). */
export const AttrType = {
  Origin: 1, AsPath: 2, NextHop: 3, MultiExitDisc: 4, LocalPref: 5, AtomicAggregate: 6, Aggregator: 7,
  Communities: 8, MpReachNlri: 14, MpUnreachNlri: 15, As4Path: 17, As4Aggregator: 18,
} as const;

const FLAG_OPTIONAL = 0x80;
const FLAG_TRANSITIVE = 0x40;
const FLAG_EXTENDED = 0x10;
const SEG_SET = 1;
const SEG_SEQUENCE = 2;

/** Attributes this speaker knows, so that an unknown non-optional one is an error (RFC 4271 section 6.3). */
const KNOWN_WELL_KNOWN = new Set<number>([1, 2, 3, 5, 6]);

function updateError(subcode: number, why: string, data?: Uint8Array): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UpdateMessage, subcode, why, data);
}

/**
 * Reads NLRI (RFC 4271 section 4.3, RFC 7911 section 3) of one family into `out`. Throws
 * Invalid Network Field: a bad NLRI cannot be withdrawn, so RFC 7606 section 5.3 resets the session.
 */
export function decodeNlri(b: Uint8Array, afi: number, addPath: boolean, out: Nlri[]): void {
  const maxLen = afi === Afi.Ipv4 ? 32 : 128;
  let o = 0;
  while (o < b.length) {
    let pathId = 0;
    if (addPath) {
      if (o + 4 > b.length) throw updateError(UpdateSubcode.InvalidNetworkField, 'NLRI path identifier truncated');
      pathId = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      o += 4;
    }
    if (o >= b.length) throw updateError(UpdateSubcode.InvalidNetworkField, 'NLRI prefix length missing');
    const len = b[o++];
    if (len > maxLen) throw updateError(UpdateSubcode.InvalidNetworkField, `NLRI prefix length ${len} exceeds ${maxLen}`);
    const n = (len + 7) >> 3;
    if (o + n > b.length) throw updateError(UpdateSubcode.InvalidNetworkField, `NLRI /${len} needs ${n} bytes, ${b.length - o} left`);
    out.push({ prefix: prefixText(b, o, n, len, afi), pathId });
    o += n;
  }
}

// Canonical text with the host bits cleared: RFC 4271 section 4.3 allows trailing bits to be anything.
function prefixText(b: Uint8Array, o: number, n: number, len: number, afi: number): string {
  const rem = len & 7;
  const mask = rem ? (0xff << (8 - rem)) & 0xff : 0xff;
  if (afi === Afi.Ipv4) {
    const x = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) x[i] = b[o + i];
    if (n) x[n - 1] &= mask;
    return `${x[0]}.${x[1]}.${x[2]}.${x[3]}/${len}`;
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < n; i++) bytes[i] = b[o + i];
  if (n) bytes[n - 1] &= mask;
  const w = (i: number): number => ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
  return `${formatIpv6([w(0), w(4), w(8), w(12)])}/${len}`;
}

interface PathSegments { readonly segments: { readonly type: number; readonly asns: number[] }[] }

function decodeAsPath(v: Uint8Array, asBytes: 2 | 4): PathSegments | string {
  const segments: { type: number; asns: number[] }[] = [];
  let o = 0;
  while (o < v.length) {
    if (o + 2 > v.length) return 'AS_PATH segment header truncated';
    const type = v[o];
    const count = v[o + 1];
    o += 2;
    if (type < 1 || type > 4) return `AS_PATH segment type ${type} is unknown`;
    if (count === 0) return 'AS_PATH segment is empty';
    if (o + count * asBytes > v.length) return `AS_PATH segment of ${count} ASes overruns the attribute`;
    const asns: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      asns[i] = asBytes === 4
        ? ((v[o] << 24) | (v[o + 1] << 16) | (v[o + 2] << 8) | v[o + 3]) >>> 0
        : (v[o] << 8) | v[o + 1];
      o += asBytes;
    }
    segments.push({ type, asns });
  }
  return { segments };
}

// RFC 6793 section 4.2.3: the path length counts each AS of a sequence and each set as one.
function pathLength(p: PathSegments): number {
  let n = 0;
  for (const s of p.segments) if (s.type === SEG_SEQUENCE) n += s.asns.length; else if (s.type === SEG_SET) n += 1;
  return n;
}

// RFC 6793 section 4.2.3: keep the leading ASes of AS_PATH that AS4_PATH does not cover.
function mergeAs4(asPath: PathSegments, as4: PathSegments): PathSegments {
  const have = pathLength(asPath);
  const have4 = pathLength(as4);
  if (have < have4) return asPath;
  let keep = have - have4;
  const segments: { type: number; asns: number[] }[] = [];
  for (const s of asPath.segments) {
    if (keep <= 0) break;
    if (s.type === SEG_SEQUENCE) {
      const take = Math.min(keep, s.asns.length);
      segments.push({ type: s.type, asns: s.asns.slice(0, take) });
      keep -= take;
    } else if (s.type === SEG_SET) {
      segments.push(s);
      keep -= 1;
    } else segments.push(s);
  }
  return { segments: [...segments, ...as4.segments] };
}

function flatten(p: PathSegments): { asPath: number[]; originAs: number } {
  const asPath: number[] = [];
  let last: { type: number; asns: number[] } | undefined;
  for (const s of p.segments) {
    if (s.type !== SEG_SEQUENCE && s.type !== SEG_SET) continue;
    for (const a of s.asns) asPath.push(a);
    last = s;
  }
  const originAs = last && last.type === SEG_SEQUENCE ? last.asns[last.asns.length - 1] : 0;
  return { asPath, originAs };
}

/** Decodes an UPDATE's prefixes and path (see the module comment for the error handling). */
export function decodeUpdate(m: UpdateMessage, ctx: UpdateContext): DecodedUpdate {
  const withdraw: Nlri[] = [];
  decodeNlri(m.withdrawnRoutes, Afi.Ipv4, ctx.addPathV4, withdraw);
  const announce: Nlri[] = [];
  decodeNlri(m.nlri, Afi.Ipv4, ctx.addPathV4, announce);

  const a = m.pathAttributes;
  if (a.length === 0 && withdraw.length === 0 && announce.length === 0) {
    return { announce, withdraw, originAs: 0, asPath: [], endOfRib: { afi: Afi.Ipv4, safi: SAFI_UNICAST }, treatAsWithdraw: undefined };
  }
  let problem: string | undefined;
  const seen = new Set<number>();
  let origin: number | undefined;
  let asPathAttr: PathSegments | undefined;
  let as4PathAttr: PathSegments | undefined;
  let nextHop = false;
  let mpUnreachFamily: Family | undefined;
  let mpUnreachEmpty = false;
  let o = 0;
  while (o < a.length) {
    if (o + 3 > a.length) { problem ??= 'attribute header truncated'; break; }
    const flags = a[o];
    const type = a[o + 1];
    const ext = (flags & FLAG_EXTENDED) !== 0;
    if (ext && o + 4 > a.length) { problem ??= 'attribute header truncated'; break; }
    const len = ext ? (a[o + 2] << 8) | a[o + 3] : a[o + 2];
    const start = o + (ext ? 4 : 3);
    // RFC 7606 section 4: an attribute overrunning the attribute field leaves the NLRI field
    // locatable, so the routes are withdrawn rather than the session reset.
    if (start + len > a.length) { problem ??= `attribute ${type} length ${len} overruns the path attributes`; break; }
    const v = a.subarray(start, start + len);
    const whole = a.subarray(o, start + len);
    o = start + len;
    if (seen.has(type)) {
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        throw updateError(UpdateSubcode.MalformedAttributeList, `attribute ${type} appears twice`);
      }
      continue; // RFC 7606 section 3g: later duplicates are discarded.
    }
    seen.add(type);
    const optional = (flags & FLAG_OPTIONAL) !== 0;
    const wellKnownFlagsOk = !optional && (flags & FLAG_TRANSITIVE) !== 0;
    switch (type) {
      case AttrType.Origin:
        if (!wellKnownFlagsOk) problem ??= 'ORIGIN has wrong attribute flags';
        else if (len !== 1 || v[0] > 2) problem ??= 'ORIGIN is malformed';
        else origin = v[0];
        break;
      case AttrType.AsPath: {
        if (!wellKnownFlagsOk) { problem ??= 'AS_PATH has wrong attribute flags'; break; }
        const p = decodeAsPath(v, ctx.as4 ? 4 : 2);
        if (typeof p === 'string') problem ??= p; else asPathAttr = p;
        break;
      }
      case AttrType.NextHop:
        if (!wellKnownFlagsOk) problem ??= 'NEXT_HOP has wrong attribute flags';
        else if (len !== 4) problem ??= `NEXT_HOP length ${len} is not 4`;
        else nextHop = true;
        break;
      case AttrType.MpReachNlri: {
        // RFC 7606 section 7.3: a malformed MP_REACH_NLRI resets the session.
        if (len < 5) throw updateError(UpdateSubcode.OptionalAttributeError, 'MP_REACH_NLRI is too short', whole);
        const afi = (v[0] << 8) | v[1];
        const safi = v[2];
        const nhLen = v[3];
        if (5 + nhLen > len) throw updateError(UpdateSubcode.OptionalAttributeError, `MP_REACH_NLRI next hop length ${nhLen} overruns it`, whole);
        if (safi === SAFI_UNICAST && (afi === Afi.Ipv4 || afi === Afi.Ipv6)) {
          decodeNlri(v.subarray(5 + nhLen), afi, afi === Afi.Ipv4 ? ctx.addPathV4 : ctx.addPathV6, announce);
        }
        break;
      }
      case AttrType.MpUnreachNlri: {
        if (len < 3) throw updateError(UpdateSubcode.OptionalAttributeError, 'MP_UNREACH_NLRI is too short', whole);
        const afi = (v[0] << 8) | v[1];
        const safi = v[2];
        mpUnreachFamily = { afi, safi };
        mpUnreachEmpty = len === 3;
        if (safi === SAFI_UNICAST && (afi === Afi.Ipv4 || afi === Afi.Ipv6)) {
          decodeNlri(v.subarray(3), afi, afi === Afi.Ipv4 ? ctx.addPathV4 : ctx.addPathV6, withdraw);
        }
        break;
      }
      case AttrType.As4Path: {
        // RFC 6793 section 6: a malformed AS4_PATH is discarded; a 4-byte session ignores it.
        if (ctx.as4) break;
        const p = decodeAsPath(v, 4);
        if (typeof p !== 'string' && !p.segments.some((s) => s.type > SEG_SEQUENCE)) as4PathAttr = p;
        break;
      }
      default:
        if (!optional && !KNOWN_WELL_KNOWN.has(type)) {
          throw updateError(UpdateSubcode.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${type}`, whole);
        }
    }
  }
  // RFC 4724 section 2: an UPDATE carrying only an empty MP_UNREACH_NLRI is that family's End-of-RIB.
  if (mpUnreachFamily && mpUnreachEmpty && seen.size === 1 && withdraw.length === 0 && announce.length === 0) {
    return { announce, withdraw, originAs: 0, asPath: [], endOfRib: mpUnreachFamily, treatAsWithdraw: undefined };
  }
  if (announce.length > 0 && problem === undefined) {
    // RFC 7606 section 3d: a missing well-known mandatory attribute is treat-as-withdraw.
    if (origin === undefined) problem = 'ORIGIN is missing';
    else if (asPathAttr === undefined) problem = 'AS_PATH is missing';
    else if (m.nlri.length > 0 && !nextHop) problem = 'NEXT_HOP is missing';
  }
  if (problem !== undefined) {
    return { announce: [], withdraw: [...withdraw, ...announce], originAs: 0, asPath: [], endOfRib: undefined, treatAsWithdraw: problem };
  }
  const segs = asPathAttr ? (as4PathAttr ? mergeAs4(asPathAttr, as4PathAttr) : asPathAttr) : { segments: [] };
  const { asPath, originAs } = flatten(segs);
  return { announce, withdraw, originAs, asPath, endOfRib: undefined, treatAsWithdraw: undefined };
}

/** Routes to put in an UPDATE with `encodeUpdate`. */
export interface UpdateSpec {
  readonly announce?: readonly Nlri[];
  readonly withdraw?: readonly Nlri[];
  /** AS_PATH as one AS_SEQUENCE. */
  readonly asPath?: readonly number[];
  /** IPv4 next hop for IPv4 NLRI; defaults to 192.0.2.1. */
  readonly nextHop?: string;
}

function attr(flags: number, type: number, v: Uint8Array): Uint8Array {
  if (v.length > 255) {
    return concat([Uint8Array.of(flags | FLAG_EXTENDED, type, v.length >> 8, v.length & 0xff), v]);
  }
  return concat([Uint8Array.of(flags, type, v.length), v]);
}

/** Encodes NLRI of one family (RFC 4271 section 4.3 / RFC 7911 section 3). */
export function encodeNlri(list: readonly Nlri[], addPath: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const n of list) {
    const slash = n.prefix.lastIndexOf('/');
    const len = Number(n.prefix.slice(slash + 1));
    const ip = parseIp(n.prefix.slice(0, slash));
    const bytes = new Uint8Array(ip.version === 4 ? 4 : 16);
    if (ip.version === 4) new DataView(bytes.buffer).setUint32(0, ip.value);
    else ip.words.forEach((w, i) => new DataView(bytes.buffer).setUint32(4 * i, w));
    const nb = (len + 7) >> 3;
    const head = addPath
      ? Uint8Array.of(n.pathId >>> 24, (n.pathId >>> 16) & 0xff, (n.pathId >>> 8) & 0xff, n.pathId & 0xff, len)
      : Uint8Array.of(len);
    parts.push(head, bytes.subarray(0, nb));
  }
  return concat(parts);
}

const isV6 = (n: Nlri): boolean => n.prefix.includes(':');

/**
 * An UPDATE announcing and withdrawing `spec`'s routes: IPv4 in the classic fields, IPv6 in
 * MP_REACH_NLRI / MP_UNREACH_NLRI (next hop 2001:db8::1), with 4-byte or 2-byte ASes per `ctx`.
 */
export function encodeUpdate(spec: UpdateSpec, ctx: UpdateContext): UpdateMessage {
  const ann = spec.announce ?? [];
  const wd = spec.withdraw ?? [];
  const v4a = ann.filter((n) => !isV6(n));
  const v6a = ann.filter(isV6);
  const v4w = wd.filter((n) => !isV6(n));
  const v6w = wd.filter(isV6);
  const attrs: Uint8Array[] = [];
  if (v6w.length) {
    attrs.push(attr(FLAG_OPTIONAL, AttrType.MpUnreachNlri, concat([Uint8Array.of(0, 2, 1), encodeNlri(v6w, ctx.addPathV6)])));
  }
  if (ann.length) {
    const path = spec.asPath ?? [];
    const asBytes = ctx.as4 ? 4 : 2;
    const segs: Uint8Array[] = [];
    for (let i = 0; i < path.length; i += 255) {
      const chunk = path.slice(i, i + 255);
      const seg = new Uint8Array(2 + asBytes * chunk.length);
      seg[0] = SEG_SEQUENCE;
      seg[1] = chunk.length;
      const dv = new DataView(seg.buffer);
      chunk.forEach((asn, j) => (asBytes === 4 ? dv.setUint32(2 + 4 * j, asn) : dv.setUint16(2 + 2 * j, asn > 0xffff ? 23456 : asn)));
      segs.push(seg);
    }
    attrs.push(attr(FLAG_TRANSITIVE, AttrType.Origin, Uint8Array.of(0)));
    attrs.push(attr(FLAG_TRANSITIVE, AttrType.AsPath, concat(segs)));
    if (v4a.length) {
      const nh = parseIp(spec.nextHop ?? '192.0.2.1');
      const v = new Uint8Array(4);
      if (nh.version === 4) new DataView(v.buffer).setUint32(0, nh.value);
      attrs.push(attr(FLAG_TRANSITIVE, AttrType.NextHop, v));
    }
    if (v6a.length) {
      const nh = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
      attrs.push(attr(FLAG_OPTIONAL, AttrType.MpReachNlri, concat([Uint8Array.of(0, 2, 1, 16), nh, Uint8Array.of(0), encodeNlri(v6a, ctx.addPathV6)])));
    }
  }
  return {
    type: 2,
    withdrawnRoutes: encodeNlri(v4w, ctx.addPathV4),
    pathAttributes: concat(attrs),
    nlri: encodeNlri(v4a, ctx.addPathV4),
  };
}

/** The End-of-RIB marker of a family (RFC 4724 section 2). */
export function endOfRib(afi: number): UpdateMessage {
  const empty = new Uint8Array(0);
  if (afi === Afi.Ipv4) return { type: 2, withdrawnRoutes: empty, pathAttributes: empty, nlri: empty };
  return { type: 2, withdrawnRoutes: empty, pathAttributes: Uint8Array.of(FLAG_OPTIONAL, AttrType.MpUnreachNlri, 3, afi >> 8, afi & 0xff, SAFI_UNICAST), nlri: empty };
}
