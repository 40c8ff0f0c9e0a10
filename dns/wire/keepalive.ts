import { HEADER_LENGTH, MAX_TCP_MESSAGE, QTYPE } from './constants';

/** EDNS option code of edns-tcp-keepalive (RFC 7828 §3.1). */
export const EDNS_OPTION_TCP_KEEPALIVE = 11;

/** Offset just past the (possibly compressed) name at `off`, or -1 when it runs past `end`. */
function skipName(msg: Uint8Array, off: number, end: number): number {
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
 * Offset of the RDLENGTH field of the message's OPT record (RFC 6891 §6.1.2), or -1 when it has
 * none or the message is malformed. Walks every section, bounds-checked.
 */
export function findOptRdlength(msg: Uint8Array): number {
  if (msg.length < HEADER_LENGTH) return -1;
  const count = (i: number): number => (msg[4 + 2 * i]! << 8) | msg[5 + 2 * i]!;
  const end = msg.length;
  let off = HEADER_LENGTH;
  for (let q = count(0); q > 0; q--) {
    off = skipName(msg, off, end);
    if (off < 0 || off + 4 > end) return -1;
    off += 4;
  }
  const records = count(1) + count(2) + count(3);
  const additionalFrom = count(1) + count(2);
  for (let r = 0; r < records; r++) {
    off = skipName(msg, off, end);
    if (off < 0 || off + 10 > end) return -1;
    const type = (msg[off]! << 8) | msg[off + 1]!;
    const rdlength = (msg[off + 8]! << 8) | msg[off + 9]!;
    if (off + 10 + rdlength > end) return -1;
    if (type === QTYPE.OPT && r >= additionalFrom) return off + 8;
    off += 10 + rdlength;
  }
  return -1;
}

/** True when the query's OPT record carries an edns-tcp-keepalive option (any length: RFC 7828 §3.2.1 asks clients for none). */
export function tcpKeepaliveRequested(query: Uint8Array): boolean {
  const at = findOptRdlength(query);
  if (at < 0) return false;
  const end = at + 2 + ((query[at]! << 8) | query[at + 1]!);
  for (let off = at + 2; off + 4 <= end;) {
    const code = (query[off]! << 8) | query[off + 1]!;
    if (code === EDNS_OPTION_TCP_KEEPALIVE) return true;
    off += 4 + ((query[off + 2]! << 8) | query[off + 3]!);
  }
  return false;
}

/**
 * The response with an edns-tcp-keepalive option carrying `timeout` (units of 100 ms) appended to
 * its OPT record (RFC 7828 §3.3.2). A response without OPT, or one that would outgrow a TCP
 * message, is returned as it is.
 */
export function withTcpKeepalive(response: Buffer, timeout: number): Buffer {
  const at = findOptRdlength(response);
  if (at < 0 || response.length + 6 > MAX_TCP_MESSAGE) return response;
  const rdlength = response.readUInt16BE(at);
  const insertAt = at + 2 + rdlength;
  const out = Buffer.allocUnsafe(response.length + 6);
  response.copy(out, 0, 0, insertAt);
  out.writeUInt16BE(rdlength + 6, at);
  out.writeUInt16BE(EDNS_OPTION_TCP_KEEPALIVE, insertAt);
  out.writeUInt16BE(2, insertAt + 2);
  out.writeUInt16BE(timeout & 0xffff, insertAt + 4);
  response.copy(out, insertAt + 6, insertAt);
  return out;
}
