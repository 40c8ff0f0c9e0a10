/**
 * The fast path of `meridian mrt dump`: the common, well-formed records (BGP4MP(_ET) UPDATE and
 * STATE_CHANGE, TABLE_DUMP_V2 RIB_IPV4/IPV6 unicast and multicast with or without ADD-PATH,
 * TABLE_DUMP) go from their bytes straight to `bgpdump -m` text, with no record, attribute or
 * element objects in between. Anything else, and anything malformed, is declined: the caller
 * decodes that record in full, which reports the error exactly as the parser does. Every check the
 * decoder makes on a field that reaches the text is made here first, so a record is declined
 * before any of its lines is written.
 */
import { ATTR } from '../bgp/attributes';
import { formatIpv6Bytes, type Ipv6FormatOptions } from '../../../ip';
import { BGP4MP, decodeBody, MRT_TYPE, TABLE_DUMP_V2, type MrtHeader, type MrtPeer } from './codec';
import type { BgpdumpLineWriter } from './line-writer';

// The attribute type codes as this module's own constants: `ATTR.X` reads the imported module's
// exports object, a lookup per read in the hottest loop (that object has dictionary properties).
const { AGGREGATOR, AS4_AGGREGATOR, AS4_PATH, AS_PATH, ATOMIC_AGGREGATE, COMMUNITIES, LARGE_COMMUNITY, LOCAL_PREF, MP_REACH_NLRI, MP_UNREACH_NLRI, MULTI_EXIT_DISC, NEXT_HOP, ORIGIN } = ATTR;

const PIPE = 0x7c;
const SPACE = 0x20;
const SLASH = 0x2f;
const DOT = 0x2e;
const INET_NTOP: Ipv6FormatOptions = Object.freeze({ dottedTail: true });
const ORIGIN_TEXT = ['IGP', 'EGP', 'INCOMPLETE'];
const NO_NEXT_HOP = '255.255.255.255';
const OPEN = [0, 0x7b, 0, 0x28, 0x5b];
const CLOSE = [0, 0x7d, 0, 0x29, 0x5d];
/** Room for every fixed field of a line; the attributes add at most four characters per byte. */
const LINE_FIXED_BYTES = 320;
const NONE = -1;
/** bgpdump's name of a BGP4MP message record, indexed by ET (4), LOCAL (2) and ADD-PATH (1). */
const BGP4MP_SOURCE = ['BGP4MP', 'BGP4MP_AP', 'BGP4MP_LOCAL', 'BGP4MP_LOCAL_AP', 'BGP4MP_ET', 'BGP4MP_ET_AP', 'BGP4MP_ET_LOCAL', 'BGP4MP_ET_LOCAL_AP'];

/** Where one route's attributes are, found (and checked) before anything is written. */
class RouteScan {
  origin = 2;
  hasOrigin = false;
  asPathAt = NONE;
  asPathEnd = NONE;
  nextHopAt = NONE;
  med = 0;
  localPref = 0;
  atomic = false;
  aggregatorAt = NONE;
  communitiesAt = NONE;
  communitiesEnd = NONE;
  /** MP_REACH_NLRI: its first next hop's offset and length (4 or 16), and its NLRI. */
  mpNextHopAt = NONE;
  mpNextHopLen = 0;
  mpAfi = 0;
  mpNlriAt = NONE;
  mpNlriEnd = NONE;
  /** MP_UNREACH_NLRI's family and NLRI. */
  unreachAfi = 0;
  unreachAt = NONE;
  unreachEnd = NONE;

  reset(): void {
    this.origin = 2; this.hasOrigin = false; this.asPathAt = NONE; this.asPathEnd = NONE; this.nextHopAt = NONE; this.med = 0; this.localPref = 0;
    this.atomic = false; this.aggregatorAt = NONE; this.communitiesAt = NONE; this.communitiesEnd = NONE;
    this.mpNextHopAt = NONE; this.mpNextHopLen = 0; this.mpAfi = 0; this.mpNlriAt = NONE; this.mpNlriEnd = NONE;
    this.unreachAfi = 0; this.unreachAt = NONE; this.unreachEnd = NONE;
  }
}

/** Tail contexts: what decides how the same attribute bytes are checked and written. */
const TAIL_TABLE_DUMP = 1;
const TAIL_RIB = 3;
/** Bytes of a text cache's arena, and its slots (a power of two). */
const CACHE_ARENA_BYTES = 4 << 20;
const CACHE_SLOTS = 1 << 16;
/** An arena entry's header: its context (4 bytes), key length and text length (2 each). */
const ENTRY_HEADER_BYTES = 8;

/** FNV-1a of `[o, end)` of `b`, started from `seed`. */
function hashBytes(b: Uint8Array, o: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = o; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

/**
 * Text already written for some bytes of a record: a route tail by its attribute bytes, a
 * TABLE_DUMP line head by its peer address and AS. RIB dumps repeat both across prefixes (the
 * 2002 bview has 115,521 lines and 20,932 distinct tails), so most lines copy them. Keys and
 * texts live in one arena, so the cache makes no garbage; when it is full it starts again.
 */
class TextCache {
  readonly arena = new Uint8Array(CACHE_ARENA_BYTES);
  private readonly view = new DataView(this.arena.buffer);
  /** Arena offset + 1 of the entry of each slot; 0 when empty. */
  private readonly slots = new Int32Array(CACHE_SLOTS);
  private used = 0;
  /** Where the text of the last entry found starts in `arena`, and its length. */
  textAt = 0;
  textLength = 0;

  /** Whether the cache has text for `[o, end)` of `b` in `context` (hashed to `hash`); sets `textAt` and `textLength`. */
  find(hash: number, context: number, b: Uint8Array, o: number, end: number): boolean {
    const e = this.slots[hash & (CACHE_SLOTS - 1)] - 1;
    if (e < 0) return false;
    const v = this.view;
    const keyLength = v.getUint16(e + 4);
    if (v.getUint32(e) !== context || keyLength !== end - o) return false;
    const a = this.arena;
    const k = e + ENTRY_HEADER_BYTES;
    for (let i = 0; i < keyLength; i++) if (a[k + i] !== b[o + i]) return false;
    this.textAt = k + keyLength;
    this.textLength = v.getUint16(e + 6);
    return true;
  }

  /** Keeps `text` for `[o, end)` of `b` in `context` (replacing what its slot held). */
  keep(hash: number, context: number, b: Uint8Array, o: number, end: number, text: Uint8Array, textStart: number, textEnd: number): void {
    const keyLength = end - o;
    const textLength = textEnd - textStart;
    if (keyLength > 0xffff || textLength > 0xffff) return;
    if (this.used + ENTRY_HEADER_BYTES + keyLength + textLength > this.arena.length) {
      this.slots.fill(0);
      this.used = 0;
    }
    const e = this.used;
    const v = this.view;
    v.setUint32(e, context);
    v.setUint16(e + 4, keyLength);
    v.setUint16(e + 6, textLength);
    const a = this.arena;
    a.set(b.subarray(o, end), e + ENTRY_HEADER_BYTES);
    a.set(text.subarray(textStart, textEnd), e + ENTRY_HEADER_BYTES + keyLength);
    this.used = e + ENTRY_HEADER_BYTES + keyLength + textLength;
    this.slots[hash & (CACHE_SLOTS - 1)] = e + 1;
  }
}

function u16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
function u32(b: Uint8Array, o: number): number { return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0; }

/** True when `[o, end)` is a sequence of well-formed prefixes of `afi` (with 4-byte path ids when `addPath`). */
function nlriIsValid(b: Uint8Array, o: number, end: number, afi: number, addPath: boolean): boolean {
  const max = afi === 1 ? 32 : 128;
  while (o < end) {
    if (addPath) o += 4;
    if (o >= end) return false;
    const bits = b[o];
    if (bits > max) return false;
    o += 1 + ((bits + 7) >> 3);
    if (o > end) return false;
  }
  return true;
}

/** True when `[o, end)` is a well-formed AS_PATH with `asBytes`-byte AS numbers. */
function asPathIsValid(b: Uint8Array, o: number, end: number, asBytes: number): boolean {
  while (o < end) {
    if (o + 2 > end) return false;
    const t = b[o];
    if (t < 1 || t > 4) return false;
    o += 2 + b[o + 1] * asBytes;
    if (o > end) return false;
  }
  return true;
}

/** Writes MRT records as `bgpdump -m` lines, or declines them (see the module comment). */
export class BgpdumpTranscoder {
  /** The last PEER_INDEX_TABLE's peers. */
  private peers: readonly MrtPeer[] | undefined = undefined;
  private readonly scan = new RouteScan();
  private readonly seen = new Uint32Array(256);
  private seenMark = 0;
  private readonly prefixBytes = new Uint8Array(16);
  /** The peer address text of the last record, and its bytes, so a run of one peer's records formats it once. */
  private readonly lastPeerBytes = new Uint8Array(16);
  private lastPeerLen = 0;
  private lastPeerText = '';
  /** RIB line heads by peer index, for `ribHeadSource` at `ribHeadTime` with the peers `ribHeadPeers`. */
  private ribHeads: (Uint8Array | undefined)[] = [];
  private ribHeadSource = '';
  private ribHeadTime = -1;
  private ribHeadPeers: readonly MrtPeer[] | undefined = undefined;

  /** Route tails by attribute bytes, and TABLE_DUMP line heads by peer address and AS (see `TextCache`). */
  private readonly tails = new TextCache();
  private readonly heads = new TextCache();
  /** Per entry of the RIB record at hand: its attributes' hash, and whether the tail cache has them. */
  private ribHashes: number[] = [];
  private ribKnown: boolean[] = [];

  constructor(private readonly out: BgpdumpLineWriter) {}

  /**
   * Writes the lines of the record with `header` whose body is `[start, end)` of `buf`; returns the
   * number written, or -1 when the caller must decode the record in full (nothing was written).
   */
  record(h: MrtHeader, buf: Uint8Array, start: number, end: number): number {
    switch (h.type) {
      case MRT_TYPE.BGP4MP:
      case MRT_TYPE.BGP4MP_ET:
        return this.bgp4mp(h, buf, start, end);
      case MRT_TYPE.TABLE_DUMP_V2:
        if (h.subtype === TABLE_DUMP_V2.PEER_INDEX_TABLE) {
          // Decoded in full by the caller too (and reported there when malformed); kept here for RIB records.
          try {
            const r = decodeBody(h, buf, start);
            if (r.kind === 'peer-index') this.peers = r.peers;
          } catch {
            // The caller's decode reports it.
          }
          return -1;
        }
        if ((h.subtype >= 2 && h.subtype <= 5) || (h.subtype >= 8 && h.subtype <= 11)) return this.rib(h, buf, start, end);
        return -1;
      case MRT_TYPE.TABLE_DUMP:
        return this.tableDump(h, buf, start, end);
      default:
        return -1;
    }
  }

  /**
   * Finds and checks the attributes of `[o, end)`. False when anything is unusual: a malformed or
   * repeated MP attribute, an AS4_PATH or AS4_AGGREGATOR a 2-byte path would merge, an abbreviated
   * MP_REACH where it may not be, or a family the text does not show.
   */
  private scanAttributes(b: Uint8Array, o: number, end: number, as4: boolean, ribAfi: number, addPath: boolean): boolean {
    const s = this.scan;
    s.reset();
    const mark = ++this.seenMark;
    const seen = this.seen;
    const asBytes = as4 ? 4 : 2;
    while (o < end) {
      if (o + 3 > end) return false;
      const flags = b[o];
      const type = b[o + 1];
      let length: number;
      let v: number;
      if (flags & 0x10) {
        if (o + 4 > end) return false;
        length = u16(b, o + 2);
        v = o + 4;
      } else {
        length = b[o + 2];
        v = o + 3;
      }
      const next = v + length;
      if (next > end) return false;
      o = next;
      if (seen[type] === mark) {
        if (type === MP_REACH_NLRI || type === MP_UNREACH_NLRI) return false;
        continue;
      }
      seen[type] = mark;
      switch (type) {
        case ORIGIN:
          if (length !== 1 || b[v] > 2) return false;
          s.origin = b[v]; s.hasOrigin = true;
          break;
        case AS_PATH:
          if (!asPathIsValid(b, v, next, asBytes)) return false;
          s.asPathAt = v; s.asPathEnd = next;
          break;
        case NEXT_HOP:
          if (length !== 4) return false;
          s.nextHopAt = v;
          break;
        case MULTI_EXIT_DISC:
          if (length !== 4) return false;
          s.med = u32(b, v);
          break;
        case LOCAL_PREF:
          if (length !== 4) return false;
          s.localPref = u32(b, v);
          break;
        case ATOMIC_AGGREGATE:
          if (length !== 0) return false;
          s.atomic = true;
          break;
        case AGGREGATOR:
          if (length !== asBytes + 4) return false;
          s.aggregatorAt = v;
          break;
        case COMMUNITIES:
          if (length % 4 !== 0) return false;
          s.communitiesAt = v; s.communitiesEnd = next;
          break;
        case LARGE_COMMUNITY:
          if (length % 12 !== 0) return false;
          break;
        case AS4_PATH:
        case AS4_AGGREGATOR:
          // A 4-byte path ignores them (RFC 6793 4.2.3 merges them only into a 2-byte one).
          if (!as4) return false;
          break;
        case MP_REACH_NLRI: {
          if (ribAfi !== 0 && length >= 1 && b[v] + 1 === length) {
            // RFC 6396 4.3.4: the abbreviated form, next hop only.
            if (!this.nextHopField(v + 1, b[v])) return false;
            s.mpAfi = ribAfi; s.mpNlriAt = NONE; s.mpNlriEnd = NONE;
            break;
          }
          if (ribAfi !== 0 || length < 5) return false;
          const afi = u16(b, v);
          const safi = b[v + 2];
          if ((afi !== 1 && afi !== 2) || (safi !== 1 && safi !== 2)) break;
          const nhLen = b[v + 3];
          const afterNh = v + 4 + nhLen;
          if (afterNh + 1 > next || !this.nextHopField(v + 4, nhLen)) return false;
          if (!nlriIsValid(b, afterNh + 1, next, afi, addPath)) return false;
          s.mpAfi = afi; s.mpNlriAt = afterNh + 1; s.mpNlriEnd = next;
          break;
        }
        case MP_UNREACH_NLRI: {
          if (length < 3) return false;
          const afi = u16(b, v);
          const safi = b[v + 2];
          if ((afi !== 1 && afi !== 2) || (safi !== 1 && safi !== 2)) break;
          if (!nlriIsValid(b, v + 3, next, afi, addPath)) return false;
          s.unreachAfi = afi; s.unreachAt = v + 3; s.unreachEnd = next;
          break;
        }
        default:
          break;
      }
    }
    return true;
  }

  /** Notes the first next hop of an MP_REACH next hop field of `length` bytes at `at`; false when the length names no family. */
  private nextHopField(at: number, length: number): boolean {
    if (length !== 4 && length !== 16 && length !== 32) return false;
    this.scan.mpNextHopAt = at;
    this.scan.mpNextHopLen = length === 4 ? 4 : 16;
    return true;
  }

  /** Bytes a tail of the scanned attributes can take at most. */
  private tailBound(attrBytes: number): number {
    return LINE_FIXED_BYTES + 4 * attrBytes;
  }

  /** Writes the text of the address of `len` (4 or 16) bytes at `o`. */
  private address(b: Uint8Array, o: number, len: number): void {
    if (len === 4) this.out.ipv4(b, o);
    else this.out.ascii(formatIpv6Bytes(b, o, INET_NTOP));
  }

  /** The peer's address, formatted once for a run of records from one peer. */
  private peerAddress(b: Uint8Array, o: number, len: number): void {
    if (len === 4) { this.out.ipv4(b, o); return; }
    const last = this.lastPeerBytes;
    let same = this.lastPeerLen === len;
    for (let i = 0; same && i < len; i++) same = last[i] === b[o + i];
    if (!same) {
      for (let i = 0; i < len; i++) last[i] = b[o + i];
      this.lastPeerLen = len;
      this.lastPeerText = formatIpv6Bytes(b, o, INET_NTOP);
    }
    this.out.ascii(this.lastPeerText);
  }

  /** Writes one prefix at `o` (length byte, then its bytes) of `afi`, host bits cleared; returns the offset after it. */
  private prefix(b: Uint8Array, o: number, afi: number): number {
    const bits = b[o];
    const n = (bits + 7) >> 3;
    const p = this.prefixBytes;
    const width = afi === 1 ? 4 : 16;
    for (let i = 0; i < width; i++) p[i] = i < n ? b[o + 1 + i] : 0;
    if ((bits & 7) !== 0) p[n - 1] &= (0xff << (8 - (bits & 7))) & 0xff;
    this.address(p, 0, width);
    this.out.byte(SLASH);
    this.out.uint(bits);
    return o + 1 + n;
  }

  /** Writes the route tail (AS path to aggregator, with the trailing `|`) of the scanned attributes. */
  private tail(b: Uint8Array, as4: boolean, mpNextHop: boolean): void {
    const s = this.scan;
    const w = this.out;
    if (s.asPathAt !== NONE) this.asPath(b, s.asPathAt, s.asPathEnd, as4 ? 4 : 2);
    w.byte(PIPE);
    w.ascii(ORIGIN_TEXT[s.hasOrigin ? s.origin : 2]);
    w.byte(PIPE);
    if (mpNextHop && s.mpNextHopAt !== NONE) this.address(b, s.mpNextHopAt, s.mpNextHopLen);
    else if (s.nextHopAt !== NONE) w.ipv4(b, s.nextHopAt);
    else w.ascii(NO_NEXT_HOP);
    w.byte(PIPE);
    w.uint(s.localPref);
    w.byte(PIPE);
    w.uint(s.med);
    w.byte(PIPE);
    if (s.communitiesAt !== NONE) {
      for (let o = s.communitiesAt; o < s.communitiesEnd; o += 4) {
        if (o > s.communitiesAt) w.byte(SPACE);
        const c = u32(b, o);
        if (c === 0xffffff01) w.ascii('no-export');
        else if (c === 0xffffff02) w.ascii('no-advertise');
        else if (c === 0xffffff03) w.ascii('local-AS');
        else { w.uint(c >>> 16); w.byte(0x3a); w.uint(c & 0xffff); }
      }
    }
    w.byte(PIPE);
    w.ascii(s.atomic ? 'AG' : 'NAG');
    w.byte(PIPE);
    if (s.aggregatorAt !== NONE) {
      const a = s.aggregatorAt;
      w.uint(as4 ? u32(b, a) : u16(b, a));
      w.byte(SPACE);
      w.ipv4(b, a + (as4 ? 4 : 2));
    }
    w.byte(PIPE);
  }

  /** As `formatAsPath`, from the wire. */
  private asPath(b: Uint8Array, o: number, end: number, asBytes: number): void {
    const w = this.out;
    let prevType = 2;
    let space = false;
    let any = false;
    while (o < end) {
      const type = b[o];
      const count = b[o + 1];
      o += 2;
      any = true;
      if (prevType !== 2) w.byte(CLOSE[prevType]);
      if (space) w.byte(SPACE);
      if (type !== 2) w.byte(OPEN[type]);
      space = false;
      const sep = type === 1 || type === 4 ? 0x2c : SPACE;
      for (let i = 0; i < count; i++, o += asBytes) {
        if (space) w.byte(sep); else space = true;
        w.uint(asBytes === 4 ? u32(b, o) : u16(b, o));
      }
      prevType = type;
    }
    if (any && prevType !== 2) w.byte(CLOSE[prevType]);
  }

  /** Writes one A or B line's route part: `prefix|[pathId|]tail`, the tail copied when this generation has it. */
  private routeLine(b: Uint8Array, prefixAt: number, afi: number, pathId: number, as4: boolean, mpNextHop: boolean,
    tail: { start: number; end: number; generation: number }): void {
    const w = this.out;
    this.prefix(b, prefixAt, afi);
    w.byte(PIPE);
    if (pathId >= 0) { w.uint(pathId); w.byte(PIPE); }
    if (tail.generation === w.generation && tail.start >= 0) {
      w.repeat(tail.start, tail.end);
    } else {
      tail.start = w.position;
      this.tail(b, as4, mpNextHop);
      tail.end = w.position;
      tail.generation = w.generation;
    }
    w.endLine();
  }

  private bgp4mp(h: MrtHeader, b: Uint8Array, o: number, end: number): number {
    const st = h.subtype;
    const isState = st === BGP4MP.STATE_CHANGE || st === BGP4MP.STATE_CHANGE_AS4;
    const isMessage = st === BGP4MP.MESSAGE || (st >= BGP4MP.MESSAGE_AS4 && st <= BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH && st !== BGP4MP.STATE_CHANGE_AS4);
    if (!isState && !isMessage) return -1;
    const et = h.type === MRT_TYPE.BGP4MP_ET;
    let p = o;
    let micro = 0;
    if (et) {
      if (p + 4 > end) return -1;
      micro = u32(b, p);
      p += 4;
    }
    const as4 = st === BGP4MP.MESSAGE_AS4 || st === BGP4MP.STATE_CHANGE_AS4 || st === BGP4MP.MESSAGE_AS4_LOCAL
      || st === BGP4MP.MESSAGE_AS4_ADDPATH || st === BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH;
    const asBytes = as4 ? 4 : 2;
    if (p + 2 * asBytes + 4 > end) return -1;
    const afi = u16(b, p + 2 * asBytes + 2);
    if (afi !== 1 && afi !== 2) return -1;
    const alen = afi === 1 ? 4 : 16;
    const local = st === BGP4MP.MESSAGE_LOCAL || st === BGP4MP.MESSAGE_AS4_LOCAL || st === BGP4MP.MESSAGE_LOCAL_ADDPATH || st === BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH;
    // A message the collector sent is shown from its own side, as bgpdump does.
    const asAt = local ? p + asBytes : p;
    const peerAs = as4 ? u32(b, asAt) : u16(b, asAt);
    p += 2 * asBytes + 4;
    if (p + 2 * alen > end) return -1;
    const peerAt = local ? p + alen : p;
    p += 2 * alen;
    const w = this.out;
    if (isState) {
      if (p + 4 > end) return -1;
      w.reserve(LINE_FIXED_BYTES);
      this.head(et ? 'BGP4MP_ET' : 'BGP4MP', h.timestamp, et, micro, 'STATE', b, peerAt, alen, peerAs);
      w.uint(u16(b, p)); w.byte(PIPE); w.uint(u16(b, p + 2));
      w.endLine();
      return 1;
    }
    // RFC 4271 4.1: 16-byte marker, 2-byte length, 1-byte type.
    if (p + 19 > end) return -1;
    for (let i = 0; i < 16; i++) if (b[p + i] !== 0xff) return -1;
    const msgLen = u16(b, p + 16);
    if (msgLen < 19 || p + msgLen > end) return -1;
    const msgEnd = p + msgLen;
    if (b[p + 18] !== 2) return 0;
    p += 19;
    // UPDATE (RFC 4271 4.3).
    if (p + 2 > msgEnd) return -1;
    const wLen = u16(b, p);
    const wStart = p + 2;
    if (wStart + wLen + 2 > msgEnd) return -1;
    const aLenAt = wStart + wLen;
    const aLen = u16(b, aLenAt);
    const aStart = aLenAt + 2;
    const aEnd = aStart + aLen;
    if (aEnd > msgEnd) return -1;
    const addPath = st >= BGP4MP.MESSAGE_ADDPATH && st <= BGP4MP.MESSAGE_AS4_LOCAL_ADDPATH;
    if (!nlriIsValid(b, wStart, aLenAt, 1, addPath)) return -1;
    if (!this.scanAttributes(b, aStart, aEnd, as4, 0, addPath)) return -1;
    if (!nlriIsValid(b, aEnd, msgEnd, 1, addPath)) return -1;
    const source = BGP4MP_SOURCE[(et ? 4 : 0) | (local ? 2 : 0) | (addPath ? 1 : 0)];
    const s = this.scan;
    let lines = 0;
    // The lines of one record share their head but for the type: written once each, then copied.
    const wHead = { start: -1, end: -1, generation: -1 };
    const aHead = { start: -1, end: -1, generation: -1 };
    const head = (type: 'W' | 'A', cache: { start: number; end: number; generation: number }): void => {
      if (cache.generation === w.generation) { w.repeat(cache.start, cache.end); return; }
      cache.start = w.position;
      this.head(source, h.timestamp, et, micro, type, b, peerAt, alen, peerAs);
      cache.end = w.position;
      cache.generation = w.generation;
    };
    const withdraw = (from: number, to: number, wafi: number): void => {
      for (let q = from; q < to;) {
        let pathId = -1;
        if (addPath) { pathId = u32(b, q); q += 4; }
        w.reserve(LINE_FIXED_BYTES);
        head('W', wHead);
        q = this.prefix(b, q, wafi);
        if (pathId >= 0) { w.byte(PIPE); w.uint(pathId); }
        w.endLine();
        lines++;
      }
    };
    withdraw(wStart, aLenAt, 1);
    if (s.unreachAt !== NONE) withdraw(s.unreachAt, s.unreachEnd, s.unreachAfi);
    const bound = this.tailBound(aLen);
    const announce = (from: number, to: number, nafi: number, mpNextHop: boolean): void => {
      const tail = { start: -1, end: -1, generation: -1 };
      for (let q = from; q < to;) {
        let pathId = -1;
        if (addPath) { pathId = u32(b, q); q += 4; }
        w.reserve(bound);
        head('A', aHead);
        const prefixAt = q;
        q += 1 + ((b[q] + 7) >> 3);
        this.routeLine(b, prefixAt, nafi, pathId, as4, mpNextHop, tail);
        lines++;
      }
    };
    announce(aEnd, msgEnd, 1, false);
    if (s.mpNlriAt !== NONE) announce(s.mpNlriAt, s.mpNlriEnd, s.mpAfi, true);
    return lines;
  }

  /** `source|time|type|peer|peerAS|` */
  private head(source: string, timestamp: number, et: boolean, micro: number, type: string, b: Uint8Array, peerAt: number, alen: number, peerAs: number): void {
    const w = this.out;
    w.ascii(source);
    w.byte(PIPE);
    w.uint(timestamp);
    if (et) { w.byte(DOT); w.zeroPadded6(micro); }
    w.byte(PIPE);
    w.ascii(type);
    w.byte(PIPE);
    this.peerAddress(b, peerAt, alen);
    w.byte(PIPE);
    w.uint(peerAs);
    w.byte(PIPE);
  }

  /** `source|time|B|peer|peerAS|` of a RIB line, kept per peer while the source and time stay. */
  private ribHead(source: string, timestamp: number, peerIndex: number, peer: MrtPeer): void {
    const w = this.out;
    if (this.ribHeadSource !== source || this.ribHeadTime !== timestamp || this.ribHeadPeers !== this.peers) {
      this.ribHeads = [];
      this.ribHeadSource = source;
      this.ribHeadTime = timestamp;
      this.ribHeadPeers = this.peers;
    }
    const cached = this.ribHeads[peerIndex];
    if (cached !== undefined) { w.append(cached); return; }
    const start = w.position;
    w.ascii(source); w.byte(PIPE); w.uint(timestamp); w.byte(PIPE); w.byte(0x42); w.byte(PIPE);
    w.ascii(peer.address); w.byte(PIPE); w.uint(peer.asn); w.byte(PIPE);
    this.ribHeads[peerIndex] = w.copyOut(start, w.position);
  }

  private rib(h: MrtHeader, b: Uint8Array, o: number, end: number): number {
    const peers = this.peers;
    if (peers === undefined) return -1;
    const afi = h.subtype === 2 || h.subtype === 3 || h.subtype === 8 || h.subtype === 9 ? 1 : 2;
    const addPath = h.subtype >= 8;
    let p = o + 4;
    if (p >= end) return -1;
    const prefixAt = p;
    const bits = b[p];
    if (bits > (afi === 1 ? 32 : 128)) return -1;
    p += 1 + ((bits + 7) >> 3);
    if (p + 2 > end) return -1;
    const count = u16(b, p);
    p += 2;
    // Check every entry before writing any line: a bad one makes the whole record an error. Attributes
    // already written once were checked then.
    const entriesAt = p;
    const context = TAIL_RIB + afi;
    const hashes = this.ribHashes;
    const known = this.ribKnown;
    const tails = this.tails;
    for (let i = 0; i < count; i++) {
      if (p + (addPath ? 12 : 8) > end) return -1;
      if (u16(b, p) >= peers.length) return -1;
      p += addPath ? 10 : 6;
      const attrLen = u16(b, p);
      p += 2;
      if (p + attrLen > end) return -1;
      const hash = hashBytes(b, p, p + attrLen, context);
      const found = tails.find(hash, context, b, p, p + attrLen);
      if (!found && !this.scanAttributes(b, p, p + attrLen, true, afi, false)) return -1;
      hashes[i] = hash;
      known[i] = found;
      p += attrLen;
    }
    const source = addPath ? 'TABLE_DUMP2_AP' : 'TABLE_DUMP2';
    const w = this.out;
    p = entriesAt;
    for (let i = 0; i < count; i++) {
      const peerIndex = u16(b, p);
      const peer = peers[peerIndex];
      let pathId = -1;
      p += 6;
      if (addPath) { pathId = u32(b, p); p += 4; }
      const attrLen = u16(b, p);
      p += 2;
      w.reserve(this.tailBound(attrLen));
      this.ribHead(source, h.timestamp, peerIndex, peer);
      this.prefix(b, prefixAt, afi);
      w.byte(PIPE);
      if (pathId >= 0) { w.uint(pathId); w.byte(PIPE); }
      // Found again: an entry kept for an earlier entry of this record may have taken its slot.
      if (known[i] && tails.find(hashes[i], context, b, p, p + attrLen)) {
        w.appendFrom(tails.arena, tails.textAt, tails.textLength);
      } else {
        this.scanAttributes(b, p, p + attrLen, true, afi, false);
        const start = w.position;
        this.tail(b, true, true);
        tails.keep(hashes[i], context, b, p, p + attrLen, w.chunk, start, w.position);
      }
      w.endLine();
      p += attrLen;
    }
    return count;
  }

  private tableDump(h: MrtHeader, b: Uint8Array, o: number, end: number): number {
    const afi = h.subtype;
    if (afi !== 1 && afi !== 2) return -1;
    const n = afi === 1 ? 4 : 16;
    if (o + 4 + n + 2 + 4 + n + 2 + 2 > end) return -1;
    let p = o + 4;
    const addrAt = p;
    p += n;
    const bits = b[p];
    if (bits > n * 8) return -1;
    p += 6;
    const peerAt = p;
    p += n;
    const peerAs = u16(b, p);
    const attrLen = u16(b, p + 2);
    p += 4;
    if (p + attrLen > end) return -1;
    const context = TAIL_TABLE_DUMP + afi;
    const tails = this.tails;
    const tailHash = hashBytes(b, p, p + attrLen, context);
    const tailKnown = tails.find(tailHash, context, b, p, p + attrLen);
    if (!tailKnown && !this.scanAttributes(b, p, p + attrLen, false, afi, false)) return -1;
    const w = this.out;
    w.reserve(this.tailBound(attrLen));
    // The head is that of the peer (address and AS, the 2 + n bytes at peerAt) at this time.
    const heads = this.heads;
    const headHash = hashBytes(b, peerAt, peerAt + n + 2, 0);
    if (heads.find(headHash, h.timestamp, b, peerAt, peerAt + n + 2)) {
      w.appendFrom(heads.arena, heads.textAt, heads.textLength);
    } else {
      const start = w.position;
      w.ascii('TABLE_DUMP'); w.byte(PIPE); w.uint(h.timestamp); w.byte(PIPE); w.ascii('B'); w.byte(PIPE);
      this.address(b, peerAt, n); w.byte(PIPE); w.uint(peerAs); w.byte(PIPE);
      heads.keep(headHash, h.timestamp, b, peerAt, peerAt + n + 2, w.chunk, start, w.position);
    }
    // The prefix is a full-width address here (RFC 6396 4.2), its host bits cleared for the text.
    const q = this.prefixBytes;
    for (let i = 0; i < n; i++) q[i] = b[addrAt + i];
    const whole = bits >> 3;
    if (whole < n) {
      q[whole] &= (0xff << (8 - (bits & 7))) & 0xff;
      for (let i = whole + 1; i < n; i++) q[i] = 0;
    }
    this.address(q, 0, n); w.byte(SLASH); w.uint(bits); w.byte(PIPE);
    if (tailKnown) {
      w.appendFrom(tails.arena, tails.textAt, tails.textLength);
    } else {
      const start = w.position;
      this.tail(b, false, true);
      tails.keep(tailHash, context, b, p, p + attrLen, w.chunk, start, w.position);
    }
    w.endLine();
    return 1;
  }
}
