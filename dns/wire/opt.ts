import { MAX_TCP_MESSAGE } from './constants';
import { findEdnsOption, findOptRdlength } from './scan';

/** EDNS option code of edns-tcp-keepalive (RFC 7828 §3.1). */
export const EDNS_OPTION_TCP_KEEPALIVE = 11;

/** True when the query's OPT record carries an edns-tcp-keepalive option (any length: RFC 7828 §3.2.1 asks clients for none). */
export function tcpKeepaliveRequested(query: Uint8Array): boolean {
  return findEdnsOption(query, EDNS_OPTION_TCP_KEEPALIVE) >= 0;
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
