/**
 * `meridian mrt dump`: every element of MRT files as `bgpdump -m` prints it, one line each, so the
 * two can be compared and scripted on. Errors go to the error stream, one line per bad record.
 */
import { BgpdumpLineWriter } from './line-writer';
import { BgpdumpTranscoder } from './transcode';
import type { MrtHeader } from './codec';
import { openInput, readElements, type MrtReadOptions, type MrtReadStats } from './reader';

/**
 * Where the dump writes; `write` returning false means wait for `drain` (a Node stream). A sink
 * that calls `done` once it no longer holds the chunk (as a stream's write callback does) lets
 * the dump write into that memory again.
 */
export interface DumpSink {
  write(chunk: Uint8Array | string, done?: (error?: Error | null) => void): boolean | unknown;
  once?(event: 'drain', listener: () => void): unknown;
}

/** What a dump wrote. */
export interface DumpResult {
  readonly lines: number;
  readonly errors: number;
  /** Files (or `-`) that ended early or could not be opened. */
  readonly failedInputs: readonly string[];
}

/**
 * Dumps each of `paths` (`-` is standard input) in order to `out`, reporting per-record errors on
 * `err`. Lines go to `out` in chunks of about a megabyte; waits for `out` to drain between
 * decompressed chunks, so memory stays bounded on a slow reader.
 */
export async function dumpMrt(paths: readonly string[], out: DumpSink, err: DumpSink, options: MrtReadOptions = {}): Promise<DumpResult> {
  let lines = 0;
  let errors = 0;
  const failedInputs: string[] = [];
  let blocked = false;
  const writer: BgpdumpLineWriter = new BgpdumpLineWriter((chunk) => {
    if (out.write(chunk, (e) => { if (e == null) writer.reuse(chunk); }) === false) blocked = true;
  });
  const afterChunk = async (): Promise<void> => {
    if (blocked && out.once !== undefined) await new Promise<void>((resolve) => { out.once?.('drain', resolve); });
    blocked = false;
  };
  for (const path of paths) {
    // Common records go straight from bytes to text; the rest are decoded and formatted element by element.
    const transcoder = new BgpdumpTranscoder(writer);
    const handleRaw = (header: MrtHeader, buf: Uint8Array, start: number, end: number): boolean => {
      const n = transcoder.record(header, buf, start, end);
      if (n < 0) return false;
      lines += n;
      return true;
    };
    let stats: MrtReadStats;
    try {
      stats = await readElements(openInput(path), (e) => {
        writer.write(e);
        lines++;
      }, (e) => {
        err.write(`${path}: ${e.message}\n`);
      }, { ...options, afterChunk, handleRaw });
    } catch (e) {
      writer.flush();
      errors++;
      failedInputs.push(path);
      err.write(`${path}: ${e instanceof Error ? e.message : String(e)}\n`);
      continue;
    }
    writer.flush();
    errors += stats.errors;
    if (stats.incomplete) failedInputs.push(path);
  }
  return { lines, errors, failedInputs };
}
