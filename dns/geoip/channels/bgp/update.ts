/**
 * UPDATE contents (RFC 4271 section 4.3, RFC 4760, RFC 6793, RFC 7911): the prefixes an UPDATE
 * announces and withdraws with the route's origin AS and AS path, read with the session's
 * negotiated options through the shared attribute and NLRI codec (`attributes.ts`, `nlri.ts`).
 * Errors follow RFC 7606: an attribute error that leaves the NLRI locatable withdraws the UPDATE's
 * routes (`treatAsWithdraw` names why); NLRI errors, MP attribute errors and repeated MP
 * attributes throw `BgpMessageError` with the UPDATE Message Error subcode to send (session reset).
 * `encodeUpdate` is the inverse, for tests and tools: this speaker never announces routes.
 */
import {
  AFI_IPV4, AFI_IPV6, ATTR, decodeAttributes, effectiveAsPath, encodeAttributes, flattenAsPath, originAsOf,
  SAFI_UNICAST, type Afi, type PathAttributes,
} from './attributes';
import { BgpDecodeError, type BgpDecodeErrorCode } from './decode-error';
import { decodePrefixes, encodePrefixes, type NlriPrefix } from './nlri';
import type { Family, UpdateMessage } from './codec';
import { BgpMessageError, ErrorCode, UpdateSubcode } from './errors';

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

// RFC 4271 section 6.3 subcodes for the shared codec's error codes.
const SUBCODE: Record<BgpDecodeErrorCode, number> = {
  BGP_ERR_TRUNCATED: UpdateSubcode.MalformedAttributeList,
  BGP_ERR_ATTR_FLAGS: UpdateSubcode.AttributeFlagsError,
  BGP_ERR_ATTR_LENGTH: UpdateSubcode.AttributeLengthError,
  BGP_ERR_ATTR_DUPLICATE: UpdateSubcode.MalformedAttributeList,
  BGP_ERR_BAD_ORIGIN: UpdateSubcode.InvalidOriginAttribute,
  BGP_ERR_BAD_AS_PATH: UpdateSubcode.MalformedAsPath,
  BGP_ERR_BAD_NEXT_HOP: UpdateSubcode.InvalidNextHopAttribute,
  BGP_ERR_BAD_PREFIX: UpdateSubcode.InvalidNetworkField,
  BGP_ERR_BAD_AFI: UpdateSubcode.OptionalAttributeError,
};

const WELL_KNOWN_TYPES = new Set<number>([ATTR.ORIGIN, ATTR.AS_PATH, ATTR.NEXT_HOP, ATTR.LOCAL_PREF, ATTR.ATOMIC_AGGREGATE]);

function resetError(e: BgpDecodeError, where: string): BgpMessageError {
  // NLRI fields and MP attributes: a prefix error is an Invalid Network Field or an Optional Attribute Error.
  const sub = e.attributeType === undefined ? UpdateSubcode.InvalidNetworkField
    : e.code === 'BGP_ERR_BAD_PREFIX' || e.code === 'BGP_ERR_TRUNCATED' ? (e.attributeType === ATTR.MP_REACH_NLRI || e.attributeType === ATTR.MP_UNREACH_NLRI ? UpdateSubcode.OptionalAttributeError : SUBCODE[e.code])
      : SUBCODE[e.code];
  return new BgpMessageError(ErrorCode.UpdateMessage, sub, `${where}: ${e.message}`);
}

function toNlri(list: readonly NlriPrefix[], out: Nlri[]): void {
  for (const p of list) out.push({ prefix: p.prefix, pathId: p.pathId ?? 0 });
}

function prefixes(b: Uint8Array, afi: Afi, addPath: boolean, what: string): NlriPrefix[] {
  try {
    return decodePrefixes(b, 0, b.length, afi, addPath);
  } catch (e) {
    // RFC 7606 section 5.3: NLRI that cannot be parsed leave nothing to withdraw: reset.
    if (e instanceof BgpDecodeError) throw resetError(e, what);
    throw e;
  }
}

// After a treat-as-withdraw error, find MP_REACH_NLRI / MP_UNREACH_NLRI on their own so their
// prefixes can be withdrawn too (RFC 7606 section 5.3); if they cannot be read, reset.
function mpPrefixes(a: Uint8Array, ctx: UpdateContext): { announce: NlriPrefix[]; withdraw: NlriPrefix[] } {
  const out = { announce: [] as NlriPrefix[], withdraw: [] as NlriPrefix[] };
  let o = 0;
  while (o + 3 <= a.length) {
    const ext = (a[o] & 0x10) !== 0;
    if (ext && o + 4 > a.length) break;
    const len = ext ? (a[o + 2] << 8) | a[o + 3] : a[o + 2];
    const start = o + (ext ? 4 : 3);
    if (start + len > a.length) break;
    const type = a[o + 1];
    if (type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI) {
      try {
        const one = decodeAttributes(a, o, start + len, options(ctx));
        out.announce.push(...(one.mpReach?.announce ?? []));
        out.withdraw.push(...(one.mpUnreach?.withdraw ?? []));
      } catch (e) {
        if (e instanceof BgpDecodeError) throw resetError(e, 'UPDATE path attributes');
        throw e;
      }
    }
    o = start + len;
  }
  return out;
}

function options(ctx: UpdateContext): { as4: boolean; addPath: (afi: Afi) => boolean } {
  return { as4: ctx.as4, addPath: (afi: Afi) => (afi === AFI_IPV4 ? ctx.addPathV4 : ctx.addPathV6) };
}

/** Decodes an UPDATE's prefixes and path (see the module comment for the error handling). */
export function decodeUpdate(m: UpdateMessage, ctx: UpdateContext): DecodedUpdate {
  const withdraw: Nlri[] = [];
  const announce: Nlri[] = [];
  toNlri(prefixes(m.withdrawnRoutes, AFI_IPV4, ctx.addPathV4, 'UPDATE withdrawn routes'), withdraw);
  toNlri(prefixes(m.nlri, AFI_IPV4, ctx.addPathV4, 'UPDATE NLRI'), announce);
  const a = m.pathAttributes;
  if (a.length === 0 && withdraw.length === 0 && announce.length === 0) {
    return { announce, withdraw, originAs: 0, asPath: [], endOfRib: { afi: AFI_IPV4, safi: SAFI_UNICAST }, treatAsWithdraw: undefined };
  }
  let attrs: PathAttributes;
  try {
    attrs = decodeAttributes(a, 0, a.length, options(ctx));
  } catch (e) {
    if (!(e instanceof BgpDecodeError)) throw e;
    if (e.action === 'session-reset') throw resetError(e, 'UPDATE path attributes');
    const mp = mpPrefixes(a, ctx);
    toNlri(mp.withdraw, withdraw);
    toNlri(mp.announce, withdraw);
    return { announce: [], withdraw: [...withdraw, ...announce], originAs: 0, asPath: [], endOfRib: undefined, treatAsWithdraw: e.message };
  }
  // RFC 4271 section 6.3: an unrecognized well-known attribute is an error (RFC 7606 leaves it so).
  for (const r of attrs.other ?? []) {
    if ((r.flags & 0x80) === 0 && !WELL_KNOWN_TYPES.has(r.type) && r.type !== ATTR.MP_REACH_NLRI && r.type !== ATTR.MP_UNREACH_NLRI) {
      throw new BgpMessageError(ErrorCode.UpdateMessage, UpdateSubcode.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${r.type}`,
        Uint8Array.of(r.flags, r.type, r.value.length, ...r.value.subarray(0, 255)));
    }
  }
  const unicast = (f: { afi: number; safi: number } | undefined): boolean => !!f && f.safi === SAFI_UNICAST && (f.afi === AFI_IPV4 || f.afi === AFI_IPV6);
  if (attrs.mpUnreach && unicast(attrs.mpUnreach)) toNlri(attrs.mpUnreach.withdraw, withdraw);
  if (attrs.mpReach && unicast(attrs.mpReach)) toNlri(attrs.mpReach.announce, announce);
  // RFC 4724 section 2: an UPDATE carrying only an empty MP_UNREACH_NLRI is that family's End-of-RIB.
  const onlyUnreach = attrs.mpUnreach !== undefined && Object.keys(attrs).length === 1;
  if (onlyUnreach && attrs.mpUnreach!.withdraw.length === 0 && withdraw.length === 0 && announce.length === 0) {
    return { announce, withdraw, originAs: 0, asPath: [], endOfRib: { afi: attrs.mpUnreach!.afi, safi: attrs.mpUnreach!.safi }, treatAsWithdraw: undefined };
  }
  if (announce.length > 0) {
    // RFC 7606 section 3d: a missing well-known mandatory attribute is treat-as-withdraw.
    const missing = attrs.origin === undefined ? 'ORIGIN' : attrs.asPath === undefined ? 'AS_PATH'
      : m.nlri.length > 0 && attrs.nextHop === undefined ? 'NEXT_HOP' : undefined;
    if (missing) {
      return { announce: [], withdraw: [...withdraw, ...announce], originAs: 0, asPath: [], endOfRib: undefined, treatAsWithdraw: `${missing} is missing` };
    }
  }
  const segments = effectiveAsPath(attrs, ctx);
  return { announce, withdraw, originAs: originAsOf(segments), asPath: flattenAsPath(segments), endOfRib: undefined, treatAsWithdraw: undefined };
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

const isV6 = (n: Nlri): boolean => n.prefix.includes(':');
const withIds = (list: readonly Nlri[]): NlriPrefix[] => list.map((n) => ({ prefix: n.prefix, pathId: n.pathId }));

/**
 * An UPDATE announcing and withdrawing `spec`'s routes: IPv4 in the classic fields, IPv6 in
 * MP_REACH_NLRI / MP_UNREACH_NLRI (next hop 2001:db8::1), with 4-byte or 2-byte ASes per `ctx`.
 */
export function encodeUpdate(spec: UpdateSpec, ctx: UpdateContext): UpdateMessage {
  const ann = spec.announce ?? [];
  const wd = spec.withdraw ?? [];
  const v6a = ann.filter(isV6);
  const v6w = wd.filter(isV6);
  const path = spec.asPath ?? [];
  const attrs: PathAttributes = {
    ...(ann.length ? { origin: 0 as const, asPath: path.length ? [{ type: 2 as const, asns: path }] : [] } : {}),
    ...(ann.some((n) => !isV6(n)) ? { nextHop: spec.nextHop ?? '192.0.2.1' } : {}),
    ...(v6a.length ? { mpReach: { afi: AFI_IPV6, safi: SAFI_UNICAST, nextHops: ['2001:db8::1'], announce: withIds(v6a) } } : {}),
    ...(v6w.length ? { mpUnreach: { afi: AFI_IPV6, safi: SAFI_UNICAST, withdraw: withIds(v6w) } } : {}),
  };
  const opts = options(ctx);
  return {
    type: 2,
    withdrawnRoutes: encodePrefixes(withIds(wd.filter((n) => !isV6(n))), AFI_IPV4, ctx.addPathV4),
    pathAttributes: encodeAttributes(attrs, opts),
    nlri: encodePrefixes(withIds(ann.filter((n) => !isV6(n))), AFI_IPV4, ctx.addPathV4),
  };
}

/** The End-of-RIB marker of a family (RFC 4724 section 2). */
export function endOfRib(afi: Afi): UpdateMessage {
  const empty = new Uint8Array(0);
  if (afi === AFI_IPV4) return { type: 2, withdrawnRoutes: empty, pathAttributes: empty, nlri: empty };
  return { type: 2, withdrawnRoutes: empty, pathAttributes: encodeAttributes({ mpUnreach: { afi, safi: SAFI_UNICAST, withdraw: [] } }, { as4: true }), nlri: empty };
}
