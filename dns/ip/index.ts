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

/** How IPv6 text is written. */
export interface Ipv6FormatOptions {
  /**
   * Write IPv4-compatible (`::a.b.c.d`) and IPv4-mapped (`::ffff:a.b.c.d`) addresses with a dotted
   * IPv4 tail, exactly as inet_ntop(3) does, so text matches C tools such as bgpdump.
   */
  readonly dottedTail?: boolean;
}

/**
 * Canonical text (RFC 5952 4.2: lower case, the first longest run of two or more zero groups as
 * `::`) of the 16-byte IPv6 address at `offset`; throws `RangeError` when the buffer is too short.
 */
export function formatIpv6Bytes(bytes: Uint8Array, offset = 0, options?: Ipv6FormatOptions): string {
  if (!(offset >= 0 && offset + 16 <= bytes.length)) throw new RangeError(`an IPv6 address needs 16 bytes at offset ${offset}, buffer has ${bytes.length}`);
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (bytes[offset + 2 * i] !== 0 || bytes[offset + 2 * i + 1] !== 0) { runStart = -1; continue; }
    if (runStart < 0) runStart = i;
    if (i - runStart + 1 > bestLen) { bestStart = runStart; bestLen = i - runStart + 1; }
  }
  if (bestStart < 0) bestLen = 0;
  if (options?.dottedTail === true && bestStart === 0
    && (bestLen === 6 || (bestLen === 5 && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff))) {
    const o = offset + 12;
    return `::${bestLen === 5 ? 'ffff:' : ''}${bytes[o]}.${bytes[o + 1]}.${bytes[o + 2]}.${bytes[o + 3]}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) { out += '::'; i += bestLen - 1; continue; }
    if (i > 0 && i !== bestStart + bestLen) out += ':';
    out += ((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]).toString(16);
  }
  return out;
}

const WORD_BYTES = new Uint8Array(16);

/** Canonical IPv6 text of four big-endian u32 words (see `formatIpv6Bytes`). */
export function formatIpv6(words: V6Words, options?: Ipv6FormatOptions): string {
  for (let i = 0; i < 4; i++) {
    const w = words[i];
    WORD_BYTES[4 * i] = w >>> 24; WORD_BYTES[4 * i + 1] = (w >>> 16) & 255; WORD_BYTES[4 * i + 2] = (w >>> 8) & 255; WORD_BYTES[4 * i + 3] = w & 255;
  }
  return formatIpv6Bytes(WORD_BYTES, 0, options);
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
