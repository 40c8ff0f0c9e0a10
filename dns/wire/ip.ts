import { isIPv4, isIPv6 } from 'node:net';
import { formatIpv4, formatIpv6, readV6Words, tryParseIp } from '../ip';

/** IPv4 text to an unsigned 32-bit number, or -1 when the text is not a dotted quad. Allocation-free. */
export function ipv4ToUint(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** An unsigned 32-bit number as dotted-quad text. */
export const uintToIpv4 = formatIpv4;

/** IPv6 text (with `::`, an optional dotted-quad tail and an optional zone id) to 16 bytes; throws on bad text. */
export function ipv6ToBytes(text: string): Buffer {
  // A zone id (fe80::1%eth0) names the link the address is on: it has no place in the 16 bytes.
  const zone = typeof text === 'string' ? text.indexOf('%') : -1;
  const parsed = tryParseIp(zone >= 0 ? text.slice(0, zone) : text);
  if (parsed?.version !== 6 || (zone >= 0 && !isIPv6(text))) throw new TypeError(`not an IPv6 address: '${text}'`);
  const buf = Buffer.alloc(16);
  parsed.words.forEach((w, i) => buf.writeUInt32BE(w, i * 4));
  return buf;
}

/** 16 bytes as canonical IPv6 text (RFC 5952: lower case, longest zero run compressed). */
export function bytesToIpv6(buf: Uint8Array, offset = 0): string {
  return formatIpv6(readV6Words(buf, offset));
}

/** IPv4 text to 4 bytes; throws on bad text. */
export function ipv4ToBytes(text: string): Buffer {
  if (!isIPv4(text)) throw new TypeError(`not an IPv4 address: '${text}'`);
  const n = ipv4ToUint(text);
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(n >>> 0, 0);
  return buf;
}
