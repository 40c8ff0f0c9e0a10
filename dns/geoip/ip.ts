import { GeoIpError } from './errors';
import { formatIpv4, formatIpv6, readV6Words, tryParseIp, type V6Words } from '../ip';
import type { ParsedIp } from './types';

export { formatIpv4, formatIpv6, mappedV4, tryParseIp, type V6Words } from '../ip';

/** Parses IPv4 or IPv6 text; throws `GeoIpError` `GEOIP_BAD_ADDRESS` naming the text. */
export function parseIp(text: string): ParsedIp {
  const parsed = tryParseIp(text);
  if (!parsed) {
    throw new GeoIpError('GEOIP_BAD_ADDRESS', `not an IPv4 or IPv6 address: ${JSON.stringify(String(text)).slice(0, 80)}`);
  }
  return parsed;
}

/** Parses dotted-quad IPv4 text to an unsigned 32-bit number; throws `GEOIP_BAD_ADDRESS`. */
export function parseIpv4(text: string): number {
  const parsed = tryParseIp(text);
  if (parsed?.version !== 4) throw new GeoIpError('GEOIP_BAD_ADDRESS', `not an IPv4 address: ${JSON.stringify(String(text)).slice(0, 80)}`);
  return parsed.value;
}

/** Reads the 16 bytes of an IPv6 address at `offset` as four big-endian u32 words. */
export function v6WordsOf(bytes: Uint8Array, offset = 0): [number, number, number, number] {
  if (offset < 0 || offset + 16 > bytes.length) {
    throw new GeoIpError('GEOIP_BAD_ADDRESS', `an IPv6 address needs 16 bytes at offset ${offset}, buffer has ${bytes.length}`);
  }
  return readV6Words(bytes, offset);
}

/**
 * The shortest prefix length L (0..32) such that the /L block containing `ip` lies within
 * `[start, end]` (inclusive u32 bounds). This is the ECS scope that the entry justifies
 * (RFC 7871 section 7.2.1). Throws `GEOIP_BAD_RANGE` when `ip` is outside the range.
 */
export function widestPrefixWithin(ip: number, start: number, end: number): number {
  const a = ip >>> 0;
  const s = start >>> 0;
  const e = end >>> 0;
  if (a < s || a > e) {
    throw new GeoIpError('GEOIP_BAD_RANGE', `${formatIpv4(a)} is outside ${formatIpv4(s)}-${formatIpv4(e)}`);
  }
  // Walk from the /32 outwards; a block fits while both of its ends stay inside the range. The
  // ends come from bit masks (host bits cleared or set): the answer path calls this per query,
  // and a floating-point remainder per step cost more than the rest of it.
  let len = 32;
  let host = 0;
  while (len > 0) {
    const next = ((host << 1) | 1) >>> 0;
    if ((a & ~next) >>> 0 < s || (a | next) >>> 0 > e) break;
    host = next;
    len--;
  }
  return len;
}

/** Compares two 128-bit addresses given as word arrays: negative, zero or positive. */
export function compareV6(a: V6Words, b: V6Words): number {
  for (let i = 0; i < 4; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** The first address of the /`len` block containing `words`. */
export function v6BlockStart(words: V6Words, len: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    out[i] = (words[i] & mask) >>> 0;
  }
  return out;
}

/** The last address of the /`len` block containing `words`. */
export function v6BlockEnd(words: V6Words, len: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    out[i] = (words[i] | ~mask) >>> 0;
  }
  return out;
}

/**
 * IPv6 twin of `widestPrefixWithin`: the shortest L (0..128) such that the /L block containing
 * `ip` lies within `[start, end]`. Throws `GEOIP_BAD_RANGE` when `ip` is outside the range.
 */
export function widestPrefixWithinV6(ip: V6Words, start: V6Words, end: V6Words): number {
  if (compareV6(ip, start) < 0 || compareV6(ip, end) > 0) {
    throw new GeoIpError('GEOIP_BAD_RANGE', `${formatIpv6(ip)} is outside ${formatIpv6(start)}-${formatIpv6(end)}`);
  }
  // Fitting is monotonic in L, so a binary search finds the boundary in 8 steps.
  let lo = 0;
  let hi = 128;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareV6(v6BlockStart(ip, mid), start) >= 0 && compareV6(v6BlockEnd(ip, mid), end) <= 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
