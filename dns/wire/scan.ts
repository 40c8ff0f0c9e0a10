import { HEADER_LENGTH, QTYPE } from './constants';

// Allocation-free, bounds-checked walks over a DNS message's wire bytes (RFC 1035 §4.1), for the server's per-packet checks.

/** Offset just past the (possibly compressed) name at `off`, or -1 when it runs past `end`. */
export function skipName(msg: Uint8Array, off: number, end: number): number {
  for (let hops = 0; hops < 128 && off < end; hops++) {
    const len = msg[off]!;
    if (len === 0) return off + 1;
    // RFC 1035 §4.1.4: a pointer ends the name in two octets.
    if ((len & 0xc0) === 0xc0) return off + 2 <= end ? off + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    off += 1 + len;
  }
  return -1;
}

/**
 * Offset of the owner name of the message's OPT record (RFC 6891 §6.1.2), or -1 when it has none
 * in its additional section or the message is malformed. Walks every section, bounds-checked.
 */
export function findOptRecord(msg: Uint8Array): number {
  let off = questionEnd(msg);
  if (off < 0) return -1;
  const count = (i: number): number => (msg[4 + 2 * i]! << 8) | msg[5 + 2 * i]!;
  const additionalFrom = count(1) + count(2);
  const records = additionalFrom + count(3);
  for (let r = 0; r < records; r++) {
    const start = off;
    off = skipName(msg, off, msg.length);
    if (off < 0 || off + 10 > msg.length) return -1;
    const type = (msg[off]! << 8) | msg[off + 1]!;
    const rdlength = (msg[off + 8]! << 8) | msg[off + 9]!;
    if (off + 10 + rdlength > msg.length) return -1;
    if (type === QTYPE.OPT && r >= additionalFrom) return start;
    off += 10 + rdlength;
  }
  return -1;
}

/** Offset of the RDLENGTH field of the message's OPT record, or -1 (see `findOptRecord`). */
export function findOptRdlength(msg: Uint8Array): number {
  const start = findOptRecord(msg);
  return start < 0 ? -1 : skipName(msg, start, msg.length) + 8;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over the lower-cased labels of the name at `off` (following compression pointers, RFC
 * 1035 §4.1.4), each label hashed with its length byte so label boundaries count; -1 when the name
 * is malformed or runs past the message.
 */
export function hashNameAt(msg: Uint8Array, off: number): number {
  let h = FNV_OFFSET;
  for (let hops = 0; hops < 128 && off < msg.length; hops++) {
    const len = msg[off]!;
    if (len === 0) return Math.imul(h, FNV_PRIME) >>> 0;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length) return -1;
      off = ((len & 0x3f) << 8) | msg[off + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0 || off + 1 + len > msg.length) return -1;
    h = Math.imul(h ^ len, FNV_PRIME);
    for (let i = off + 1; i <= off + len; i++) {
      let c = msg[i]!;
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    off += 1 + len;
  }
  return -1;
}

/** Offset just past the question section (QDCOUNT questions), or -1 when it runs past the message. */
export function questionEnd(msg: Uint8Array): number {
  if (msg.length < HEADER_LENGTH) return -1;
  let off = HEADER_LENGTH;
  for (let q = (msg[4]! << 8) | msg[5]!; q > 0; q--) {
    off = skipName(msg, off, msg.length);
    if (off < 0 || off + 4 > msg.length) return -1;
    off += 4;
  }
  return off;
}

/**
 * Offset of the first EDNS option `code` in the message's OPT record (its 2-byte code; length at +2,
 * data at +4), or -1 when there is none or the message is malformed.
 */
export function findEdnsOption(msg: Uint8Array, code: number): number {
  const at = findOptRdlength(msg);
  if (at < 0) return -1;
  const end = at + 2 + ((msg[at]! << 8) | msg[at + 1]!);
  for (let off = at + 2; off + 4 <= end;) {
    const len = (msg[off + 2]! << 8) | msg[off + 3]!;
    if (off + 4 + len > end) return -1;
    if (((msg[off]! << 8) | msg[off + 1]!) === code) return off;
    off += 4 + len;
  }
  return -1;
}
