import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/** Package name prefixes of the three clouds' SDKs. */
export const CLOUD_SDK_PATTERN = /[\\/]node_modules[\\/](@aws-sdk|@azure|@alicloud|@smithy)[\\/]/;

/** What loading one module did in a fresh Node process: every module it loaded, and how long it took. */
export interface LoadReport {
  readonly modules: readonly string[];
  readonly ms: number;
}

/**
 * Requires `entry` (a path under the compiled tree, such as `policies` or `providers/index`) in a
 * child process and reports `require.cache` afterwards, so nothing this process loaded counts.
 */
export function loadInChild(entry: string): Promise<LoadReport> {
  const file = resolve(__dirname, '..', '..', entry);
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)});
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    process.stdout.write(JSON.stringify({ ms, modules: Object.keys(require.cache) }));`;
  return new Promise((done, fail) => {
    execFile(process.execPath, ['-e', script], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`loading ${entry} failed: ${stderr || err.message}`));
      else done(JSON.parse(stdout) as LoadReport);
    });
  });
}
