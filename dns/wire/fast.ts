import { CLASS_IN, ECS_FAMILY, EDNS_OPTION_COOKIE, EDNS_OPTION_ECS, EDNS_OPTION_NSID, FLAG, HEADER_LENGTH, MAX_NAME_LENGTH, QTYPE } from './constants';

/** Outcome of `parseQuery`. */
export const FastStatus = Object.freeze({
  /** A plain query: one question, optional single OPT; fields of the `FastQuery` are set. */
  OK: 0,
  /** Not for the fast path (compression in the question, extra records, other opcodes, malformed): decode fully. */
  SLOW: 1,
  /** A response or shorter than a header: never answer (RFC 1035 §4.1.1, avoids reflection loops). */
  DROP: 2,
  /** Well-formed framing but an invalid ECS option: answer FORMERR (RFC 7871 §7.1.2). */
  FORMERR: 3,
} as const);

/** Reusable holder for the parsed fields of one query (one per server: the fast path allocates nothing). */
export class FastQuery {
  id = 0;
  flags = 0;
  /** Offset just past the question section (the question is copied verbatim into answers, 0x20 case intact). */
  questionEnd = 0;
  qtype = 0;
  qclass = 0;
  /** FNV-1a hash of the lower-cased wire name. */
  nameHash = 0;
  hasOpt = false;
  udpSize = 0;
  ednsVersion = 0;
  /** DNSSEC OK bit of the OPT record (RFC 3225 §3: copied into the response). */
  dnssecOk = false;
  /** 0 = no ECS option, else 1 (IPv4) or 2 (IPv6). */
  ecsFamily = 0;
  ecsSourcePrefix = 0;
  /** Offset of the ECS address octets in the query. */
  ecsAddressOffset = 0;
  ecsAddressLength = 0;
  /** IPv4 ECS address as an unsigned 32-bit number (zero-padded). */
  ecsV4 = 0;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over a lower-cased wire name; the same function `parseQuery` applies to the question. */
export function hashWireName(wire: Uint8Array, start = 0, end = wire.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) {
    let c = wire[i]!;
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

/** True when `msg[start..]` equals the lower-case wire name `lower`, ignoring ASCII case (RFC 4343). */
export function wireNameEquals(msg: Uint8Array, start: number, lower: Uint8Array): boolean {
  if (start + lower.length > msg.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = msg[start + i]!;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower[i]) return false;
  }
  return true;
}

/**
 * Parses the header, the single question and an optional OPT record straight from the buffer,
 * writing into `out`. Bounds-checked; never throws and never allocates.
 */
export function parseQuery(msg: Buffer, out: FastQuery): number {
  const len = msg.length;
  if (len < HEADER_LENGTH) return FastStatus.DROP;
  const flags = (msg[2]! << 8) | msg[3]!;
  if (flags & 0x8000) return FastStatus.DROP;
  out.id = (msg[0]! << 8) | msg[1]!;
  out.flags = flags;
  // Opcode QUERY, exactly one question, nothing in answer/authority, at most one additional.
  if ((flags & 0x7800) !== 0) return FastStatus.SLOW;
  if (msg[4] !== 0 || msg[5] !== 1 || msg[6] !== 0 || msg[7] !== 0 || msg[8] !== 0 || msg[9] !== 0 || msg[10] !== 0) return FastStatus.SLOW;
  const arcount = msg[11]!;
  if (arcount > 1) return FastStatus.SLOW;
  let o = HEADER_LENGTH;
  let h = FNV_OFFSET;
  for (;;) {
    if (o >= len) return FastStatus.SLOW;
    const l = msg[o]!;
    // Compressed or reserved labels in a question are legal but rare: leave them to the full decoder.
    if (l > 63) return FastStatus.SLOW;
    if (o + 1 + l > len || o + 1 + l - HEADER_LENGTH > MAX_NAME_LENGTH) return FastStatus.SLOW;
    h = Math.imul(h ^ l, FNV_PRIME);
    const stop = o + 1 + l;
    for (let i = o + 1; i < stop; i++) {
      let c = msg[i]!;
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    o = stop;
    if (l === 0) break;
  }
  if (o + 4 > len) return FastStatus.SLOW;
  out.nameHash = h >>> 0;
  out.qtype = (msg[o]! << 8) | msg[o + 1]!;
  out.qclass = (msg[o + 2]! << 8) | msg[o + 3]!;
  o += 4;
  out.questionEnd = o;
  out.hasOpt = false;
  out.ecsFamily = 0;
  out.ecsSourcePrefix = 0;
  out.ednsVersion = 0;
  out.dnssecOk = false;
  out.udpSize = 0;
  if (arcount === 0) return o === len ? FastStatus.OK : FastStatus.SLOW;
  // OPT: root name, type 41 (RFC 6891 §6.1.2).
  if (o + 11 > len || msg[o] !== 0 || ((msg[o + 1]! << 8) | msg[o + 2]!) !== QTYPE.OPT) return FastStatus.SLOW;
  out.hasOpt = true;
  out.udpSize = (msg[o + 3]! << 8) | msg[o + 4]!;
  out.ednsVersion = msg[o + 6]!;
  out.dnssecOk = (msg[o + 7]! & 0x80) !== 0;
  const rdlen = (msg[o + 9]! << 8) | msg[o + 10]!;
  let p = o + 11;
  const end = p + rdlen;
  if (end !== len) return FastStatus.SLOW;
  while (p < end) {
    if (p + 4 > end) return FastStatus.SLOW;
    const code = (msg[p]! << 8) | msg[p + 1]!;
    const olen = (msg[p + 2]! << 8) | msg[p + 3]!;
    const data = p + 4;
    if (data + olen > end) return FastStatus.SLOW;
    // A cookie or NSID request is answered with options of its own: the full path writes them.
    if (code === EDNS_OPTION_COOKIE || code === EDNS_OPTION_NSID) return FastStatus.SLOW;
    if (code === EDNS_OPTION_ECS) {
      // RFC 7871 §6/§7.1.2: a malformed or repeated option is a FORMERR.
      if (out.ecsFamily !== 0 || olen < 4) return FastStatus.FORMERR;
      const family = (msg[data]! << 8) | msg[data + 1]!;
      const source = msg[data + 2]!;
      const scope = msg[data + 3]!;
      const max = family === ECS_FAMILY.IPV4 ? 32 : family === ECS_FAMILY.IPV6 ? 128 : 0;
      if (max === 0 || source > max || scope !== 0) return FastStatus.FORMERR;
      const octets = (source + 7) >>> 3;
      if (olen !== 4 + octets) return FastStatus.FORMERR;
      const rem = source & 7;
      if (rem !== 0 && (msg[data + 4 + octets - 1]! & (0xff >> rem)) !== 0) return FastStatus.FORMERR;
      out.ecsFamily = family;
      out.ecsSourcePrefix = source;
      out.ecsAddressOffset = data + 4;
      out.ecsAddressLength = octets;
      if (family === ECS_FAMILY.IPV4) {
        let v = 0;
        for (let i = 0; i < 4; i++) v = v * 256 + (i < octets ? msg[data + 4 + i]! : 0);
        out.ecsV4 = v;
      }
    }
    p = data + olen;
  }
  return FastStatus.OK;
}

/** True for a class the fast path answers (IN). */
export function isClassIn(qclass: number): boolean {
  return qclass === CLASS_IN;
}

/**
 * Length of the response `writeFastAnswer` makes for `q` with an `answerLength`-byte answer
 * section: without the records (TC set) when the whole would exceed `limit` bytes.
 */
export function fastAnswerLength(q: FastQuery, answerLength: number, limit: number): number {
  const optLen = q.hasOpt ? 11 + (q.ecsFamily !== 0 ? 8 + q.ecsAddressLength : 0) : 0;
  const total = q.questionEnd + answerLength + optLen;
  return total > limit ? q.questionEnd + optLen : total;
}

/**
 * The response to a query `parseQuery` accepted (`q` describes `msg`), built from a pre-encoded
 * answer section (`answer`, `count` records whose owners point at the question) in one
 * allocation. See `writeFastAnswer`.
 */
export function encodeFastAnswer(msg: Buffer, q: FastQuery, answer: Uint8Array | undefined, count: number, scope: number,
  maxUdpPayload: number, limit: number): Buffer {
  const out = Buffer.allocUnsafe(fastAnswerLength(q, answer === undefined ? 0 : answer.length, limit));
  writeFastAnswer(out, 0, msg, q, answer, count, scope, maxUdpPayload, limit);
  return out;
}

/**
 * Writes the response to a query `parseQuery` accepted (`q` describes `msg`) into `out` at `at`
 * and returns its length (`fastAnswerLength`; the caller makes sure it fits): the header with QR
 * and AA set and RD/CD copied, the question verbatim, the pre-encoded answer section (`answer`,
 * `count` records whose owners point at the question), and, when the query had an OPT, our OPT
 * advertising `maxUdpPayload`, DO copied (RFC 3225 §3), and the ECS option echoed with `scope`
 * (RFC 7871 §7.2.1). When the whole answer would exceed `limit` bytes the records are left out and
 * TC is set (RFC 2181 §9: never a partial RRset). Allocation-free.
 */
export function writeFastAnswer(out: Uint8Array, at: number, msg: Buffer, q: FastQuery, answer: Uint8Array | undefined, count: number,
  scope: number, maxUdpPayload: number, limit: number): number {
  const qEnd = q.questionEnd;
  const answerLength = answer === undefined ? 0 : answer.length;
  const ecsLen = q.ecsFamily !== 0 ? 8 + q.ecsAddressLength : 0;
  const optLen = q.hasOpt ? 11 + ecsLen : 0;
  let total = qEnd + answerLength + optLen;
  let an = answer === undefined ? 0 : count;
  let tc = 0;
  if (total > limit) {
    total = qEnd + optLen;
    an = 0;
    tc = FLAG.TC;
  }
  out[at] = msg[0]!;
  out[at + 1] = msg[1]!;
  const flags = FLAG.QR | FLAG.AA | tc | (q.flags & (FLAG.RD | FLAG.CD));
  out[at + 2] = flags >>> 8;
  out[at + 3] = flags & 0xff;
  out[at + 4] = 0;
  out[at + 5] = 1;
  out[at + 6] = an >>> 8;
  out[at + 7] = an & 0xff;
  out[at + 8] = 0;
  out[at + 9] = 0;
  out[at + 10] = 0;
  out[at + 11] = q.hasOpt ? 1 : 0;
  // Byte loops: Buffer#copy costs more than the few dozen bytes it would move here.
  for (let k = HEADER_LENGTH; k < qEnd; k++) out[at + k] = msg[k]!;
  let o = at + qEnd;
  if (an > 0) {
    if (answerLength <= 64) for (let k = 0; k < answerLength; k++) out[o + k] = answer![k]!;
    else out.set(answer!, o);
    o += answerLength;
  }
  if (q.hasOpt) {
    // RFC 6891 §6.1.2: root owner, type OPT, CLASS = our UDP payload size, TTL = ext-rcode, version, DO.
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = QTYPE.OPT;
    out[o + 3] = maxUdpPayload >>> 8;
    out[o + 4] = maxUdpPayload & 0xff;
    out[o + 5] = 0;
    out[o + 6] = 0;
    out[o + 7] = q.dnssecOk ? 0x80 : 0;
    out[o + 8] = 0;
    out[o + 9] = ecsLen >>> 8;
    out[o + 10] = ecsLen & 0xff;
    o += 11;
    if (ecsLen > 0) {
      // RFC 7871 §7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as received; SCOPE is ours.
      const olen = 4 + q.ecsAddressLength;
      out[o] = 0;
      out[o + 1] = EDNS_OPTION_ECS;
      out[o + 2] = olen >>> 8;
      out[o + 3] = olen & 0xff;
      out[o + 4] = 0;
      out[o + 5] = q.ecsFamily;
      out[o + 6] = q.ecsSourcePrefix;
      out[o + 7] = q.ecsSourcePrefix === 0 ? 0 : scope;
      for (let k = 0; k < q.ecsAddressLength; k++) out[o + 8 + k] = msg[q.ecsAddressOffset + k]!;
    }
  }
  return total;
}
