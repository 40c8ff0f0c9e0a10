/**
 * `meridian mrt dump`: every element of MRT files as `bgpdump -m` prints it, one line each, so the
 * two can be compared and scripted on. Errors go to the error stream, one line per bad record.
 */
import { formatBgpdumpLine } from './elements';
import { openInput, readElements, type MrtReadOptions, type MrtReadStats } from './reader';

/** Where the dump writes; `write` returning false means wait for `drain` (a Node stream). */
export interface DumpSink {
  write(text: string): boolean | unknown;
  once?(event: 'drain', listener: () => void): unknown;
}

/** What a dump wrote. */
export interface DumpResult {
  readonly lines: number;
  readonly errors: number;
  /** Files (or `-`) that ended early or could not be opened. */
  readonly failedInputs: readonly string[];
}

/** Text gathered before it is written: large writes are cheaper than one per line. */
const FLUSH_CHARS = 1 << 20;

/**
 * Dumps each of `paths` (`-` is standard input) in order to `out`, reporting per-record errors on
 * `err`. Waits for `out` to drain between decompressed chunks, so memory stays bounded on a slow reader.
 */
export async function dumpMrt(paths: readonly string[], out: DumpSink, err: DumpSink, options: MrtReadOptions = {}): Promise<DumpResult> {
  let lines = 0;
  let errors = 0;
  const failedInputs: string[] = [];
  let pending: string[] = [];
  let pendingChars = 0;
  let blocked = false;
  const flush = (): void => {
    if (pending.length === 0) return;
    pending.push('');
    if (out.write(pending.join('\n')) === false) blocked = true;
    pending = [];
    pendingChars = 0;
  };
  const afterChunk = async (): Promise<void> => {
    if (pendingChars >= FLUSH_CHARS) flush();
    if (blocked && out.once !== undefined) await new Promise<void>((resolve) => { out.once?.('drain', resolve); });
    blocked = false;
  };
  for (const path of paths) {
    let stats: MrtReadStats;
    try {
      stats = await readElements(openInput(path), (e) => {
        const line = formatBgpdumpLine(e);
        pending.push(line);
        pendingChars += line.length + 1;
        lines++;
      }, (e) => {
        err.write(`${path}: ${e.message}\n`);
      }, { ...options, afterChunk });
    } catch (e) {
      flush();
      errors++;
      failedInputs.push(path);
      err.write(`${path}: ${e instanceof Error ? e.message : String(e)}\n`);
      continue;
    }
    flush();
    errors += stats.errors;
    if (stats.incomplete) failedInputs.push(path);
  }
  return { lines, errors, failedInputs };
}
