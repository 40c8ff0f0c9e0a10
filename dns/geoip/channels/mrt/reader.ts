/**
 * Streaming MRT reader: gzip, bzip2 or plain input, decompressed and framed record by record so
 * no more than one record (bounded) is held at a time. A malformed record is reported and reading
 * goes on with the next; only a corrupt compressed stream or a file that ends inside a record
 * stops it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  decodeBody, maxBodyBytes, MRT_HEADER_BYTES, type MrtHeader, type MrtPeer, type MrtRecord,
} from './codec';
import { visitElements, type MrtElement } from './elements';
import { MrtDecodeError } from './errors';

/** The default bound on one record's body: a RIB record of thousands of peers fits many times over. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** How to read. */
export interface MrtReadOptions {
  /** Records with a longer body are reported (`MRT_ERR_TOO_LONG`) and skipped without being held. */
  readonly maxRecordBytes?: number;
  /** Awaited after each decompressed chunk's records were visited: where a consumer applies backpressure. */
  readonly afterChunk?: () => Promise<void> | void;
  /**
   * The bzip2 program bzip2 input is piped through (`<command> -dc`), or programs tried in turn
   * until one starts, instead of `DEFAULT_BZIP2_COMMANDS`; when none can be started, a JavaScript
   * decoder (several times slower) reads the stream instead.
   */
  readonly bzip2Command?: string | readonly string[];
  /**
   * Sees each well-framed record's body `[start, end)` of `buf` before it is decoded; returning
   * true means it handled the record, which is then counted but neither decoded nor visited.
   */
  readonly handleRaw?: RawRecordHandler;
}

/** See `MrtReadOptions.handleRaw`. */
export type RawRecordHandler = (header: MrtHeader, buf: Uint8Array, start: number, end: number) => boolean;

/**
 * The bzip2 programs tried in turn unless the options name one: lbzip2 (its own decoder, a little
 * cheaper per byte than libbz2, on two threads beside the parser, and writing large blocks), then
 * bzip2 (libbz2, which writes 5,000-byte pieces).
 */
export const DEFAULT_BZIP2_COMMANDS: readonly string[] = Object.freeze(['lbzip2', 'bzip2']);

/** Arguments of each known program; any other is run as `<command> -dc`. */
function bunzip2Args(command: string): string[] {
  // Two threads: decompression then keeps ahead of the parser without taking every core.
  return /(^|\/)lbzip2$/.test(command) ? ['-dc', '-n', '2'] : ['-dc'];
}

/** What a read saw. */
export interface MrtReadStats {
  /** Records decoded (including types this reader skips). */
  records: number;
  /** Records of a type or subtype the decoder does not read. */
  unsupported: number;
  /** Errors reported (per record, plus at most one that ended the stream). */
  errors: number;
  /** Decompressed bytes read. */
  bytes: number;
  /** True when the stream ended early: corrupt compression, or the file ends inside a record. */
  incomplete: boolean;
}

/** Called with each record as it is decoded, and its offset in the decompressed stream. */
export type RecordVisitor = (record: MrtRecord, offset: number) => void;
/** Called with each error; reading continues after per-record errors. */
export type ErrorVisitor = (error: MrtDecodeError) => void;

/** The compression a stream's first bytes announce. */
export function detectCompression(head: Uint8Array): 'gzip' | 'bzip2' | 'none' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return 'none';
}

async function* prepend(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done === true) return;
    yield r.value;
  }
}

/** Bytes of a decompressed chunk: large chunks mean fewer trips through the record framer. */
const CHUNK_BYTES = 256 * 1024;
/** Bytes of a failing bzip2's standard error kept for the report. */
const STDERR_KEPT_BYTES = 2048;

type Bunzip2Process = ChildProcessByStdio<Writable, Readable, Readable>;

/** Starts `command -dc`; resolves undefined when it cannot be started (not installed). */
function startBunzip2(command: string): Promise<Bunzip2Process | undefined> {
  const child = spawn(command, bunzip2Args(command), { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    child.once('error', () => resolve(undefined));
    child.once('spawn', () => resolve(child));
  });
}

/** The first of `commands` that starts, or undefined. */
async function startFirstBunzip2(commands: readonly string[]): Promise<Bunzip2Process | undefined> {
  for (const command of commands) {
    const child = await startBunzip2(command);
    if (child !== undefined) return child;
  }
  return undefined;
}

/**
 * `pieces` joined into chunks of at least `CHUNK_BYTES` (the last may be shorter): a pipe hands
 * over what the writer wrote, 5,000 bytes at a time for bzip2, and each chunk costs the framer a
 * turn and the record that spans its end a copy.
 */
async function* coalesced(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let held: Uint8Array[] = [];
  let bytes = 0;
  for await (const piece of pieces) {
    held.push(piece);
    bytes += piece.length;
    if (bytes >= CHUNK_BYTES) {
      yield held.length === 1 ? held[0] : Buffer.concat(held, bytes);
      held = [];
      bytes = 0;
    }
  }
  if (bytes > 0) yield held.length === 1 ? held[0] : Buffer.concat(held, bytes);
}

/**
 * The output of a started `bzip2 -dc` fed from `src`. Rejects with bzip2's own message when it
 * exits unsuccessfully (a corrupt stream); stops the process when the reader stops early.
 */
async function* bunzip2Output(child: Bunzip2Process, src: Readable): AsyncGenerator<Uint8Array> {
  const closed = new Promise<number | null>((resolve) => { child.once('close', (code) => resolve(code)); });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => { if (stderr.length < STDERR_KEPT_BYTES) stderr += t; });
  // bzip2 stops reading when it meets corrupt data: the broken pipe is reported through its exit code.
  child.stdin.on('error', () => undefined);
  src.on('error', (e) => child.stdout.destroy(e));
  src.pipe(child.stdin);
  let done = false;
  try {
    yield* coalesced(child.stdout as AsyncIterable<Uint8Array>);
    const code = await closed;
    done = true;
    if (code !== 0) throw new Error(stderr.trim().replace(/\s+/g, ' ') || `bzip2 exited with code ${code}`);
  } finally {
    if (!done && child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** The JavaScript bzip2 decoder (unbzip2-stream), loaded only when no bzip2 program runs. */
async function javascriptBunzip2(src: Readable): Promise<Readable> {
  const { default: unbzip2Stream } = await import('unbzip2-stream');
  // unbzip2-stream is a classic (through) stream: pipe it into a modern one to iterate it.
  const bz = unbzip2Stream();
  const pass = new PassThrough();
  bz.on('error', (e: Error) => pass.destroy(e));
  src.pipe(bz).pipe(pass);
  return pass;
}

/**
 * The decompressed bytes of `input` (gzip or bzip2 recognised by their magic; anything else is
 * read as is). A corrupt compressed stream rejects with `MRT_ERR_COMPRESSION`.
 */
export async function* decompressed(input: AsyncIterable<Uint8Array>, options: Pick<MrtReadOptions, 'bzip2Command'> = {}): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return;
  const kind = detectCompression(first.value);
  const source = prepend(first.value, it);
  if (kind === 'none') {
    yield* source;
    return;
  }
  const src = Readable.from(source, { objectMode: false });
  let out: AsyncIterable<Uint8Array>;
  let stop: () => void;
  if (kind === 'gzip') {
    const gunzip = src.pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
    src.on('error', (e) => gunzip.destroy(e));
    out = gunzip;
    stop = () => gunzip.destroy();
  } else {
    const commands = options.bzip2Command ?? DEFAULT_BZIP2_COMMANDS;
    const child = await startFirstBunzip2(typeof commands === 'string' ? [commands] : commands);
    if (child !== undefined) {
      out = bunzip2Output(child, src);
      stop = () => undefined;
    } else {
      const pass = await javascriptBunzip2(src);
      src.on('error', (e) => pass.destroy(e));
      out = pass;
      stop = () => pass.destroy();
    }
  }
  try {
    for await (const chunk of out) yield chunk;
  } catch (e) {
    throw new MrtDecodeError('MRT_ERR_COMPRESSION', 0, `the ${kind} stream is corrupt: ${(e as Error).message}`, { cause: e });
  } finally {
    src.destroy();
    stop();
  }
}

/** A file's bytes, or standard input for `-`. */
export function openInput(path: string): AsyncIterable<Uint8Array> {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: CHUNK_BYTES });
}

function u32(b: Uint8Array, o: number): number { return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0; }

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  // A Buffer, like the chunks streams give: one kind of array keeps the decoders' code monomorphic.
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * Reads every record of `input` (compressed or not), calling `onRecord` for each decoded record and
 * `onError` for each one that failed. Holds at most one record beyond the current chunk. Resolves
 * with what it saw; never rejects for bad data (a corrupt stream is reported through `onError`
 * and marks the stats incomplete), only for I/O errors of `input` itself.
 */
export async function readRecords(input: AsyncIterable<Uint8Array>, onRecord: RecordVisitor, onError: ErrorVisitor,
  options: MrtReadOptions = {}): Promise<MrtReadStats> {
  const maxRecord = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const handleRaw = options.handleRaw;
  const stats: MrtReadStats = { records: 0, unsupported: 0, errors: 0, bytes: 0, incomplete: false };
  const report = (e: MrtDecodeError): void => { stats.errors++; onError(e); };
  let parts: Uint8Array[] = [];
  let held = 0;          // bytes in `parts`
  let base = 0;          // stream offset of parts[0][0]
  let skip = 0;          // bytes still to drop of a record too long to hold
  let need = MRT_HEADER_BYTES;

  const drain = (): void => {
    let buf = concat(parts, held);
    let o = 0;
    for (;;) {
      const left = buf.length - o;
      if (left < MRT_HEADER_BYTES) { need = MRT_HEADER_BYTES; break; }
      const header: MrtHeader = {
        timestamp: u32(buf, o), type: (buf[o + 4] << 8) | buf[o + 5], subtype: (buf[o + 6] << 8) | buf[o + 7], length: u32(buf, o + 8),
      };
      const at = base + o;
      const typeMax = maxBodyBytes(header);
      if ((typeMax !== undefined && header.length > typeMax) || header.length > maxRecord) {
        report(new MrtDecodeError('MRT_ERR_TOO_LONG', at, `record of type ${header.type}/${header.subtype} claims ${header.length} bytes, more than the ${Math.min(typeMax ?? maxRecord, maxRecord)} ${typeMax !== undefined && header.length > typeMax ? 'its type allows' : 'the reader holds'}; skipped`));
        const inBuf = Math.min(left - MRT_HEADER_BYTES, header.length);
        skip = header.length - inBuf;
        o += MRT_HEADER_BYTES + inBuf;
        if (skip > 0) break;
        continue;
      }
      if (left < MRT_HEADER_BYTES + header.length) { need = MRT_HEADER_BYTES + header.length; break; }
      const start = o + MRT_HEADER_BYTES;
      o = start + header.length;
      stats.records++;
      if (handleRaw !== undefined && handleRaw(header, buf, start, o)) continue;
      let record: MrtRecord;
      try {
        record = decodeBody(header, buf, start);
      } catch (e) {
        if (!(e instanceof MrtDecodeError)) throw e;
        report(new MrtDecodeError(e.code, at, `record of type ${header.type}/${header.subtype} at byte ${at}: ${e.message}`, { cause: e.cause ?? e }));
        continue;
      }
      if (record.kind === 'unsupported') { stats.unsupported++; continue; }
      onRecord(record, at);
    }
    base += o;
    buf = buf.subarray(o);
    parts = buf.length > 0 ? [buf] : [];
    held = buf.length;
  };

  try {
    for await (const raw of decompressed(input, options)) {
      let chunk = raw;
      stats.bytes += chunk.length;
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        skip -= n;
        base += n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      parts.push(chunk);
      held += chunk.length;
      if (held >= need) drain();
      if (options.afterChunk !== undefined) await options.afterChunk();
    }
  } catch (e) {
    if (!(e instanceof MrtDecodeError)) throw e;
    report(new MrtDecodeError(e.code, base + held, e.message.replace(/ \(at byte \d+\)$/, ''), { cause: e.cause }));
    stats.incomplete = true;
    return stats;
  }
  if (held > 0 || skip > 0) {
    report(new MrtDecodeError('MRT_ERR_TRUNCATED', base, `the stream ends inside a record: ${skip > 0 ? `${skip} bytes of a skipped record` : `${held} bytes of ${need}`} missing`));
    stats.incomplete = true;
  }
  return stats;
}

/** Called with each element and the stream offset of the record it came from. */
export type ElementVisitor = (element: MrtElement, recordOffset: number) => void;

/**
 * Reads every element of `input`: records as `readRecords` does, RIB entries resolved against the
 * last PEER_INDEX_TABLE. A record whose elements cannot be formed (a peer index out of range) is
 * reported whole and none of its elements is visited.
 */
export async function readElements(input: AsyncIterable<Uint8Array>, onElement: ElementVisitor, onError: ErrorVisitor,
  options: MrtReadOptions = {}): Promise<MrtReadStats> {
  let peers: readonly MrtPeer[] | undefined;
  let extraErrors = 0;
  const stats = await readRecords(input, (record, offset) => {
    if (record.kind === 'peer-index') { peers = record.peers; return; }
    try {
      visitElements(record, peers, (e) => onElement(e, offset));
    } catch (e) {
      if (!(e instanceof MrtDecodeError)) throw e;
      extraErrors++;
      onError(new MrtDecodeError(e.code, offset, `record at byte ${offset}: ${e.message}`, { cause: e }));
    }
  }, onError, options);
  stats.errors += extraErrors;
  return stats;
}
