import assert from 'node:assert/strict';
import { mkdtempSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GeoIpError } from '../../../dns/geoip';
import { RecordFile, type ReadAt } from '../../../dns/geoip/record-file';

const RECORD = 24;

function isGeoIpError(code: string, text: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof GeoIpError && err.code === code && err.message.includes(text);
}

// Every record holds its own number in each of its bytes' positions, so a misplaced byte shows.
function recordsOf(count: number): Buffer {
  const buf = Buffer.alloc(RECORD * count);
  for (let r = 0; r < count; r++) for (let b = 0; b < RECORD; b++) buf[RECORD * r + b] = (r * 7 + b) & 0xff;
  return buf;
}

// One pass, as (first record number, bytes) per record.
function readAll(file: RecordFile): Buffer[] {
  const seen: Buffer[] = [];
  file.forEachChunk((chunk, first, count) => {
    assert.equal(first, seen.length, 'chunks arrive in order, without gaps');
    for (let k = 0; k < count; k++) seen.push(Buffer.from(chunk.subarray(RECORD * k, RECORD * (k + 1))));
  });
  return seen;
}

describe('Reading a file of fixed-size records in chunks', function () {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-records-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands over every record once and in order, whatever the chunk size, in every pass', () => {
    const data = recordsOf(11);
    writeFileSync(join(dir, 'f.dat'), data);
    // One record per chunk, a chunk size that is not a whole number of records, an exact
    // divisor of the file, and a chunk larger than the file.
    for (const chunkBytes of [1, RECORD, 2 * RECORD + 5, 11 * RECORD, 1 << 20]) {
      const file = RecordFile.open(dir, 'f.dat', RECORD, { chunkBytes });
      try {
        assert.equal(file.records, 11);
        for (let pass = 0; pass < 2; pass++) {
          assert.deepEqual(Buffer.concat(readAll(file)), data, `chunk ${chunkBytes} bytes, pass ${pass}`);
        }
      } finally {
        file.close();
      }
    }
  });

  it('reassembles records that short reads split across chunks', () => {
    const data = recordsOf(9);
    writeFileSync(join(dir, 'f.dat'), data);
    // Reads of at most 7 bytes split almost every record; the reader must carry the pieces over.
    const shortReads: ReadAt = (fd, buffer, offset, length, position) => readSync(fd, buffer, offset, Math.min(7, length), position);
    const file = RecordFile.open(dir, 'f.dat', RECORD, { chunkBytes: 2 * RECORD, readAt: shortReads });
    try {
      assert.deepEqual(Buffer.concat(readAll(file)), data);
      assert.deepEqual(Buffer.concat(readAll(file)), data, 'second pass');
    } finally {
      file.close();
    }
  });

  it('reads an empty file as no records', () => {
    writeFileSync(join(dir, 'f.dat'), Buffer.alloc(0));
    const file = RecordFile.open(dir, 'f.dat', RECORD);
    try {
      assert.equal(file.records, 0);
      assert.deepEqual(readAll(file), []);
    } finally {
      file.close();
    }
  });

  it('refuses a missing file and one that is not a whole number of records', () => {
    assert.throws(() => RecordFile.open(dir, 'nope.dat', RECORD), isGeoIpError('GEOIP_BAD_DATA', join(dir, 'nope.dat')));
    writeFileSync(join(dir, 'f.dat'), Buffer.alloc(RECORD + 1));
    assert.throws(() => RecordFile.open(dir, 'f.dat', RECORD), isGeoIpError('GEOIP_BAD_DATA', 'f.dat is 25 bytes'));
  });

  it('refuses to finish a pass over a file that shrank since it was opened', () => {
    writeFileSync(join(dir, 'f.dat'), recordsOf(6));
    const file = RecordFile.open(dir, 'f.dat', RECORD, { chunkBytes: 2 * RECORD });
    try {
      // Rewritten in place (same inode): first to fewer whole records, then to a partial one.
      writeFileSync(join(dir, 'f.dat'), recordsOf(4));
      assert.throws(() => readAll(file), isGeoIpError('GEOIP_BAD_DATA', '4 of 6 records'));
      writeFileSync(join(dir, 'f.dat'), recordsOf(6).subarray(0, 5 * RECORD + 3));
      assert.throws(() => readAll(file), isGeoIpError('GEOIP_BAD_DATA', 'f.dat changed while it was read'));
    } finally {
      file.close();
    }
  });
});
