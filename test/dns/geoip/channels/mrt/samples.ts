/** The real MRT samples in the shared data folder, and helpers to run bgpdump on them. */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';

/** `../shared/data/mrt/` seen from the project root. */
export const SAMPLES_DIR = resolve(__dirname, '../../../../../../../shared/data/mrt');

/** Every MRT file among the samples (the compressed ones; the folder also holds a README and a JSON capture). */
export function mrtSamples(): string[] {
  return readdirSync(SAMPLES_DIR).filter((f) => /\.(gz|bz2)$/.test(f)).sort().map((f) => join(SAMPLES_DIR, f));
}

/** Runs `cmd args` with stdout into `outFile`; resolves with its exit code and stderr. */
export async function runToFile(cmd: string, args: readonly string[], outFile: string, stdin?: string): Promise<{ code: number; stderr: string }> {
  const out = createWriteStream(outFile);
  const child = spawn(cmd, [...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => { if (stderr.length < 10_000) stderr += b.toString(); });
  child.stdout?.pipe(out);
  if (stdin !== undefined && child.stdin !== null) {
    createReadStream(stdin).pipe(child.stdin);
  }
  const code = await new Promise<number>((res, rej) => { child.on('error', rej); child.on('close', (c) => res(c ?? -1)); });
  await finished(out);
  return { code, stderr };
}
