import { isIP } from 'node:net';
import { GeoIpError } from './errors';
import type { ParsedIp } from './types';

/** Four big-endian u32 words of an IPv6 address. */
export type V6Words = readonly [number, number, number, number];

/** Parses IPv4 or IPv6 text; undefined when it is not an address. */
export function tryParseIp(text: string): ParsedIp | undefined {
  if (typeof text !== 'string') return undefined;
  // net.isIP does the strict validation (no leading zeros, one '::'); below we only convert.
  const version = isIP(text);
  if (version === 4) return { version: 4, value: parseValidV4(text, 0, text.length) };
  if (version === 6) {
    // Zone ids (fe80::1%eth0) name a link, not a location: they are not addresses we can place.
    if (text.includes('%')) return undefined;
    return { version: 6, words: parseValidV6(text) };
  }
  return undefined;
}

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

function parseValidV4(text: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 48);
    }
  }
  return value * 256 + octet;
}

function parseValidV6(text: string): V6Words {
  const groups = new Array<number>(8).fill(0);
  const split = text.indexOf('::');
  const head = split >= 0 ? text.slice(0, split) : text;
  const tail = split >= 0 ? text.slice(split + 2) : '';
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        // RFC 4291 section 2.2 form 3: the last 32 bits written as dotted IPv4.
        const v4 = parseValidV4(g, 0, g.length);
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  for (let i = 0; i < h.length; i++) groups[i] = h[i];
  for (let i = 0; i < t.length; i++) groups[8 - t.length + i] = t[i];
  return [
    (groups[0] * 65536 + groups[1]) >>> 0,
    (groups[2] * 65536 + groups[3]) >>> 0,
    (groups[4] * 65536 + groups[5]) >>> 0,
    (groups[6] * 65536 + groups[7]) >>> 0,
  ];
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:0:0/96`, RFC 4291 2.5.5.2), else -1. */
export function mappedV4(words: V6Words): number {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff ? words[3] : -1;
}

/** Dotted-quad text of an unsigned 32-bit IPv4 address. */
export function formatIpv4(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Canonical IPv6 text (RFC 5952: lower case, longest zero run of 2+ groups as `::`). */
export function formatIpv6(words: V6Words): string {
  const g: number[] = [];
  for (const w of words) g.push((w >>> 16) & 0xffff, w & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number, b: number): string => g.slice(a, b).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Reads the 16 bytes of an IPv6 address at `offset` as four big-endian u32 words. */
export function v6WordsOf(bytes: Uint8Array, offset = 0): [number, number, number, number] {
  if (offset < 0 || offset + 16 > bytes.length) {
    throw new GeoIpError('GEOIP_BAD_ADDRESS', `an IPv6 address needs 16 bytes at offset ${offset}, buffer has ${bytes.length}`);
  }
  const w = (o: number): number => ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
  return [w(offset), w(offset + 4), w(offset + 8), w(offset + 12)];
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
  // Walk from the /32 outwards; a block fits while both of its ends stay inside the range.
  let len = 32;
  let size = 1;
  while (len > 0) {
    const nextSize = size * 2;
    const blockStart = a - (a % nextSize);
    if (blockStart < s || blockStart + nextSize - 1 > e) break;
    size = nextSize;
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
