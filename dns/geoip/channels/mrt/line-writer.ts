/**
 * `bgpdump -m` lines written straight into large byte chunks: no string per field or per line,
 * and one write per chunk. Produces exactly the bytes of `formatBgpdumpLine` plus a newline.
 */
import type { AsPathSegment, PathAttributes } from '../bgp/attributes';
import type { MrtElement } from './elements';

/** Bytes of one chunk handed on; a line longer than this gets a chunk of its own size. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Chunks kept for reuse once their consumer is done with them. */
const SPARE_CHUNKS = 4;

const PIPE = 0x7c;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const DOT = 0x2e;
const ORIGIN_BYTES = ['IGP', 'EGP', 'INCOMPLETE'];
/** What bgpdump prints for a route without a next hop (its INADDR_NONE placeholder). */
const NO_NEXT_HOP = '255.255.255.255';
/** Opening and closing characters of AS_SET (1), AS_CONFED_SEQUENCE (3) and AS_CONFED_SET (4). */
const OPEN = [0, 0x7b, 0, 0x28, 0x5b];
const CLOSE = [0, 0x7d, 0, 0x29, 0x5d];
/** Decimal digits of a u32 at most, and the `:` or space around each community. */
const U32_DIGITS = 10;

/**
 * Decimal text of 0..999, four bytes each: up to three digits, then their count. Numbers are
 * written a table entry at a time (an IPv4 octet is one), which costs far less than a division
 * per digit.
 */
const SMALL = new Uint8Array(4000);
/** Decimal text of 0..999 zero-padded to three digits (the lower groups of a larger number). */
const PADDED = new Uint8Array(3000);
for (let i = 0; i < 1000; i++) {
  const t = String(i);
  for (let j = 0; j < t.length; j++) SMALL[4 * i + j] = t.charCodeAt(j);
  SMALL[4 * i + 3] = t.length;
  const z = t.padStart(3, '0');
  for (let j = 0; j < 3; j++) PADDED[3 * i + j] = z.charCodeAt(j);
}

/** Formats elements as `bgpdump -m` lines into chunks of about `chunkBytes`, passing each full chunk to `emit`. */
export class BgpdumpLineWriter {
  private buf: Buffer;
  private pos = 0;
  /** Counts emitted chunks: byte positions taken before a change of generation are no longer in the buffer. */
  generation = 0;
  /** The route tail last written, and where its bytes are in `buf` (the elements of one UPDATE share it). */
  private tailAttributes: PathAttributes | undefined = undefined;
  private tailAsPath: readonly AsPathSegment[] | undefined = undefined;
  private tailNextHop = '';
  private tailStart = -1;
  private tailEnd = -1;

  /** Chunks handed back through `reuse`, written into again instead of fresh memory. */
  private readonly spares: Buffer[] = [];

  constructor(private readonly emit: (chunk: Buffer) => void, private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /**
   * Takes back an emitted chunk its consumer no longer holds (a stream's write callback ran), so
   * that a long dump writes into a few chunks rather than fresh memory (and page faults) per chunk.
   */
  reuse(chunk: Buffer): void {
    const whole = chunk.buffer;
    if (this.spares.length >= SPARE_CHUNKS || chunk.byteOffset !== 0 || whole.byteLength !== this.chunkBytes) return;
    this.spares.push(Buffer.from(whole, 0, this.chunkBytes));
  }

  /** Bytes written and not yet emitted. */
  get pending(): number { return this.pos; }

  /** Emits what is written, if anything. */
  flush(): void {
    if (this.pos === 0) return;
    const out = this.buf.subarray(0, this.pos);
    // The chunk now belongs to the consumer (a stream may hold it until written): start another.
    this.buf = this.spares.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.pos = 0;
    this.tailStart = -1;
    this.generation++;
    this.emit(out);
  }

  /** Appends the line of `e` (with its newline). */
  write(e: MrtElement): void {
    this.reserve(lineBound(e));
    this.ascii(e.source);
    this.byte(PIPE);
    this.uint(e.timestamp);
    if (e.microseconds !== undefined) {
      this.byte(DOT);
      this.zeroPadded6(e.microseconds);
    }
    this.byte(PIPE);
    this.ascii(e.type);
    this.byte(PIPE);
    this.ascii(e.peerAddress);
    this.byte(PIPE);
    this.uint(e.peerAs);
    this.byte(PIPE);
    if (e.type === 'STATE') {
      this.uint(e.oldState);
      this.byte(PIPE);
      this.uint(e.newState);
    } else {
      this.ascii(e.prefix);
      if (e.type === 'W') {
        if (e.pathId !== undefined) { this.byte(PIPE); this.uint(e.pathId); }
      } else {
        this.byte(PIPE);
        if (e.pathId !== undefined) { this.uint(e.pathId); this.byte(PIPE); }
        this.routeTail(e);
      }
    }
    this.byte(NEWLINE);
    if (this.pos >= this.chunkBytes) this.flush();
  }

  /** Makes room for `n` more bytes, emitting the chunk first when it would overflow. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /** Where the next byte goes (valid until `generation` changes). */
  get position(): number { return this.pos; }

  /** Ends a line, emitting the chunk when it is full. */
  endLine(): void {
    this.buf[this.pos++] = NEWLINE;
    if (this.pos >= this.chunkBytes) this.flush();
  }

  /** Appends again the bytes at `[start, end)` of this generation (a tail shared by lines). */
  repeat(start: number, end: number): void {
    this.buf.copyWithin(this.pos, start, end);
    this.pos += end - start;
  }

  /** A copy of the bytes at `[start, end)` of this generation. */
  copyOut(start: number, end: number): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, start, end);
  }

  /** The chunk being written (valid until `generation` changes). */
  get chunk(): Buffer { return this.buf; }

  /** Appends the `length` bytes at `start` of `src`. */
  appendFrom(src: Uint8Array, start: number, length: number): void {
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < length; i++) b[p + i] = src[start + i];
    this.pos = p + length;
  }

  /** Appends `bytes`. */
  append(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** One byte (the caller reserved room, as for every method below). */
  byte(c: number): void { this.buf[this.pos++] = c; }

  /** Dotted-quad text of the 4 bytes at `o` of `src`. */
  ipv4(src: Uint8Array, o: number): void {
    this.small(src[o]); this.byte(DOT); this.small(src[o + 1]); this.byte(DOT); this.small(src[o + 2]); this.byte(DOT); this.small(src[o + 3]);
  }

  /** Text known to be ASCII (addresses, prefixes, names of this module). */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Decimal text of an unsigned 32-bit integer. */
  uint(n: number): void {
    if (n < 1000) { this.small(n); return; }
    const low = n % 1000;
    this.uint((n - low) / 1000);
    this.padded(low);
  }

  /** Decimal text of 0..999. */
  private small(n: number): void {
    const b = this.buf;
    const p = this.pos;
    const k = n << 2;
    const len = SMALL[k + 3];
    b[p] = SMALL[k];
    if (len > 1) { b[p + 1] = SMALL[k + 1]; if (len > 2) b[p + 2] = SMALL[k + 2]; }
    this.pos = p + len;
  }

  /** Three decimal digits of 0..999, zero-padded. */
  private padded(n: number): void {
    const b = this.buf;
    const p = this.pos;
    const k = 3 * n;
    b[p] = PADDED[k]; b[p + 1] = PADDED[k + 1]; b[p + 2] = PADDED[k + 2];
    this.pos = p + 3;
  }

  /** Six decimal digits, zero-padded (BGP4MP_ET microseconds; larger values, which RFC 6396 does not expect, print whole). */
  zeroPadded6(n: number): void {
    if (n >= 1_000_000) { this.uint(n); return; }
    const low = n % 1000;
    this.padded((n - low) / 1000);
    this.padded(low);
  }

  /** Everything after the prefix (and path id) of an A or B line, copied when it repeats the last one. */
  private routeTail(e: MrtElement): void {
    const a = e.attributes as PathAttributes;
    if (this.tailStart >= 0 && this.tailAttributes === a && this.tailAsPath === e.asPath && this.tailNextHop === e.nextHop) {
      const n = this.tailEnd - this.tailStart;
      this.buf.copyWithin(this.pos, this.tailStart, this.tailEnd);
      this.pos += n;
      return;
    }
    const start = this.pos;
    this.asPath(e.asPath);
    this.byte(PIPE);
    this.ascii(ORIGIN_BYTES[a.origin ?? 2]);
    this.byte(PIPE);
    this.ascii(e.nextHop === '' ? NO_NEXT_HOP : e.nextHop);
    this.byte(PIPE);
    this.uint(a.localPref ?? 0);
    this.byte(PIPE);
    this.uint(a.med ?? 0);
    this.byte(PIPE);
    if (a.communities !== undefined) this.communities(a.communities);
    this.byte(PIPE);
    this.ascii(a.atomicAggregate ? 'AG' : 'NAG');
    this.byte(PIPE);
    const agg = e.aggregator;
    if (agg !== undefined) {
      this.uint(agg.asn);
      this.byte(SPACE);
      this.ascii(agg.address);
    }
    this.byte(PIPE);
    this.tailAttributes = a;
    this.tailAsPath = e.asPath;
    this.tailNextHop = e.nextHop;
    this.tailStart = start;
    this.tailEnd = this.pos;
  }

  /** As `formatAsPath`: sequences space-separated, `{a,b}` AS_SET, `(a b)` confederation sequence, `[a,b]` confederation set. */
  private asPath(segments: readonly AsPathSegment[]): void {
    let prevType = 2;
    let space = false;
    for (const seg of segments) {
      if (prevType !== 2) this.byte(CLOSE[prevType]);
      if (space) this.byte(SPACE);
      if (seg.type !== 2) this.byte(OPEN[seg.type]);
      space = false;
      const sep = seg.type === 1 || seg.type === 4 ? 0x2c : SPACE;
      for (const asn of seg.asns) {
        if (space) this.byte(sep); else space = true;
        this.uint(asn);
      }
      prevType = seg.type;
    }
    if (segments.length > 0 && prevType !== 2) this.byte(CLOSE[prevType]);
  }

  /** As `formatCommunities`: `asn:value`, and the well-known names. */
  private communities(communities: readonly number[]): void {
    for (let i = 0; i < communities.length; i++) {
      if (i > 0) this.byte(SPACE);
      const c = communities[i];
      if (c === 0xffffff01) this.ascii('no-export');
      else if (c === 0xffffff02) this.ascii('no-advertise');
      else if (c === 0xffffff03) this.ascii('local-AS');
      else { this.uint(c >>> 16); this.byte(COLON); this.uint(c & 0xffff); }
    }
  }
}

/** An upper bound on the bytes of `e`'s line, cheap to compute: fixed fields plus the variable lists. */
function lineBound(e: MrtElement): number {
  let n = 200 + e.source.length + e.peerAddress.length + e.prefix.length + e.nextHop.length;
  if (e.type !== 'A' && e.type !== 'B') return n;
  for (const seg of e.asPath) n += 2 + seg.asns.length * (U32_DIGITS + 1);
  const c = e.attributes?.communities;
  if (c !== undefined) n += c.length * (2 * U32_DIGITS + 2);
  if (e.aggregator !== undefined) n += e.aggregator.address.length;
  return n;
}
