/**
 * IP address text and bytes: parsing, canonical formatting (RFC 5952) and word access. A leaf
 * module shared by the DNS wire codec and the GeoIP table, so neither imports the other for it.
 */
import { isIP } from 'node:net';

/** A parsed IPv4 address: one unsigned 32-bit number. */
export interface ParsedIpv4 {
  readonly version: 4;
  /** The address as an unsigned 32-bit integer (network byte order value). */
  readonly value: number;
}

/** A parsed IPv6 address: four unsigned 32-bit words, most significant first. */
export interface ParsedIpv6 {
  readonly version: 6;
  /** The 128 bits as four big-endian u32 words. */
  readonly words: readonly [number, number, number, number];
}

/** Either family. */
export type ParsedIp = ParsedIpv4 | ParsedIpv6;

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

/**
 * Reads the 16 bytes of an IPv6 address at `offset` as four big-endian u32 words; throws
 * `RangeError` when the buffer is too short.
 */
export function readV6Words(bytes: Uint8Array, offset = 0): [number, number, number, number] {
  if (!(offset >= 0 && offset + 16 <= bytes.length)) throw new RangeError(`an IPv6 address needs 16 bytes at offset ${offset}, buffer has ${bytes.length}`);
  const w = (o: number): number => ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
  return [w(offset), w(offset + 4), w(offset + 8), w(offset + 12)];
}
