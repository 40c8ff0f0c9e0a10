/**
 * The hot-prefix cache: every client /24 (IPv4) and /48 (IPv6) answered in the last `ttlHours`,
 * with the location it was answered with, kept on disk so that a restart (even a SIGKILL) keeps it.
 * It is the table's lowest layer, used when the layers above know nothing about an address.
 *
 * Recording stays off the query path: `noteV4`/`noteV6` write a few numbers into a preallocated
 * ring of typed arrays (a small direct-mapped filter folds repeats of one prefix into one ring
 * slot). A timer drains the ring every `flushIntervalMs` into the index (`PrefixLru`) and appends
 * one record per drained prefix to the file (`hot-cache-file.ts`), then `fdatasync`s it. So a
 * crash loses at most the notes of the last interval (plus a write in flight). When the file holds
 * more than twice the live entries, it is rewritten from the index into a fresh file (written,
 * synced, renamed over the old one), least recently seen first, so reading it back in order
 * rebuilds the same recency order.
 */
import { copyFile, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GeoTable } from '../table';
import {
  checkRecord, COORDINATE_UNITS_PER_DEGREE, decodeHeader, encodeHeader, encodeRecordFields, HOT_CACHE_HEADER_BYTES,
  HOT_CACHE_RECORD_BYTES, HotCacheDecodeError, readWordLE, type HotCacheDecodeReason,
} from './hot-cache-file';
import { MAX_PREFIX_LRU_CAPACITY, mixKey, PrefixLru, V4_KEY_TAG } from './prefix-lru';
import { NoteFilter } from './note-filter';

/** The defaults the GeoDNS settings use: 2,000,000 prefixes, 72 hours, a write every second. */
export const HOT_CACHE_DEFAULTS = Object.freeze({ maxPrefixes: 2_000_000, ttlHours: 72, flushIntervalMs: 1_000 });

/** Options of `HotPrefixCache.open`. */
export interface HotPrefixCacheOptions {
  /** The cache file; its directory is created when missing. */
  readonly path: string;
  /** At most this many prefixes; the least recently seen is dropped first. */
  readonly maxPrefixes: number;
  /** Entries not seen for this long expire. */
  readonly ttlHours: number;
  /** How often the ring is drained and appended to the file. */
  readonly flushIntervalMs: number;
  /** The clock, ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** Distinct prefixes the ring holds between two drains (default 65,536); more are dropped and counted. */
  readonly ringCapacity?: number;
  /** The file is compacted when it holds more than max(2 x live entries, this many) records (default 65,536). */
  readonly minCompactRecords?: number;
  /** Where warnings go (a damaged file, a failed write); default nowhere (read `loadReport`/`stats()`). */
  readonly log?: (message: string) => void;
  /**
   * A prefix answered again from the same table within this many seconds is not noted again (its
   * last-seen time is this coarse); default min(300, ttlHours x 3600 / 16).
   */
  readonly renoteAfterSeconds?: number;
}

/** What `open()` found in the file. */
export interface HotCacheLoadReport {
  /** Whole records read (valid or not). */
  readonly records: number;
  /** Prefixes held after loading. */
  readonly loaded: number;
  /** Records skipped because they were older than `ttlHours`. */
  readonly expired: number;
  /** Damaged records dropped, by reason. */
  readonly dropped: Readonly<Partial<Record<HotCacheDecodeReason, number>>>;
  /** Bytes of a torn last record (a write cut short), ignored. */
  readonly tornBytes: number;
  /** The header was not this format's: nothing was read, the file was kept as `<path>.bad`. */
  readonly badHeader: string | undefined;
  /** The file was to be rewritten after loading (damage, or past the compaction threshold); a failed rewrite is in `warnings` and retried. */
  readonly rewritten: boolean;
  /** Wall time of the load, ms. */
  readonly loadMs: number;
  /** Each problem, in words. */
  readonly warnings: readonly string[];
}

/** Counters since `open()`. */
export interface HotCacheStats {
  readonly prefixes: number;
  /** Notes taken into the ring (repeats of a prefix between two drains count once). */
  readonly noted: number;
  /** Answers not noted because their prefix was noted from the same table within `renoteAfterSeconds`. */
  readonly repeatNotes: number;
  /** Notes refused because the ring was full. */
  readonly droppedNotes: number;
  /** Notes refused because the coordinates were out of range. */
  readonly rejectedNotes: number;
  /** Prefixes dropped by the size bound. */
  readonly evicted: number;
  /** Prefixes expired by age. */
  readonly expired: number;
  /** Records written to the file (appended or by compaction). */
  readonly writtenRecords: number;
  /** Records the file holds now. */
  readonly fileRecords: number;
  readonly compactions: number;
  readonly writeFailures: number;
  /** When the last write reached the disk, ms since the epoch; undefined before any. */
  readonly lastWriteAt: number | undefined;
  /** The last write error, undefined since the last success. */
  readonly lastError: string | undefined;
}

const DEFAULT_RING = 65_536;
const DEFAULT_MIN_COMPACT = 65_536;
// Records per read when loading and per write when compacting (~1 MiB).
const CHUNK_RECORDS = 37_449;

function checkOption(name: string, value: number, min: number, max: number): void {
  if (!(Number.isFinite(value) && value >= min && value <= max)) {
    throw new RangeError(`hot-prefix cache: ${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
}

/** The 72-hour cache of client prefixes and the locations they were answered with. */
export class HotPrefixCache {
  /** What loading the file found. */
  loadReport: HotCacheLoadReport;

  private readonly path: string;
  private readonly now: () => number;
  private readonly ttlSeconds: number;
  private readonly flushIntervalMs: number;
  private readonly minCompactRecords: number;
  private readonly log: (message: string) => void;
  private readonly lru: PrefixLru;

  // The ring: distinct prefixes noted since the last drain.
  private readonly ringA: Uint32Array;
  private readonly ringB: Uint32Array;
  private readonly ringLat: Int32Array;
  private readonly ringLon: Int32Array;
  private readonly ringCountry: Uint16Array;
  private readonly ringCapacity: number;
  private readonly earlyDrainAt: number;
  private ringCount = 0;
  // Direct-mapped: a prefix's hash -> its ring slot, so a repeat overwrites its slot.
  private readonly filter: Int32Array;
  private readonly filterMask: number;
  private drainQueued = false;
  // Prefixes noted lately from the table in force: a repeat costs one memory read.
  private readonly noteFilter: NoteFilter;
  private readonly drainSoon = (): void => { this.drainQueued = false; this.drain(); };

  // Records drained but not yet written; `spare` is the other half of a double buffer.
  private pending: Buffer;
  private pendingRecords = 0;
  private spare: Buffer;
  private fh: FileHandle | undefined;
  private fileBytes = 0;
  private fileRecords = 0;
  private rewriteNeeded = false;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastStamp = 0;

  private noted = 0;
  private droppedNotes = 0;
  private rejectedNotes = 0;
  private expired = 0;
  private writtenRecords = 0;
  private compactions = 0;
  private writeFailures = 0;
  private lastWriteAt: number | undefined;
  private lastError: string | undefined;

  private constructor(o: HotPrefixCacheOptions) {
    checkOption('maxPrefixes', o.maxPrefixes, 1, MAX_PREFIX_LRU_CAPACITY);
    checkOption('ttlHours', o.ttlHours, 1 / 3600, 24 * 365);
    checkOption('flushIntervalMs', o.flushIntervalMs, 1, 3_600_000);
    const ring = o.ringCapacity ?? DEFAULT_RING;
    checkOption('ringCapacity', ring, 1, 2 ** 24);
    this.minCompactRecords = o.minCompactRecords ?? DEFAULT_MIN_COMPACT;
    checkOption('minCompactRecords', this.minCompactRecords, 0, 2 ** 31);
    if (typeof o.path !== 'string' || o.path === '') throw new RangeError('hot-prefix cache: path must be a file path');
    this.path = o.path;
    this.now = o.now ?? Date.now;
    this.ttlSeconds = Math.round(o.ttlHours * 3600);
    this.flushIntervalMs = o.flushIntervalMs;
    const renote = o.renoteAfterSeconds ?? Math.min(300, this.ttlSeconds / 16);
    checkOption('renoteAfterSeconds', renote, 0, this.ttlSeconds);
    this.noteFilter = new NoteFilter(renote * 1000, this.now);
    this.log = o.log ?? (() => undefined);
    this.lru = new PrefixLru(Math.floor(o.maxPrefixes));
    this.ringCapacity = Math.floor(ring);
    this.ringA = new Uint32Array(this.ringCapacity);
    this.ringB = new Uint32Array(this.ringCapacity);
    this.ringLat = new Int32Array(this.ringCapacity);
    this.ringLon = new Int32Array(this.ringCapacity);
    this.ringCountry = new Uint16Array(this.ringCapacity);
    // Drain early once the ring is half full (or holds 8,192 prefixes), so that a burst between two
    // ticks is not dropped and no single drain holds the serving thread for more than a few ms.
    this.earlyDrainAt = Math.max(1, Math.min(this.ringCapacity >>> 1, 8192));
    // As many filter slots as ring slots: two prefixes that collide in the filter and alternate
    // take a new ring slot at each note (the drain folds them, but the ring fills sooner).
    let f = 16;
    while (f < this.ringCapacity) f *= 2;
    this.filter = new Int32Array(f);
    this.filterMask = f - 1;
    this.pending = Buffer.allocUnsafe(HOT_CACHE_RECORD_BYTES * Math.min(this.ringCapacity, 4096));
    this.spare = Buffer.allocUnsafe(this.pending.length);
    this.loadReport = emptyReport();
  }

  /**
   * Opens (or creates) the cache file and loads it; resolves once every valid entry is in memory.
   * A damaged file never fails this: what is valid is loaded and the rest reported in `loadReport`;
   * a rewrite that fails is reported and retried at each flush. Rejects with `RangeError` on bad
   * options and with the file system's error when the file cannot be opened or created at all
   * (nothing is left open then).
   */
  static async open(o: HotPrefixCacheOptions): Promise<HotPrefixCache> {
    const cache = new HotPrefixCache(o);
    await mkdir(dirname(o.path), { recursive: true });
    try {
      await cache.load();
    } catch (err) {
      await cache.fh?.close().catch(() => undefined);
      throw err;
    }
    cache.timer = setInterval(() => cache.tick(), cache.flushIntervalMs);
    cache.timer.unref();
    return cache;
  }

  /** Hot path, allocation-free: client v4 address `ip` (u32) was answered with this location. */
  noteV4(ip: number, lat: number, lon: number, country: number): void {
    this.note((ip & 0xffffff00) >>> 0, V4_KEY_TAG, lat, lon, country);
  }

  /** IPv6: w0, w1 are the address's first two big-endian u32 words; the /48 is w0 and w1 >>> 16. */
  noteV6(w0: number, w1: number, lat: number, lon: number, country: number): void {
    this.note(w0 >>> 0, (w1 & 0xffff0000) >>> 0, lat, lon, country);
  }

  /**
   * Hot path, allocation-free: false when the /24 of `ip` was noted from `table` within
   * `renoteAfterSeconds` (one bit test), so the caller need not find its range.
   */
  wantsV4(table: GeoTable, ip: number): boolean {
    return !this.noteFilter.hasV4(table.id, ip);
  }

  /** Hot path, allocation-free: client v4 address `ip` was answered from IPv4 range `rangeIndex` of `table`. */
  noteV4Range(table: GeoTable, rangeIndex: number, ip: number): void {
    if (rangeIndex < 0) return;
    const id = table.locationIdOfV4(rangeIndex);
    const c = table.columns;
    if (this.note((ip & 0xffffff00) >>> 0, V4_KEY_TAG, c.locationLat[id], c.locationLon[id], c.locationCountry[id])) this.noteFilter.markV4(table.id, ip);
  }

  /** As `noteV4Range` for an IPv6 client whose first two words are `w0`, `w1` (its /48); a repeat costs one memory read. */
  noteV6Range(table: GeoTable, rangeIndex: number, w0: number, w1: number): void {
    const a = w0 >>> 0;
    const b = (w1 & 0xffff0000) >>> 0;
    if (rangeIndex < 0 || this.noteFilter.hasV6(table.id, a, b)) return;
    const id = table.locationIdOfV6(rangeIndex);
    const c = table.columns;
    if (this.note(a, b, c.locationLat[id], c.locationLon[id], c.locationCountry[id])) this.noteFilter.markV6(table.id, a, b);
  }

  /** The cache as a GeoTable (source 'cache') of its /24 and /48 entries, for the lowest layer. */
  table(): GeoTable {
    this.drain();
    return buildTable(this.lru);
  }

  /** Prefixes held (noted ones count once drained, at most `flushIntervalMs` later). */
  size(): number {
    return this.lru.count;
  }

  /** The location and last-seen time held for the /24 of `ip` (u32); undefined when none. */
  getV4(ip: number): { lat: number; lon: number; country: number; seenAt: number } | undefined {
    return this.entry(this.lru.find((ip & 0xffffff00) >>> 0, V4_KEY_TAG));
  }

  /** The location and last-seen time held for the /48 of the address whose first two words are w0, w1. */
  getV6(w0: number, w1: number): { lat: number; lon: number; country: number; seenAt: number } | undefined {
    return this.entry(this.lru.find(w0 >>> 0, (w1 & 0xffff0000) >>> 0));
  }

  /** Counters since `open()`. */
  stats(): HotCacheStats {
    return {
      prefixes: this.lru.count, noted: this.noted, repeatNotes: this.noteFilter.repeats, droppedNotes: this.droppedNotes, rejectedNotes: this.rejectedNotes,
      evicted: this.lru.evictions, expired: this.expired, writtenRecords: this.writtenRecords, fileRecords: this.fileRecords,
      compactions: this.compactions, writeFailures: this.writeFailures, lastWriteAt: this.lastWriteAt, lastError: this.lastError,
    };
  }

  /**
   * Drains the ring and writes what is pending now, instead of at the next tick; resolves once it
   * is on disk. A failed write does not reject: it is counted in `stats()` and retried.
   */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.closed && !this.fh) return;
    this.drain();
    await this.startWrite();
  }

  /** Drains what is pending to disk, stops timers. */
  async close(): Promise<void> {
    if (this.closed) {
      while (this.writing) await this.writing;
      return;
    }
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    this.drain();
    await this.startWrite();
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  // False when the note was not taken (bad coordinates, ring full).
  private note(a: number, b: number, lat: number, lon: number, country: number): boolean {
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) {
      this.rejectedNotes++;
      return false;
    }
    const f = mixKey(a, b) & this.filterMask;
    let i = this.filter[f];
    if (!(i < this.ringCount && this.ringA[i] === a && this.ringB[i] === b)) {
      i = this.ringCount;
      if (i === this.ringCapacity) {
        this.droppedNotes++;
        return false;
      }
      this.ringCount = i + 1;
      this.ringA[i] = a;
      this.ringB[i] = b;
      this.filter[f] = i;
      this.noted++;
      if (i + 1 === this.earlyDrainAt && !this.drainQueued && !this.closed) {
        this.drainQueued = true;
        setImmediate(this.drainSoon);
      }
    }
    this.ringLat[i] = Math.round(lat * COORDINATE_UNITS_PER_DEGREE);
    this.ringLon[i] = Math.round(lon * COORDINATE_UNITS_PER_DEGREE);
    this.ringCountry[i] = country;
    return true;
  }

  private entry(id: number): { lat: number; lon: number; country: number; seenAt: number } | undefined {
    if (id < 0) return undefined;
    const l = this.lru;
    return { lat: l.latE7(id) / COORDINATE_UNITS_PER_DEGREE, lon: l.lonE7(id) / COORDINATE_UNITS_PER_DEGREE, country: l.country(id), seenAt: l.seen(id) * 1000 };
  }

  // Seconds since the epoch for this drain; never earlier than the last one, so the recency
  // order and the seen times agree even when the clock steps back.
  private stamp(): number {
    const s = Math.max(this.lastStamp, Math.floor(this.now() / 1000));
    this.lastStamp = s;
    return s;
  }

  // Ring -> index, and one pending file record per drained prefix; then expiry by age.
  private drain(): void {
    const n = this.ringCount;
    const nowSeconds = this.stamp();
    if (n > 0) {
      this.reservePending(n);
      this.lru.upsertMany(this.ringA, this.ringB, this.ringLat, this.ringLon, this.ringCountry, n, nowSeconds);
      this.pendingRecords = encodeRing(this.pending, this.pendingRecords, this.ringA, this.ringB, this.ringLat, this.ringLon, this.ringCountry, n, nowSeconds);
      this.ringCount = 0;
    }
    this.expired += this.lru.expireBefore(nowSeconds - this.ttlSeconds);
  }

  private reservePending(more: number): void {
    const need = (this.pendingRecords + more) * HOT_CACHE_RECORD_BYTES;
    if (need <= this.pending.length) return;
    let size = this.pending.length;
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.pending.copy(grown, 0, 0, this.pendingRecords * HOT_CACHE_RECORD_BYTES);
    this.pending = grown;
  }

  private tick(): void {
    this.noteFilter.expire();
    this.drain();
    if (!this.writing) void this.startWrite();
  }

  private startWrite(): Promise<void> {
    const w = this.writeOnce().finally(() => { this.writing = undefined; });
    this.writing = w;
    return w;
  }

  // One write: the pending records appended, or the whole index rewritten when the file has grown
  // past twice the live entries (or a previous write failed and the file may lack records).
  private async writeOnce(): Promise<void> {
    if (!this.fh) return;
    try {
      if (this.rewriteNeeded || this.fileRecords + this.pendingRecords > Math.max(2 * this.lru.count, this.minCompactRecords)) {
        // The index holds everything drained so far, so the rewrite covers the pending records.
        this.pendingRecords = 0;
        this.rewriteNeeded = true;
        await this.compact();
        this.rewriteNeeded = false;
        this.compactions++;
        this.writtenRecords += this.fileRecords;
      } else if (this.pendingRecords > 0) {
        const buf = this.pending;
        const records = this.pendingRecords;
        const bytes = records * HOT_CACHE_RECORD_BYTES;
        this.pending = this.spare.length >= buf.length ? this.spare : Buffer.allocUnsafe(buf.length);
        this.pendingRecords = 0;
        try {
          await writeFully(this.fh, buf, bytes, this.fileBytes);
          await this.fh.datasync();
        } finally {
          this.spare = buf;
        }
        this.fileBytes += bytes;
        this.fileRecords += records;
        this.writtenRecords += records;
      } else {
        return;
      }
      this.lastWriteAt = this.now();
      this.lastError = undefined;
    } catch (err) {
      // The file may now lack records the index has: the next write rewrites it from the index.
      this.rewriteNeeded = true;
      this.writeFailures++;
      this.lastError = `writing ${this.path} failed: ${(err as Error).message}`;
      this.log(`hot-prefix cache: ${this.lastError}; keeping entries in memory and rewriting the file at the next flush`);
    }
  }

  // Writes the index, least recently seen first, to `<path>.tmp`, syncs it and renames it over the
  // file (POSIX rename is atomic: a crash leaves the old file or the new one, never a mix). The
  // walk follows a copy of the recency links, so drains may run between the chunk writes: a prefix
  // they change is also in the pending records, which are appended after the rename.
  private async compact(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const order = this.lru.order();
    const fh = await open(tmp, 'w');
    let bytes = 0;
    let records = 0;
    try {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_RECORDS, Math.max(1, order.count)) * HOT_CACHE_RECORD_BYTES + HOT_CACHE_HEADER_BYTES);
      let used = encodeHeader(chunk, 0);
      const l = this.lru;
      let id = order.tail;
      for (let step = 0; step < order.count && id >= 0; step++) {
        if (l.isLive(id)) {
          const b = l.keyB(id);
          used += encodeRecordFields(chunk, used, b === V4_KEY_TAG ? 4 : 6, l.keyA(id), b === V4_KEY_TAG ? 0 : b, l.latE7(id), l.lonE7(id), l.country(id), l.seen(id));
          records++;
        }
        id = order.prev[id];
        if (used + HOT_CACHE_RECORD_BYTES > chunk.length) {
          await writeFully(fh, chunk, used, bytes);
          bytes += used;
          used = 0;
        }
      }
      if (used > 0) await writeFully(fh, chunk, used, bytes);
      bytes += used;
      await fh.datasync();
      await rename(tmp, this.path);
      await syncDirectory(dirname(this.path));
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    const old = this.fh;
    this.fh = fh;
    this.fileBytes = bytes;
    this.fileRecords = records;
    await old?.close().catch(() => undefined);
  }

  private async load(): Promise<void> {
    const started = performance.now();
    const warnings: string[] = [];
    const dropped: Partial<Record<HotCacheDecodeReason, number>> = {};
    let records = 0;
    let expired = 0;
    let tornBytes = 0;
    let badHeader: string | undefined;
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fh = await open(this.path, 'w+');
    }
    this.fh = fh;
    const size = (await fh.stat()).size;
    const nowSeconds = this.stamp();
    const cutoff = nowSeconds - this.ttlSeconds;
    if (size > 0) {
      const head = Buffer.alloc(HOT_CACHE_HEADER_BYTES);
      const { bytesRead } = await fh.read(head, 0, HOT_CACHE_HEADER_BYTES, 0);
      try {
        decodeHeader(head.subarray(0, bytesRead), 0);
      } catch (err) {
        badHeader = err instanceof HotCacheDecodeError ? err.message : String(err);
      }
    }
    if (badHeader !== undefined) {
      try {
        await copyFile(this.path, `${this.path}.bad`);
        warnings.push(`${this.path} is not a hot-prefix cache file (${badHeader}); kept it as ${this.path}.bad and started empty`);
      } catch (err) {
        warnings.push(`${this.path} is not a hot-prefix cache file (${badHeader}); started empty, and could not keep it as ${this.path}.bad: ${(err as Error).message}`);
      }
    } else if (size > HOT_CACHE_HEADER_BYTES) {
      const body = size - HOT_CACHE_HEADER_BYTES;
      const whole = Math.floor(body / HOT_CACHE_RECORD_BYTES);
      tornBytes = body - whole * HOT_CACHE_RECORD_BYTES;
      const buf = Buffer.allocUnsafe(Math.min(whole, CHUNK_RECORDS) * HOT_CACHE_RECORD_BYTES);
      const l = this.lru;
      let maxSeen = 0;
      for (let first = 0; first < whole; first += CHUNK_RECORDS) {
        const count = Math.min(CHUNK_RECORDS, whole - first);
        const bytes = count * HOT_CACHE_RECORD_BYTES;
        await readFully(fh, buf, bytes, HOT_CACHE_HEADER_BYTES + first * HOT_CACHE_RECORD_BYTES);
        for (let k = 0, o = 0; k < count; k++, o += HOT_CACHE_RECORD_BYTES) {
          const bad = checkRecord(buf, o);
          if (bad !== undefined) {
            dropped[bad] = (dropped[bad] ?? 0) + 1;
            continue;
          }
          // A time ahead of the clock (it was wrong, or moved back) counts as now.
          const seen = Math.min(readWordLE(buf, o + 20), nowSeconds);
          if (seen < cutoff) {
            expired++;
            continue;
          }
          if (seen > maxSeen) maxSeen = seen;
          const family = buf[o];
          l.upsert(readWordLE(buf, o + 4), family === 4 ? V4_KEY_TAG : readWordLE(buf, o + 8),
            readWordLE(buf, o + 12) | 0, readWordLE(buf, o + 16) | 0, buf[o + 2] | (buf[o + 3] << 8), seen);
        }
        records += count;
      }
      this.lastStamp = Math.max(this.lastStamp, maxSeen);
      const droppedCount = Object.values(dropped).reduce((s, n) => s + n, 0);
      if (droppedCount > 0) {
        warnings.push(`${this.path}: dropped ${droppedCount} damaged record(s) of ${records} (${Object.entries(dropped).map(([r, n]) => `${r} ${n}`).join(', ')})`);
      }
      if (tornBytes > 0) warnings.push(`${this.path}: ignored a torn last record of ${tornBytes} byte(s)`);
    }
    this.fileBytes = size;
    this.fileRecords = records;
    // Appending after damage would keep it in the file (and a torn tail would misalign every later
    // record): rewrite from what loaded. Likewise a file that is mostly superseded records.
    const rewrite = badHeader !== undefined || tornBytes > 0 || Object.keys(dropped).length > 0 || size < HOT_CACHE_HEADER_BYTES
      || records > Math.max(2 * this.lru.count, this.minCompactRecords);
    if (rewrite) {
      try {
        await this.compact();
      } catch (err) {
        // What loaded stays in memory; until a rewrite succeeds nothing is appended after the damage.
        this.rewriteNeeded = true;
        this.writeFailures++;
        this.lastError = `rewriting ${this.path} failed: ${(err as Error).message}`;
        warnings.push(`${this.lastError}; serving what loaded and rewriting the file at the next flush`);
      }
    }
    for (const w of warnings) this.log(`hot-prefix cache: ${w}`);
    this.loadReport = {
      records, loaded: this.lru.count, expired, dropped, tornBytes, badHeader, rewritten: rewrite,
      loadMs: performance.now() - started, warnings,
    };
  }
}

// Appends one file record per ring slot to `pending` after its first `records`; returns the count
// after. A function of its own, so the optimizing compiler sees this loop alone.
function encodeRing(pending: Buffer, records: number, a: Uint32Array, b: Uint32Array, lat: Int32Array, lon: Int32Array, country: Uint16Array,
  n: number, seenSeconds: number): number {
  let at = records * HOT_CACHE_RECORD_BYTES;
  for (let i = 0; i < n; i++) {
    const bi = b[i]!;
    at += bi === V4_KEY_TAG
      ? encodeRecordFields(pending, at, 4, a[i]!, 0, lat[i]!, lon[i]!, country[i]!, seenSeconds)
      : encodeRecordFields(pending, at, 6, a[i]!, bi, lat[i]!, lon[i]!, country[i]!, seenSeconds);
  }
  return records + n;
}

function emptyReport(): HotCacheLoadReport {
  return { records: 0, loaded: 0, expired: 0, dropped: {}, tornBytes: 0, badHeader: undefined, rewritten: false, loadMs: 0, warnings: [] };
}

async function writeFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`wrote 0 of ${length - done} bytes at ${position + done}`);
    done += bytesWritten;
  }
}

async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead <= 0) throw new HotCacheDecodeError('short', position + done, `the file ended ${length - done} bytes early while it was read`);
    done += bytesRead;
  }
}

// A rename is durable only once the directory entry is: fsync the directory (POSIX).
async function syncDirectory(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

// Location ids per distinct (lat, lon, country), hashed in typed arrays.
class LocationIds {
  readonly lat: Int32Array;
  readonly lon: Int32Array;
  readonly country: Uint16Array;
  count = 0;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(max: number) {
    this.lat = new Int32Array(max);
    this.lon = new Int32Array(max);
    this.country = new Uint16Array(max);
    let n = 16;
    while (n < 2 * max) n *= 2;
    this.slots = new Int32Array(n);
    this.mask = n - 1;
  }

  idOf(lat: number, lon: number, country: number): number {
    for (let s = mixKey(lat ^ Math.imul(country, 0x27d4eb2d), lon) & this.mask; ; s = (s + 1) & this.mask) {
      const v = this.slots[s];
      if (v === 0) {
        const id = this.count++;
        this.lat[id] = lat;
        this.lon[id] = lon;
        this.country[id] = country;
        this.slots[s] = id + 1;
        return id;
      }
      if (this.lat[v - 1] === lat && this.lon[v - 1] === lon && this.country[v - 1] === country) return v - 1;
    }
  }
}

// Sorts rows (hi, lo, value) by (hi, lo) in place with least-significant-digit radix passes of
// 16 bits (stable, O(n) per pass, sequential memory traffic): `loBits`/`hiBits` say how many bits
// of each key word take part. Returns the arrays holding the sorted rows.
type Words = Uint32Array<ArrayBuffer>;
function radixSortRows(hi: Words, lo: Words, value: Words, loBits: number, hiBits: number): [Words, Words, Words] {
  const n = value.length;
  let h = hi, l = lo, v = value;
  let h2 = new Uint32Array(hiBits > 0 ? n : 0), l2 = new Uint32Array(n), v2 = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  const passes: Array<[boolean, number]> = [];
  for (let shift = 0; shift < loBits; shift += 16) passes.push([false, shift]);
  for (let shift = 0; shift < hiBits; shift += 16) passes.push([true, shift]);
  for (const [onHi, shift] of passes) {
    const keys = onHi ? h : l;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(keys[i] >>> shift) & 0xffff]++;
      if (hiBits > 0) h2[at] = h[i];
      l2[at] = l[i];
      v2[at] = v[i];
    }
    [h, h2] = [h2, h];
    [l, l2] = [l2, l];
    [v, v2] = [v2, v];
  }
  return [h, l, v];
}

// The index as sorted, disjoint ranges: one per /24 or /48, adjacent ones with the same location
// merged. One pass over the entries in id order (sequential reads) gives each its key and location
// id; the rows are then radix-sorted by key.
function buildTable(l: PrefixLru): GeoTable {
  let n4 = 0;
  let n6 = 0;
  for (let id = 0; id < l.idLimit; id++) {
    if (!l.isLive(id)) continue;
    if (l.keyB(id) === V4_KEY_TAG) n4++;
    else n6++;
  }
  const locations = new LocationIds(Math.max(1, n4 + n6));
  const k4 = new Uint32Array(n4);
  const loc4 = new Uint32Array(n4);
  const k6hi = new Uint32Array(n6);
  const k6lo = new Uint32Array(n6);
  const loc6 = new Uint32Array(n6);
  for (let id = 0, i4 = 0, i6 = 0; id < l.idLimit; id++) {
    if (!l.isLive(id)) continue;
    const b = l.keyB(id);
    const loc = locations.idOf(l.latE7(id), l.lonE7(id), l.country(id));
    if (b === V4_KEY_TAG) {
      k4[i4] = l.keyA(id) >>> 8;
      loc4[i4++] = loc;
    } else {
      k6hi[i6] = l.keyA(id);
      k6lo[i6] = b >>> 16;
      loc6[i6++] = loc;
    }
  }
  const [, s4, sLoc4] = radixSortRows(new Uint32Array(0), k4, loc4, 24, 0);
  const [s6hi, s6lo, sLoc6] = radixSortRows(k6hi, k6lo, loc6, 16, 32);

  const v4Bounds = new Uint32Array(2 * n4);
  const v4Loc = new Uint32Array(n4);
  let r4 = 0;
  for (let k = 0; k < n4; k++) {
    const a = s4[k] * 256;
    const loc = sLoc4[k];
    if (r4 > 0 && v4Loc[r4 - 1] === loc && v4Bounds[2 * r4 - 1] + 1 === a) {
      v4Bounds[2 * r4 - 1] = a + 255;
    } else {
      v4Bounds[2 * r4] = a;
      v4Bounds[2 * r4 + 1] = a + 255;
      v4Loc[r4++] = loc;
    }
  }

  const v6Bounds = new Uint32Array(8 * n6);
  const v6Loc = new Uint32Array(n6);
  let r6 = 0;
  for (let k = 0; k < n6; k++) {
    const a = s6hi[k];
    const b = (s6lo[k] << 16) >>> 0;
    const loc = sLoc6[k];
    const o = 8 * (r6 - 1);
    // The previous range ends at (endA, endB | 0xffff, ...): this /48 follows it directly when it
    // is the next value of the 48-bit prefix, carrying into the first word.
    const follows = r6 > 0 && v6Loc[r6 - 1] === loc
      && (v6Bounds[o + 5] !== 0xffffffff ? v6Bounds[o + 4] === a && v6Bounds[o + 5] + 1 === b : v6Bounds[o + 4] + 1 === a && b === 0);
    if (follows) {
      v6Bounds[o + 4] = a;
      v6Bounds[o + 5] = (b | 0xffff) >>> 0;
    } else {
      const p = 8 * r6;
      v6Bounds[p] = a;
      v6Bounds[p + 1] = b;
      v6Bounds[p + 2] = 0;
      v6Bounds[p + 3] = 0;
      v6Bounds[p + 4] = a;
      v6Bounds[p + 5] = (b | 0xffff) >>> 0;
      v6Bounds[p + 6] = 0xffffffff;
      v6Bounds[p + 7] = 0xffffffff;
      v6Loc[r6++] = loc;
    }
  }

  const locationLat = new Float64Array(locations.count);
  const locationLon = new Float64Array(locations.count);
  for (let i = 0; i < locations.count; i++) {
    locationLat[i] = locations.lat[i] / COORDINATE_UNITS_PER_DEGREE;
    locationLon[i] = locations.lon[i] / COORDINATE_UNITS_PER_DEGREE;
  }
  return new GeoTable({
    source: 'cache',
    locationLat, locationLon, locationCountry: locations.country.slice(0, locations.count),
    v4Bounds: v4Bounds.slice(0, 2 * r4), v4Locations: v4Loc.slice(0, r4),
    v6Bounds: v6Bounds.slice(0, 8 * r6), v6Locations: v6Loc.slice(0, r6),
  });
}
