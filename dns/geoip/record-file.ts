import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { GeoIpError } from './errors';

/** Reads up to `length` bytes at file `position` into `buffer` at `offset`; returns the count (0 at the end). */
export type ReadAt = (fd: number, buffer: Buffer, offset: number, length: number, position: number) => number;

/** How a `RecordFile` reads; the defaults suit geoip-lite's files. */
export interface RecordFileOptions {
  /** Bytes per read, rounded down to whole records (at least one); default 256 KiB. */
  readonly chunkBytes?: number;
  /** The read call; default `fs.readSync`. */
  readonly readAt?: ReadAt;
}

const defaultReadAt: ReadAt = (fd, buffer, offset, length, position) => readSync(fd, buffer, offset, length, position);

/**
 * A data file of fixed-size records, read through one reused chunk buffer so that a pass over it
 * never holds more than a chunk of the file. Passes can be repeated (each reads from the start).
 * `close()` releases the file; a closed or failed file leaves nothing open.
 */
export class RecordFile {
  /** Number of whole records, from the file's size at open. */
  readonly records: number;
  private readonly chunk: Buffer;

  private constructor(readonly name: string, private readonly fd: number, readonly recordSize: number,
    size: number, private readonly readAt: ReadAt, chunkBytes: number) {
    this.records = size / recordSize;
    const perChunk = Math.max(1, Math.floor(chunkBytes / recordSize));
    this.chunk = Buffer.allocUnsafe(recordSize * Math.min(perChunk, Math.max(1, this.records)));
  }

  /**
   * Opens `dir/name`. Throws `GEOIP_BAD_DATA` when it cannot be read or its size is not a whole
   * number of `recordSize`-byte records (nothing is left open then).
   */
  static open(dir: string, name: string, recordSize: number, options: RecordFileOptions = {}): RecordFile {
    const path = join(dir, name);
    let fd: number;
    let size: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new GeoIpError('GEOIP_BAD_DATA', `cannot read geoip-lite data file ${path}`, { cause: err });
    }
    try {
      size = fstatSync(fd).size;
    } catch (err) {
      closeSync(fd);
      throw new GeoIpError('GEOIP_BAD_DATA', `cannot read geoip-lite data file ${path}`, { cause: err });
    }
    if (size % recordSize !== 0) {
      closeSync(fd);
      throw new GeoIpError('GEOIP_BAD_DATA', `${name} is ${size} bytes, not a multiple of its ${recordSize}-byte record`);
    }
    return new RecordFile(name, fd, recordSize, size, options.readAt ?? defaultReadAt, options.chunkBytes ?? 262_144);
  }

  /**
   * Calls `fn` with consecutive chunks of whole records: `chunk` holds `count` records from byte 0,
   * the first being record number `first`. The chunk buffer is reused: copy what must outlive `fn`.
   * Throws `GEOIP_BAD_DATA` when the file no longer holds `records` records (it changed since open).
   */
  forEachChunk(fn: (chunk: Buffer, first: number, count: number) => void): void {
    const { chunk, recordSize } = this;
    let record = 0;
    let pending = 0;
    let position = 0;
    for (;;) {
      const got = this.readAt(this.fd, chunk, pending, chunk.length - pending, position);
      position += got;
      const filled = pending + got;
      const whole = Math.min(Math.floor(filled / recordSize), this.records - record);
      if (whole > 0) fn(chunk, record, whole);
      record += whole;
      // A short read can split a record: carry its bytes to the front of the next chunk.
      pending = filled - whole * recordSize;
      if (pending > 0) chunk.copy(chunk, 0, whole * recordSize, filled);
      if (got === 0 || record === this.records) break;
    }
    if (record !== this.records || pending !== 0) {
      throw new GeoIpError('GEOIP_BAD_DATA', `${this.name} changed while it was read: ${record} of ${this.records} records`);
    }
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.fd);
  }
}
