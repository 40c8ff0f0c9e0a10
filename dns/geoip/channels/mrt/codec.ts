/**
 * MRT records (RFC 6396) as a symmetric codec: TABLE_DUMP, TABLE_DUMP_V2 (PEER_INDEX_TABLE, RIB
 * unicast and multicast, RIB_GENERIC, and the ADD-PATH subtypes of RFC 8050) and BGP4MP/BGP4MP_ET
 * (MESSAGE, MESSAGE_AS4, the LOCAL and ADDPATH variants, STATE_CHANGE, STATE_CHANGE_AS4). Decoding
 * is pure and bounds-checked and throws `MrtDecodeError`; path attributes and NLRI go through the
 * BGP channel's codec.
 */
import {
  AFI_IPV4, AFI_IPV6, BgpDecodeError, decodeAttributes, encodeAttributes, type Afi, type AttributeCodecOptions,
  type NlriPrefix, type PathAttributes,
} from '../bgp/attributes';
import {
  addressBytes, decodeAddress, decodePrefix, decodePrefixes, encodeAddress, encodePrefixInto, encodePrefixes, formatIpv4At, isKnownAfi,
} from '../bgp/nlri';
import { MrtDecodeError } from './errors';

/** MRT record types this codec reads (RFC 6396 4). */
export const MRT_TYPE = { TABLE_DUMP: 12, TABLE_DUMP_V2: 13, BGP4MP: 16, BGP4MP_ET: 17 } as const;

/** TABLE_DUMP_V2 subtypes (RFC 6396 4.3, RFC 8050 3). */
export const TABLE_DUMP_V2 = {
  PEER_INDEX_TABLE: 1, RIB_IPV4_UNICAST: 2, RIB_IPV4_MULTICAST: 3, RIB_IPV6_UNICAST: 4, RIB_IPV6_MULTICAST: 5,
  RIB_GENERIC: 6, RIB_IPV4_UNICAST_ADDPATH: 8, RIB_IPV4_MULTICAST_ADDPATH: 9, RIB_IPV6_UNICAST_ADDPATH: 10,
  RIB_IPV6_MULTICAST_ADDPATH: 11, RIB_GENERIC_ADDPATH: 12,
} as const;

/** BGP4MP and BGP4MP_ET subtypes (RFC 6396 4.4, RFC 8050 3). */
export const BGP4MP = {
  STATE_CHANGE: 0, MESSAGE: 1, MESSAGE_AS4: 4, STATE_CHANGE_AS4: 5, MESSAGE_LOCAL: 6, MESSAGE_AS4_LOCAL: 7,
  MESSAGE_ADDPATH: 8, MESSAGE_AS4_ADDPATH: 9, MESSAGE_LOCAL_ADDPATH: 10, MESSAGE_AS4_LOCAL_ADDPATH: 11,
} as const;

/** Bytes of the MRT common header (RFC 6396 2). */
export const MRT_HEADER_BYTES = 12;

/**
 * The longest body a BGP4MP record can have: a BGP message of at most 65535 bytes (RFC 8654; 4096
 * without extended messages) behind at most 44 bytes of BGP4MP header and 4 of microseconds.
 */
export const MAX_BGP4MP_BODY_BYTES = 65535 + 44 + 4;
/** The longest TABLE_DUMP body: 2-byte attribute length behind a 54-byte IPv6 fixed part. */
export const MAX_TABLE_DUMP_BODY_BYTES = 65535 + 54;

/** The MRT common header. */
export interface MrtHeader {
  /** Seconds since the epoch. */
  readonly timestamp: number;
  readonly type: number;
  readonly subtype: number;
  /** Body length as written (for BGP4MP_ET it includes the 4-byte microsecond field). */
  readonly length: number;
}

/** A peer of the PEER_INDEX_TABLE. */
export interface MrtPeer {
  /** BGP identifier as dotted quad. */
  readonly bgpId: string;
  readonly address: string;
  readonly asn: number;
}

/** TABLE_DUMP_V2 PEER_INDEX_TABLE: the peers RIB entries refer to by index (RFC 6396 4.3.1). */
export interface PeerIndexRecord {
  readonly kind: 'peer-index';
  readonly timestamp: number;
  readonly collectorId: string;
  readonly viewName: string;
  readonly peers: readonly MrtPeer[];
}

/** One peer's route in a TABLE_DUMP_V2 RIB record. */
export interface RibEntry {
  readonly peerIndex: number;
  /** When the route was learned, seconds since the epoch. */
  readonly originatedAt: number;
  /** RFC 8050 path identifier (ADDPATH subtypes only). */
  readonly pathId?: number;
  readonly attributes: PathAttributes;
}

/** TABLE_DUMP_V2 RIB_* and RIB_GENERIC(_ADDPATH): one prefix as every peer holds it (RFC 6396 4.3.2-3). */
export interface RibRecord {
  readonly kind: 'rib';
  readonly timestamp: number;
  readonly subtype: number;
  readonly sequence: number;
  readonly afi: Afi;
  readonly safi: number;
  readonly prefix: string;
  readonly entries: readonly RibEntry[];
}

/** Legacy TABLE_DUMP: one prefix as one peer holds it (RFC 6396 4.2), AS numbers 2 bytes. */
export interface TableDumpRecord {
  readonly kind: 'table-dump';
  readonly timestamp: number;
  readonly afi: Afi;
  readonly viewNumber: number;
  readonly sequence: number;
  readonly prefix: string;
  readonly status: number;
  readonly originatedAt: number;
  readonly peerAddress: string;
  readonly peerAs: number;
  readonly attributes: PathAttributes;
}

/** A BGP UPDATE's contents (RFC 4271 4.3). */
export interface BgpUpdate {
  /** Withdrawn Routes (IPv4). */
  readonly withdrawn: readonly NlriPrefix[];
  readonly attributes: PathAttributes;
  /** NLRI (IPv4). */
  readonly announce: readonly NlriPrefix[];
}

/** The peer fields BGP4MP MESSAGE and STATE_CHANGE share (RFC 6396 4.4.1-2). */
export interface Bgp4mpPeer {
  readonly timestamp: number;
  /** Microseconds of the BGP4MP_ET extended timestamp; undefined for BGP4MP. */
  readonly microseconds: number | undefined;
  readonly subtype: number;
  readonly peerAs: number;
  readonly localAs: number;
  readonly interfaceIndex: number;
  readonly afi: Afi;
  readonly peerAddress: string;
  readonly localAddress: string;
}

/** BGP4MP(_ET) MESSAGE*: one BGP message, sent (LOCAL) or received. */
export interface Bgp4mpMessageRecord extends Bgp4mpPeer {
  readonly kind: 'bgp4mp-message';
  /** BGP message type (RFC 4271 4.1): 1 OPEN, 2 UPDATE, 3 NOTIFICATION, 4 KEEPALIVE, 5 ROUTE-REFRESH. */
  readonly messageType: number;
  /** The UPDATE's contents when `messageType` is 2. */
  readonly update: BgpUpdate | undefined;
  /** The message after its 19-byte header, for types other than UPDATE. */
  readonly body: Uint8Array | undefined;
}

/** BGP4MP(_ET) STATE_CHANGE(_AS4): the session's FSM moved (RFC 6396 4.4.1; states of RFC 4271 8.2.2, 1 Idle .. 6 Established). */
export interface Bgp4mpStateRecord extends Bgp4mpPeer {
  readonly kind: 'bgp4mp-state';
  readonly oldState: number;
  readonly newState: number;
}

/** A record of a type or subtype this codec does not read; readers skip it. */
export interface UnsupportedRecord {
  readonly kind: 'unsupported';
  readonly timestamp: number;
  readonly type: number;
  readonly subtype: number;
  readonly body: Uint8Array;
}

/** Any decoded MRT record. */
export type MrtRecord = PeerIndexRecord | RibRecord | TableDumpRecord | Bgp4mpMessageRecord | Bgp4mpStateRecord | UnsupportedRecord;

function u16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
function u32(b: Uint8Array, o: number): number { return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0; }

function need(o: number, n: number, end: number, what: string): void {
  if (o + n > end) throw new MrtDecodeError('MRT_ERR_TRUNCATED', o, `${what} needs ${n} bytes, the record has ${Math.max(0, end - o)} left`);
}

/** Decodes the common header at `offset`; throws `MRT_ERR_TRUNCATED` when fewer than 12 bytes remain. */
export function decodeHeader(buf: Uint8Array, offset: number): MrtHeader {
  need(offset, MRT_HEADER_BYTES, buf.length, 'the MRT header');
  return { timestamp: u32(buf, offset), type: u16(buf, offset + 4), subtype: u16(buf, offset + 6), length: u32(buf, offset + 8) };
}

/**
 * The most body bytes a record of this header may have, or undefined when only the reader's own
 * bound applies (TABLE_DUMP_V2 RIB records of many peers legitimately exceed 64 KiB).
 */
export function maxBodyBytes(header: MrtHeader): number | undefined {
  if (header.type === MRT_TYPE.BGP4MP || header.type === MRT_TYPE.BGP4MP_ET) return MAX_BGP4MP_BODY_BYTES;
  if (header.type === MRT_TYPE.TABLE_DUMP) return MAX_TABLE_DUMP_BODY_BYTES;
  return undefined;
}

function wrapAttributes(e: unknown, what: string): never {
  if (e instanceof BgpDecodeError) throw new MrtDecodeError('MRT_ERR_ATTRIBUTES', e.offset, `${what}: ${e.message}`, { cause: e });
  throw e;
}

function attributesAt(buf: Uint8Array, o: number, end: number, options: AttributeCodecOptions, what: string): PathAttributes {
  try {
    return decodeAttributes(buf, o, end, options);
  } catch (e) {
    return wrapAttributes(e, what);
  }
}

function afiOf(value: number, offset: number): Afi {
  if (!isKnownAfi(value)) throw new MrtDecodeError('MRT_ERR_BAD_FIELD', offset, `address family ${value} is neither IPv4 (1) nor IPv6 (2)`);
  return value;
}

function addressAt(buf: Uint8Array, o: number, end: number, afi: Afi, what: string): string {
  need(o, addressBytes(afi), end, what);
  return decodeAddress(buf, o, end, afi);
}

/**
 * Decodes the body `[start, start + header.length)` of a record with `header`. Throws
 * `MrtDecodeError` when the body is malformed or runs past `buf`.
 */
export function decodeBody(header: MrtHeader, buf: Uint8Array, start: number): MrtRecord {
  const end = start + header.length;
  need(start, header.length, buf.length, `a ${header.length}-byte record body`);
  switch (header.type) {
    case MRT_TYPE.TABLE_DUMP: return decodeTableDump(header, buf, start, end);
    case MRT_TYPE.TABLE_DUMP_V2:
      if (header.subtype === TABLE_DUMP_V2.PEER_INDEX_TABLE) return decodePeerIndex(header, buf, start, end);
      if ((header.subtype >= 2 && header.subtype <= 6) || (header.subtype >= 8 && header.subtype <= 12)) {
        return decodeRib(header, buf, start, end);
      }
      break;
    case MRT_TYPE.BGP4MP:
    case MRT_TYPE.BGP4MP_ET:
      return decodeBgp4mp(header, buf, start, end);
  }
  return { kind: 'unsupported', timestamp: header.timestamp, type: header.type, subtype: header.subtype, body: buf.slice(start, end) };
}

/** Decodes one whole record (header and body) at `offset`; returns it and the offset after it. */
export function decodeRecord(buf: Uint8Array, offset: number): { record: MrtRecord; next: number } {
  const header = decodeHeader(buf, offset);
  const max = maxBodyBytes(header);
  if (max !== undefined && header.length > max) {
    throw new MrtDecodeError('MRT_ERR_TOO_LONG', offset, `a type ${header.type} record of ${header.length} bytes exceeds the ${max} its type allows`);
  }
  const start = offset + MRT_HEADER_BYTES;
  return { record: decodeBody(header, buf, start), next: start + header.length };
}

/** Scratch for a TABLE_DUMP prefix re-encoded as NLRI: a length byte and up to 16 address bytes. */
const TABLE_DUMP_NLRI = new Uint8Array(17);

function decodeTableDump(h: MrtHeader, buf: Uint8Array, o: number, end: number): TableDumpRecord {
  const afi = afiOf(h.subtype, o);
  const n = addressBytes(afi);
  need(o, 4 + n + 2 + 4 + n + 2 + 2, end, 'a TABLE_DUMP entry');
  const viewNumber = u16(buf, o);
  const sequence = u16(buf, o + 2);
  let p = o + 4;
  const prefixAt = p;
  p += n;
  const bits = buf[p];
  if (bits > n * 8) throw new MrtDecodeError('MRT_ERR_BAD_FIELD', p, `prefix length ${bits} exceeds ${n * 8} bits`);
  // The prefix is a full-width address here (RFC 6396 4.2), not NLRI-encoded; re-encode it as NLRI to
  // reuse the canonical formatter.
  const nlri = TABLE_DUMP_NLRI;
  nlri[0] = bits;
  for (let i = 0; i < n; i++) nlri[1 + i] = buf[prefixAt + i];
  const prefix = decodePrefix(nlri, 0, 1 + n, afi).prefix;
  const status = buf[p + 1];
  const originatedAt = u32(buf, p + 2);
  p += 6;
  const peerAddress = decodeAddress(buf, p, end, afi);
  p += n;
  const peerAs = u16(buf, p);
  const attrLen = u16(buf, p + 2);
  p += 4;
  if (p + attrLen > end) throw new MrtDecodeError('MRT_ERR_ATTRIBUTES', p, `attributes of ${attrLen} bytes run ${p + attrLen - end} bytes past the record`);
  const attributes = attributesAt(buf, p, p + attrLen, { as4: false, lenientFlags: true, mrtRib: { afi, safi: 1 } }, 'TABLE_DUMP attributes');
  return { kind: 'table-dump', timestamp: h.timestamp, afi, viewNumber, sequence, prefix, status, originatedAt, peerAddress, peerAs, attributes };
}

function decodePeerIndex(h: MrtHeader, buf: Uint8Array, o: number, end: number): PeerIndexRecord {
  need(o, 6, end, 'a PEER_INDEX_TABLE');
  const collectorId = formatIpv4At(buf, o);
  const nameLen = u16(buf, o + 4);
  let p = o + 6;
  need(p, nameLen + 2, end, 'the view name and peer count');
  const viewName = Buffer.from(buf.buffer, buf.byteOffset + p, nameLen).toString('utf8');
  p += nameLen;
  const count = u16(buf, p);
  p += 2;
  const peers: MrtPeer[] = [];
  for (let i = 0; i < count; i++) {
    need(p, 1, end, `peer entry ${i}`);
    const peerType = buf[p];
    // RFC 6396 4.3.1: bit 0 (0x01) IPv6 address, bit 1 (0x02) 4-byte AS.
    const afi: Afi = peerType & 1 ? AFI_IPV6 : AFI_IPV4;
    const asBytes = peerType & 2 ? 4 : 2;
    need(p, 1 + 4 + addressBytes(afi) + asBytes, end, `peer entry ${i}`);
    const bgpId = formatIpv4At(buf, p + 1);
    const address = decodeAddress(buf, p + 5, end, afi);
    p += 5 + addressBytes(afi);
    const asn = asBytes === 4 ? u32(buf, p) : u16(buf, p);
    p += asBytes;
    peers.push({ bgpId, address, asn });
  }
  return { kind: 'peer-index', timestamp: h.timestamp, collectorId, viewName, peers };
}

const RIB_FAMILY: Record<number, [Afi, number, boolean]> = {
  2: [AFI_IPV4, 1, false], 3: [AFI_IPV4, 2, false], 4: [AFI_IPV6, 1, false], 5: [AFI_IPV6, 2, false],
  8: [AFI_IPV4, 1, true], 9: [AFI_IPV4, 2, true], 10: [AFI_IPV6, 1, true], 11: [AFI_IPV6, 2, true],
};

/** True when a TABLE_DUMP_V2 subtype carries RFC 8050 path identifiers. */
export function isAddPathRib(subtype: number): boolean {
  return subtype >= 8 && subtype <= 12;
}

function decodeRib(h: MrtHeader, buf: Uint8Array, o: number, end: number): RibRecord | UnsupportedRecord {
  need(o, 4, end, 'a RIB sequence number');
  const sequence = u32(buf, o);
  let p = o + 4;
  let afi: Afi;
  let safi: number;
  const addPath = isAddPathRib(h.subtype);
  if (h.subtype === TABLE_DUMP_V2.RIB_GENERIC || h.subtype === TABLE_DUMP_V2.RIB_GENERIC_ADDPATH) {
    need(p, 3, end, 'the RIB_GENERIC family');
    const rawAfi = u16(buf, p);
    safi = buf[p + 2];
    // Families other than IPv4/IPv6 unicast/multicast (VPN, flowspec) have NLRI this codec does not read.
    if (!isKnownAfi(rawAfi) || (safi !== 1 && safi !== 2)) {
      return { kind: 'unsupported', timestamp: h.timestamp, type: h.type, subtype: h.subtype, body: buf.slice(o, end) };
    }
    afi = rawAfi;
    p += 3;
  } else {
    [afi, safi] = RIB_FAMILY[h.subtype];
  }
  let prefix: string;
  try {
    const d = decodePrefix(buf, p, end, afi);
    prefix = d.prefix;
    p = d.next;
  } catch (e) {
    return wrapAttributes(e, 'the RIB prefix');
  }
  need(p, 2, end, 'the RIB entry count');
  const count = u16(buf, p);
  p += 2;
  const entries: RibEntry[] = new Array<RibEntry>(count);
  const options: AttributeCodecOptions = { as4: true, lenientFlags: true, mrtRib: { afi, safi } };
  for (let i = 0; i < count; i++) {
    need(p, addPath ? 12 : 8, end, `RIB entry ${i}`);
    const peerIndex = u16(buf, p);
    const originatedAt = u32(buf, p + 2);
    p += 6;
    let pathId: number | undefined;
    if (addPath) { pathId = u32(buf, p); p += 4; }
    const attrLen = u16(buf, p);
    p += 2;
    if (p + attrLen > end) {
      throw new MrtDecodeError('MRT_ERR_ATTRIBUTES', p, `RIB entry ${i}'s attributes of ${attrLen} bytes run ${p + attrLen - end} bytes past the record`);
    }
    const attributes = attributesAt(buf, p, p + attrLen, options, `RIB entry ${i}`);
    p += attrLen;
    entries[i] = pathId === undefined ? { peerIndex, originatedAt, attributes } : { peerIndex, originatedAt, pathId, attributes };
  }
  return { kind: 'rib', timestamp: h.timestamp, subtype: h.subtype, sequence, afi, safi, prefix, entries };
}

/** True when a BGP4MP subtype has 4-byte AS numbers. */
export function isAs4Subtype(subtype: number): boolean {
  return subtype === BGP4MP.MESSAGE_AS4 || subtype === BGP4MP.STATE_CHANGE_AS4 || subtype === BGP4MP.MESSAGE_AS4_LOCAL
    || subtype === BGP4MP.MESSAGE_AS4_ADDPATH || subtype === BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH;
}

/** True when a BGP4MP message subtype was sent by the local speaker rather than received. */
export function isLocalSubtype(subtype: number): boolean {
  return subtype === BGP4MP.MESSAGE_LOCAL || subtype === BGP4MP.MESSAGE_AS4_LOCAL
    || subtype === BGP4MP.MESSAGE_LOCAL_ADDPATH || subtype === BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH;
}

/** True when a BGP4MP message subtype carries RFC 7911 path identifiers in its NLRI (RFC 8050 3). */
export function isAddPathSubtype(subtype: number): boolean {
  return subtype >= BGP4MP.MESSAGE_ADDPATH && subtype <= BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH;
}

function decodeBgp4mp(h: MrtHeader, buf: Uint8Array, o: number, end: number): MrtRecord {
  const st = h.subtype;
  const isState = st === BGP4MP.STATE_CHANGE || st === BGP4MP.STATE_CHANGE_AS4;
  if (!isState && !(st === BGP4MP.MESSAGE || (st >= BGP4MP.MESSAGE_AS4 && st <= BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH && st !== BGP4MP.STATE_CHANGE_AS4))) {
    return { kind: 'unsupported', timestamp: h.timestamp, type: h.type, subtype: st, body: buf.slice(o, end) };
  }
  let p = o;
  let microseconds: number | undefined;
  if (h.type === MRT_TYPE.BGP4MP_ET) {
    need(p, 4, end, 'the BGP4MP_ET microseconds');
    microseconds = u32(buf, p);
    p += 4;
  }
  const asBytes = isAs4Subtype(st) ? 4 : 2;
  need(p, 2 * asBytes + 4, end, 'the BGP4MP peer fields');
  const peerAs = asBytes === 4 ? u32(buf, p) : u16(buf, p);
  const localAs = asBytes === 4 ? u32(buf, p + asBytes) : u16(buf, p + asBytes);
  p += 2 * asBytes;
  const interfaceIndex = u16(buf, p);
  const afi = afiOf(u16(buf, p + 2), p + 2);
  p += 4;
  const peerAddress = addressAt(buf, p, end, afi, 'the peer address');
  p += addressBytes(afi);
  const localAddress = addressAt(buf, p, end, afi, 'the local address');
  p += addressBytes(afi);
  if (isState) {
    need(p, 4, end, 'the old and new states');
    return {
      kind: 'bgp4mp-state', timestamp: h.timestamp, microseconds, subtype: st, peerAs, localAs, interfaceIndex, afi, peerAddress, localAddress,
      oldState: u16(buf, p), newState: u16(buf, p + 2),
    };
  }
  // RFC 4271 4.1: 16-byte marker, 2-byte length, 1-byte type.
  need(p, 19, end, 'the BGP message header');
  for (let i = 0; i < 16; i++) {
    if (buf[p + i] !== 0xff) throw new MrtDecodeError('MRT_ERR_BAD_FIELD', p + i, 'the BGP message marker is not all ones');
  }
  const msgLen = u16(buf, p + 16);
  const messageType = buf[p + 18];
  if (msgLen < 19 || p + msgLen > end) throw new MrtDecodeError('MRT_ERR_TRUNCATED', p + 16, `a BGP message of ${msgLen} bytes does not fit the ${end - p} bytes of its record`);
  const msgEnd = p + msgLen;
  p += 19;
  const update = messageType === 2 ? decodeUpdate(buf, p, msgEnd, asBytes === 4, isAddPathSubtype(st)) : undefined;
  // One object shape for every message record keeps the consumers' property reads monomorphic.
  return {
    kind: 'bgp4mp-message', timestamp: h.timestamp, microseconds, subtype: st, peerAs, localAs, interfaceIndex, afi, peerAddress, localAddress,
    messageType, update, body: messageType === 2 ? undefined : buf.slice(p, msgEnd),
  };
}

/** Decodes an UPDATE message body `[o, end)` (after the 19-byte header). */
export function decodeUpdate(buf: Uint8Array, o: number, end: number, as4: boolean, addPath: boolean): BgpUpdate {
  need(o, 2, end, 'the withdrawn routes length');
  const wLen = u16(buf, o);
  const wStart = o + 2;
  if (wStart + wLen + 2 > end) throw new MrtDecodeError('MRT_ERR_ATTRIBUTES', o, `withdrawn routes of ${wLen} bytes run past the UPDATE`);
  const aLenAt = wStart + wLen;
  const aLen = u16(buf, aLenAt);
  const aStart = aLenAt + 2;
  if (aStart + aLen > end) throw new MrtDecodeError('MRT_ERR_ATTRIBUTES', aLenAt, `path attributes of ${aLen} bytes run ${aStart + aLen - end} bytes past the UPDATE`);
  try {
    const withdrawn = decodePrefixes(buf, wStart, aLenAt, AFI_IPV4, addPath);
    const attributes = decodeAttributes(buf, aStart, aStart + aLen, { as4, addPath, lenientFlags: true });
    const announce = decodePrefixes(buf, aStart + aLen, end, AFI_IPV4, addPath);
    return { withdrawn, attributes, announce };
  } catch (e) {
    return wrapAttributes(e, 'UPDATE');
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private buf = new Uint8Array(256);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): void { this.room(1); this.buf[this.length++] = v & 255; }
  u16(v: number): void { this.room(2); this.buf[this.length++] = (v >>> 8) & 255; this.buf[this.length++] = v & 255; }
  u32(v: number): void { this.u16(v >>> 16); this.u16(v & 0xffff); }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; }
  u16At(at: number, v: number): void { this.buf[at] = (v >>> 8) & 255; this.buf[at + 1] = v & 255; }
  done(): Uint8Array { return this.buf.slice(0, this.length); }
}

function addressOf(text: string, afi: Afi, what: string): Uint8Array {
  const a = encodeAddress(text);
  if (a.afi !== afi) throw new RangeError(`${what} "${text}" is not of address family ${afi}`);
  return a.bytes;
}

function rawPrefix(prefix: string, afi: Afi): { bits: number; bytes: Uint8Array } {
  const tmp = new Uint8Array(17);
  const next = encodePrefixInto(tmp, 0, prefix, afi);
  const bytes = new Uint8Array(addressBytes(afi));
  bytes.set(tmp.subarray(1, next));
  return { bits: tmp[0], bytes };
}

function encodeUpdate(w: Writer, u: BgpUpdate, as4: boolean, addPath: boolean): void {
  const withdrawn = encodePrefixes(u.withdrawn, AFI_IPV4, addPath);
  const attrs = encodeAttributes(u.attributes, { as4, addPath });
  const nlri = encodePrefixes(u.announce, AFI_IPV4, addPath);
  w.u16(withdrawn.length); w.bytes(withdrawn);
  w.u16(attrs.length); w.bytes(attrs);
  w.bytes(nlri);
}

function encodeBody(r: MrtRecord): { type: number; subtype: number; body: Uint8Array } {
  const w = new Writer();
  switch (r.kind) {
    case 'unsupported':
      return { type: r.type, subtype: r.subtype, body: r.body };
    case 'table-dump': {
      const p = rawPrefix(r.prefix, r.afi);
      w.u16(r.viewNumber); w.u16(r.sequence); w.bytes(p.bytes); w.u8(p.bits); w.u8(r.status); w.u32(r.originatedAt);
      w.bytes(addressOf(r.peerAddress, r.afi, 'the peer address')); w.u16(r.peerAs);
      const attrs = encodeAttributes(r.attributes, { as4: false, mrtRib: { afi: r.afi, safi: 1 } });
      w.u16(attrs.length); w.bytes(attrs);
      return { type: MRT_TYPE.TABLE_DUMP, subtype: r.afi, body: w.done() };
    }
    case 'peer-index': {
      w.bytes(addressOf(r.collectorId, AFI_IPV4, 'the collector id'));
      const name = Buffer.from(r.viewName, 'utf8');
      w.u16(name.length); w.bytes(name); w.u16(r.peers.length);
      for (const peer of r.peers) {
        const addr = encodeAddress(peer.address);
        const as4 = peer.asn > 0xffff;
        w.u8((addr.afi === AFI_IPV6 ? 1 : 0) | (as4 ? 2 : 0));
        w.bytes(addressOf(peer.bgpId, AFI_IPV4, 'the peer BGP id')); w.bytes(addr.bytes);
        if (as4) w.u32(peer.asn); else w.u16(peer.asn);
      }
      return { type: MRT_TYPE.TABLE_DUMP_V2, subtype: TABLE_DUMP_V2.PEER_INDEX_TABLE, body: w.done() };
    }
    case 'rib': {
      w.u32(r.sequence);
      if (r.subtype === TABLE_DUMP_V2.RIB_GENERIC || r.subtype === TABLE_DUMP_V2.RIB_GENERIC_ADDPATH) { w.u16(r.afi); w.u8(r.safi); }
      const tmp = new Uint8Array(17);
      w.bytes(tmp.subarray(0, encodePrefixInto(tmp, 0, r.prefix, r.afi)));
      w.u16(r.entries.length);
      const addPath = isAddPathRib(r.subtype);
      for (const e of r.entries) {
        w.u16(e.peerIndex); w.u32(e.originatedAt);
        if (addPath) w.u32(e.pathId ?? 0);
        const attrs = encodeAttributes(e.attributes, { as4: true, mrtRib: { afi: r.afi, safi: r.safi } });
        w.u16(attrs.length); w.bytes(attrs);
      }
      return { type: MRT_TYPE.TABLE_DUMP_V2, subtype: r.subtype, body: w.done() };
    }
    case 'bgp4mp-message':
    case 'bgp4mp-state': {
      const et = r.microseconds !== undefined;
      if (et) w.u32(r.microseconds);
      const as4 = isAs4Subtype(r.subtype);
      if (as4) { w.u32(r.peerAs); w.u32(r.localAs); } else { w.u16(r.peerAs); w.u16(r.localAs); }
      w.u16(r.interfaceIndex); w.u16(r.afi);
      w.bytes(addressOf(r.peerAddress, r.afi, 'the peer address')); w.bytes(addressOf(r.localAddress, r.afi, 'the local address'));
      if (r.kind === 'bgp4mp-state') {
        w.u16(r.oldState); w.u16(r.newState);
      } else {
        const start = w.length;
        for (let i = 0; i < 16; i++) w.u8(0xff);
        w.u16(0); w.u8(r.messageType);
        if (r.update !== undefined) encodeUpdate(w, r.update, as4, isAddPathSubtype(r.subtype));
        else if (r.body !== undefined) w.bytes(r.body);
        w.u16At(start + 16, w.length - start);
      }
      return { type: et ? MRT_TYPE.BGP4MP_ET : MRT_TYPE.BGP4MP, subtype: r.subtype, body: w.done() };
    }
  }
}

/** Encodes a record with its common header (the inverse of `decodeRecord`). */
export function encodeRecord(record: MrtRecord): Uint8Array {
  const { type, subtype, body } = encodeBody(record);
  const out = new Uint8Array(MRT_HEADER_BYTES + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, record.timestamp); v.setUint16(4, type); v.setUint16(6, subtype); v.setUint32(8, body.length);
  out.set(body, MRT_HEADER_BYTES);
  return out;
}
