/**
 * NLRI prefixes (RFC 4271 4.3, RFC 4760 5) with optional ADD-PATH path identifiers (RFC 7911 3),
 * and the address text the BGP and MRT codecs share. Decoding is bounds-checked and throws
 * `BgpDecodeError`; encoding is its inverse for canonical input.
 */
import { parseIp } from '../../ip';
import { formatIpv6Bytes, type Ipv6FormatOptions } from '../../../ip';
import { BgpDecodeError } from './decode-error';

/** Address Family Identifier of IPv4 (IANA "Address Family Numbers"). */
export const AFI_IPV4 = 1;
/** Address Family Identifier of IPv6. */
export const AFI_IPV6 = 2;
/** Subsequent AFI: unicast forwarding (RFC 4760 6). */
export const SAFI_UNICAST = 1;
/** Subsequent AFI: multicast forwarding (RFC 4760 6). */
export const SAFI_MULTICAST = 2;

/** The address families whose prefixes this codec reads. */
export type Afi = typeof AFI_IPV4 | typeof AFI_IPV6;

/** One NLRI prefix; `pathId` only when the session or record carries ADD-PATH identifiers. */
export interface NlriPrefix {
  /** Canonical CIDR text: network address with host bits clear, e.g. `193.0.0.0/21`. */
  readonly prefix: string;
  /** RFC 7911 path identifier. */
  readonly pathId?: number;
}

/** True when `afi` is one this codec decodes. */
export function isKnownAfi(afi: number): afi is Afi {
  return afi === AFI_IPV4 || afi === AFI_IPV6;
}

/** Bytes of one address of `afi`. */
export function addressBytes(afi: Afi): number {
  return afi === AFI_IPV4 ? 4 : 16;
}

/** Dotted-quad text of the 4 bytes at `offset` (caller checked the bounds). */
export function formatIpv4At(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** inet_ntop(3)'s IPv6 text, so output matches C tools (bgpdump, BIRD). */
const INET_NTOP: Ipv6FormatOptions = Object.freeze({ dottedTail: true });

/**
 * Text of the 16-byte IPv6 address at `offset` (caller checked the bounds), exactly as
 * inet_ntop(3) writes it: RFC 5952 zero compression, and IPv4-mapped (`::ffff:a.b.c.d`) and
 * IPv4-compatible (`::a.b.c.d`) addresses with a dotted tail, so output matches C tools.
 */
export function formatIpv6At(buf: Uint8Array, offset: number): string {
  return formatIpv6Bytes(buf, offset, INET_NTOP);
}

/** Text of the address of `afi` at `offset`; throws `BGP_ERR_TRUNCATED` when it runs past `end`. */
export function decodeAddress(buf: Uint8Array, offset: number, end: number, afi: Afi): string {
  const n = addressBytes(afi);
  if (offset + n > end) {
    throw new BgpDecodeError('BGP_ERR_TRUNCATED', offset, `an ${afi === AFI_IPV4 ? 'IPv4' : 'IPv6'} address needs ${n} bytes, ${end - offset} left`);
  }
  return afi === AFI_IPV4 ? formatIpv4At(buf, offset) : formatIpv6At(buf, offset);
}

/** The family and 4 or 16 network-order bytes of address text; throws a RangeError naming the text. */
export function encodeAddress(text: string): { afi: Afi; bytes: Uint8Array } {
  let parsed;
  try {
    parsed = parseIp(text);
  } catch (e) {
    throw new RangeError(`"${text}" is not an IPv4 or IPv6 address`, { cause: e });
  }
  if (parsed.version === 4) {
    const v = parsed.value >>> 0;
    return { afi: AFI_IPV4, bytes: Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255) };
  }
  const bytes = new Uint8Array(16);
  parsed.words.forEach((w, i) => {
    bytes[4 * i] = w >>> 24; bytes[4 * i + 1] = (w >>> 16) & 255; bytes[4 * i + 2] = (w >>> 8) & 255; bytes[4 * i + 3] = w & 255;
  });
  return { afi: AFI_IPV6, bytes };
}

const SCRATCH = new Uint8Array(16);

/** Checks the prefix at `offset` (length byte, then its bytes) against `end`; returns its length in bits. */
function prefixBits(buf: Uint8Array, offset: number, end: number, afi: Afi): number {
  if (offset >= end) throw new BgpDecodeError('BGP_ERR_TRUNCATED', offset, 'a prefix length byte is missing');
  const bits = buf[offset];
  const max = afi === AFI_IPV4 ? 32 : 128;
  if (bits > max) throw new BgpDecodeError('BGP_ERR_BAD_PREFIX', offset, `prefix length ${bits} exceeds ${max} bits`);
  const n = (bits + 7) >> 3;
  if (offset + 1 + n > end) throw new BgpDecodeError('BGP_ERR_TRUNCATED', offset, `a /${bits} prefix needs ${n} bytes, ${end - offset - 1} left`);
  return bits;
}

/** Canonical text of the checked `/bits` prefix whose bytes start at `start`, host bits cleared. */
function prefixText(buf: Uint8Array, start: number, bits: number, afi: Afi): string {
  const n = (bits + 7) >> 3;
  if (afi === AFI_IPV4) {
    const v = ((n > 0 ? buf[start] << 24 : 0) | (n > 1 ? buf[start + 1] << 16 : 0) | (n > 2 ? buf[start + 2] << 8 : 0) | (n > 3 ? buf[start + 3] : 0)) &
      (bits === 0 ? 0 : -1 << (32 - bits));
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${bits}`;
  }
  SCRATCH.fill(0);
  for (let i = 0; i < n; i++) SCRATCH[i] = buf[start + i];
  if ((bits & 7) !== 0) SCRATCH[n - 1] &= (0xff << (8 - (bits & 7))) & 0xff;
  return `${formatIpv6At(SCRATCH, 0)}/${bits}`;
}

/**
 * Decodes one length-prefixed prefix (RFC 4271 4.3: length in bits, then the fewest whole bytes)
 * at `offset`. Host bits past the length are cleared, so the text is canonical. Returns the text
 * and the offset after it.
 */
export function decodePrefix(buf: Uint8Array, offset: number, end: number, afi: Afi): { prefix: string; next: number } {
  const bits = prefixBits(buf, offset, end, afi);
  return { prefix: prefixText(buf, offset + 1, bits, afi), next: offset + 1 + ((bits + 7) >> 3) };
}

/**
 * Decodes the prefixes filling `[offset, end)` (the NLRI or Withdrawn Routes field of an UPDATE,
 * or the NLRI of MP_REACH/MP_UNREACH). With `addPath`, each is preceded by a 4-byte path
 * identifier (RFC 7911 3).
 */
export function decodePrefixes(buf: Uint8Array, offset: number, end: number, afi: Afi, addPath: boolean): NlriPrefix[] {
  if (end > buf.length) throw new BgpDecodeError('BGP_ERR_TRUNCATED', buf.length, `the NLRI field ends at byte ${end}, past the buffer`);
  const out: NlriPrefix[] = [];
  let o = offset;
  while (o < end) {
    if (addPath) {
      if (o + 4 > end) throw new BgpDecodeError('BGP_ERR_TRUNCATED', o, `an ADD-PATH path identifier needs 4 bytes, ${end - o} left`);
      const pathId = ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
      const bits = prefixBits(buf, o + 4, end, afi);
      out.push({ prefix: prefixText(buf, o + 5, bits, afi), pathId });
      o += 5 + ((bits + 7) >> 3);
    } else {
      const bits = prefixBits(buf, o, end, afi);
      out.push({ prefix: prefixText(buf, o + 1, bits, afi) });
      o += 1 + ((bits + 7) >> 3);
    }
  }
  return out;
}

/** Parses canonical-or-not CIDR text into its family, bit length and address bytes. */
function parsePrefixText(text: string): { afi: Afi; bits: number; bytes: Uint8Array } {
  const slash = text.indexOf('/');
  if (slash < 0) throw new RangeError(`prefix "${text}" has no "/length"`);
  const { afi, bytes } = encodeAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const bits = Number(lenText);
  const max = afi === AFI_IPV4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || bits > max) throw new RangeError(`prefix "${text}" has a length outside 0..${max}`);
  return { afi, bits, bytes };
}

/** Bytes `prefixes` take on the wire (with 4-byte path identifiers when `addPath`). */
export function prefixesEncodingLength(prefixes: readonly NlriPrefix[], addPath: boolean): number {
  let n = 0;
  for (const p of prefixes) n += (addPath ? 4 : 0) + 1 + ((parsePrefixText(p.prefix).bits + 7) >> 3);
  return n;
}

/** Encodes one prefix (length byte and its bytes) at `offset` of `buf`; returns the offset after it. */
export function encodePrefixInto(buf: Uint8Array, offset: number, prefix: string, afi: Afi): number {
  const p = parsePrefixText(prefix);
  if (p.afi !== afi) throw new RangeError(`prefix "${prefix}" is not of address family ${afi}`);
  const n = (p.bits + 7) >> 3;
  buf[offset] = p.bits;
  buf.set(p.bytes.subarray(0, n), offset + 1);
  if ((p.bits & 7) !== 0) buf[offset + n] &= (0xff << (8 - (p.bits & 7))) & 0xff;
  return offset + 1 + n;
}

/**
 * Encodes `prefixes` of family `afi` (the inverse of `decodePrefixes`). With `addPath`, a prefix
 * without a path identifier is written with identifier 0.
 */
export function encodePrefixes(prefixes: readonly NlriPrefix[], afi: Afi, addPath: boolean): Uint8Array {
  const buf = new Uint8Array(prefixesEncodingLength(prefixes, addPath));
  let o = 0;
  for (const p of prefixes) {
    if (addPath) {
      const id = p.pathId ?? 0;
      buf[o] = id >>> 24; buf[o + 1] = (id >>> 16) & 255; buf[o + 2] = (id >>> 8) & 255; buf[o + 3] = id & 255;
      o += 4;
    }
    o = encodePrefixInto(buf, o, p.prefix, afi);
  }
  return buf;
}
