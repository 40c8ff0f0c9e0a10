/**
 * The hot-prefix cache's file format: a 16-byte header, then fixed-size 28-byte records appended
 * in the order prefixes were seen. Every record carries its own CRC-32, so a record damaged on disk
 * is dropped alone, and the file length tells a torn last write (a SIGKILL mid-append) apart from
 * whole records. All integers are little-endian.
 *
 * Header (16 bytes):
 *   0  u32  magic 'MHPC' (0x4d485043, written little-endian: bytes 43 50 48 4d)
 *   4  u16  version (1)
 *   6  u16  record size in bytes (28)
 *   8  u32  reserved, 0
 *   12 u32  CRC-32 of bytes 0..11
 *
 * Record (28 bytes):
 *   0  u8   family: 4 or 6
 *   1  u8   reserved, 0
 *   2  u16  country: two ASCII letters packed by `packCountry`, 0 when unknown
 *   4  u32  IPv4: the /24's network address; IPv6: the /48's first word
 *   8  u32  IPv4: 0; IPv6: the /48's second word (its low 16 bits 0)
 *   12 i32  latitude in units of 1e-7 degree
 *   16 i32  longitude in units of 1e-7 degree
 *   20 u32  when the prefix was last seen, seconds since the epoch
 *   24 u32  CRC-32 of bytes 0..23
 */
import { GeoIpError } from '../errors';

/** 'MHPC' as a u32. */
export const HOT_CACHE_MAGIC = 0x4d485043;
/** The format version this code writes and reads. */
export const HOT_CACHE_VERSION = 1;
/** Bytes of the file header. */
export const HOT_CACHE_HEADER_BYTES = 16;
/** Bytes of one record. */
export const HOT_CACHE_RECORD_BYTES = 28;
/** Coordinates are stored as integers of this many units per degree (1e-7 degree is about 1.1 cm). */
export const COORDINATE_UNITS_PER_DEGREE = 1e7;

/** One cached prefix as stored: the key, its location and when it was last seen. */
export interface HotCacheRecord {
  readonly family: 4 | 6;
  /** IPv4: the /24's network address (low 8 bits 0); IPv6: the first word of the /48. */
  readonly word0: number;
  /** IPv4: 0; IPv6: the second word of the /48 (low 16 bits 0). */
  readonly word1: number;
  /** Latitude in 1e-7 degree units. */
  readonly latE7: number;
  /** Longitude in 1e-7 degree units. */
  readonly lonE7: number;
  /** `packCountry()` code, 0 when unknown. */
  readonly country: number;
  /** Seconds since the epoch. */
  readonly seenSeconds: number;
}

/** The header fields a reader checks. */
export interface HotCacheHeader {
  readonly version: number;
  readonly recordBytes: number;
}

/** Why a record or header was refused. */
export type HotCacheDecodeReason = 'short' | 'magic' | 'version' | 'checksum' | 'family' | 'prefix' | 'location' | 'reserved';

/** A header or record that is not what this format allows; `reason` says which check failed. */
export class HotCacheDecodeError extends GeoIpError {
  /** The failed check. */
  readonly reason: HotCacheDecodeReason;
  /** Byte offset of the header or record in the buffer given to the decoder. */
  readonly offset: number;

  constructor(reason: HotCacheDecodeReason, offset: number, message: string) {
    super('GEOIP_BAD_DATA', `hot-prefix cache: ${message} at offset ${offset}`);
    this.reason = reason;
    this.offset = offset;
  }
}

// IEEE 802.3 CRC-32 (the polynomial of zlib and PNG), slicing-by-4: four tables let each step
// fold in four bytes. node:zlib's crc32 only exists from Node 20.15, and a native call per 24-byte
// record would cost more than this loop.
const CRC_TABLES = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) t[256 * k + n] = (t[256 * (k - 1) + n] >>> 8) ^ t[t[256 * (k - 1) + n] & 0xff];
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib computes it) of `length` bytes of `bytes` from `offset`. */
export function crc32(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= bytes.length)) {
    throw new RangeError(`crc32: ${length} bytes at offset ${offset} do not fit a ${bytes.length}-byte buffer`);
  }
  const t = CRC_TABLES;
  let c = -1;
  let i = offset;
  const end = offset + length;
  for (const end4 = end - 3; i < end4; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

// Little-endian word access by bytes: Buffer's own readUInt32LE/writeUInt32LE validate their
// arguments on every call, which is most of the cost of a 28-byte record. Callers check bounds.
function get32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** The u32 at `offset` of a record or header, little-endian (the caller checks bounds). */
export function readWordLE(b: Uint8Array, offset: number): number {
  return get32(b, offset);
}

function fits(buf: Uint8Array, offset: number, bytes: number): boolean {
  return Number.isInteger(offset) && offset >= 0 && offset + bytes <= buf.length;
}

/** Writes the header at `offset`; returns the bytes written. Throws `RangeError` when it does not fit. */
export function encodeHeader(buf: Buffer, offset = 0): number {
  if (!fits(buf, offset, HOT_CACHE_HEADER_BYTES)) throw new RangeError(`a cache header needs ${HOT_CACHE_HEADER_BYTES} bytes at offset ${offset}`);
  buf.writeUInt32LE(HOT_CACHE_MAGIC, offset);
  buf.writeUInt16LE(HOT_CACHE_VERSION, offset + 4);
  buf.writeUInt16LE(HOT_CACHE_RECORD_BYTES, offset + 6);
  buf.writeUInt32LE(0, offset + 8);
  buf.writeUInt32LE(crc32(buf, offset, 12), offset + 12);
  return HOT_CACHE_HEADER_BYTES;
}

/** Reads and checks the header at `offset`; throws `HotCacheDecodeError` naming what is wrong. */
export function decodeHeader(buf: Buffer, offset = 0): HotCacheHeader {
  if (!fits(buf, offset, HOT_CACHE_HEADER_BYTES)) {
    throw new HotCacheDecodeError('short', offset, `a header needs ${HOT_CACHE_HEADER_BYTES} bytes, ${Math.max(0, buf.length - offset)} left`);
  }
  const magic = buf.readUInt32LE(offset);
  if (magic !== HOT_CACHE_MAGIC) throw new HotCacheDecodeError('magic', offset, `magic is 0x${magic.toString(16)}, not 0x${HOT_CACHE_MAGIC.toString(16)}`);
  if (buf.readUInt32LE(offset + 12) !== crc32(buf, offset, 12)) throw new HotCacheDecodeError('checksum', offset, 'header checksum does not match');
  const version = buf.readUInt16LE(offset + 4);
  const recordBytes = buf.readUInt16LE(offset + 6);
  if (version !== HOT_CACHE_VERSION || recordBytes !== HOT_CACHE_RECORD_BYTES) {
    throw new HotCacheDecodeError('version', offset, `version ${version} with ${recordBytes}-byte records; this reader knows version ${HOT_CACHE_VERSION} with ${HOT_CACHE_RECORD_BYTES}-byte records`);
  }
  return { version, recordBytes };
}

/**
 * Writes one record at `offset` from its fields; returns the bytes written. Does not allocate, so
 * the cache's drain can encode straight from its columns. Throws `RangeError` when it does not fit.
 */
export function encodeRecordFields(buf: Buffer, offset: number, family: 4 | 6, word0: number, word1: number,
  latE7: number, lonE7: number, country: number, seenSeconds: number): number {
  if (!fits(buf, offset, HOT_CACHE_RECORD_BYTES)) throw new RangeError(`a cache record needs ${HOT_CACHE_RECORD_BYTES} bytes at offset ${offset}`);
  buf[offset] = family;
  buf[offset + 1] = 0;
  buf[offset + 2] = country;
  buf[offset + 3] = country >>> 8;
  put32(buf, offset + 4, word0);
  put32(buf, offset + 8, word1);
  put32(buf, offset + 12, latE7);
  put32(buf, offset + 16, lonE7);
  put32(buf, offset + 20, seenSeconds);
  put32(buf, offset + 24, crc32(buf, offset, 24));
  return HOT_CACHE_RECORD_BYTES;
}

/** Writes `r` at `offset`; returns the bytes written. */
export function encodeRecord(r: HotCacheRecord, buf: Buffer, offset = 0): number {
  return encodeRecordFields(buf, offset, r.family, r.word0, r.word1, r.latE7, r.lonE7, r.country, r.seenSeconds);
}

/**
 * Checks the record at `offset` without allocating: `undefined` when valid, else why not. The
 * loader uses this so that a file full of garbage costs no exception per record.
 */
export function checkRecord(buf: Buffer, offset: number): HotCacheDecodeReason | undefined {
  if (!fits(buf, offset, HOT_CACHE_RECORD_BYTES)) return 'short';
  if (get32(buf, offset + 24) !== crc32(buf, offset, 24)) return 'checksum';
  const family = buf[offset];
  if (family !== 4 && family !== 6) return 'family';
  if (buf[offset + 1] !== 0) return 'reserved';
  const word0 = get32(buf, offset + 4);
  const word1 = get32(buf, offset + 8);
  if (family === 4 ? (word0 & 0xff) !== 0 || word1 !== 0 : (word1 & 0xffff) !== 0) return 'prefix';
  const lat = get32(buf, offset + 12) | 0;
  const lon = get32(buf, offset + 16) | 0;
  if (lat < -90 * COORDINATE_UNITS_PER_DEGREE || lat > 90 * COORDINATE_UNITS_PER_DEGREE
    || lon < -180 * COORDINATE_UNITS_PER_DEGREE || lon > 180 * COORDINATE_UNITS_PER_DEGREE) return 'location';
  return undefined;
}

const REASON_TEXT: Record<HotCacheDecodeReason, string> = {
  short: 'record is cut short',
  magic: 'bad magic',
  version: 'unknown version',
  checksum: 'record checksum does not match',
  family: 'family is neither 4 nor 6',
  prefix: 'host bits set below the /24 or /48',
  location: 'coordinates out of range',
  reserved: 'reserved byte is not 0',
};

/** Reads the record at `offset`; throws `HotCacheDecodeError` naming the failed check. */
export function decodeRecord(buf: Buffer, offset = 0): HotCacheRecord {
  const bad = checkRecord(buf, offset);
  if (bad !== undefined) throw new HotCacheDecodeError(bad, offset, REASON_TEXT[bad]);
  return {
    family: buf[offset] as 4 | 6,
    country: buf.readUInt16LE(offset + 2),
    word0: buf.readUInt32LE(offset + 4),
    word1: buf.readUInt32LE(offset + 8),
    latE7: buf.readInt32LE(offset + 12),
    lonE7: buf.readInt32LE(offset + 16),
    seenSeconds: buf.readUInt32LE(offset + 20),
  };
}
