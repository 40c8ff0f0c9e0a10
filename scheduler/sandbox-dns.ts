import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** Options of the sandbox's GeoDNS process. */
export interface SandboxDnsOptions {
  readonly host: string;
  /** UDP and TCP port (default 5300; 0 picks one). */
  readonly port?: number;
  /** Admin HTTP port (default 8053; 0 picks one). */
  readonly adminPort?: number;
  /** The scheduler's base URL and token, for the watch stream. */
  readonly schedulerUrl: string;
  readonly token: string;
  /** Where the server keeps its last watch snapshot. */
  readonly snapshotPath: string;
  /**
   * The server's `geoip` settings (`GeoipConfigSchema` in `dns/config.ts`), written to its config
   * file; default `sandboxGeoip(dir of snapshotPath)`.
   */
  readonly geoip?: Record<string, unknown>;
  /** How long to wait for the server to answer (default 30 s). */
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** A GeoDNS server process that follows the sandbox scheduler's watch stream. */
export interface SandboxDns {
  readonly address: string;
  readonly port: number;
  readonly adminPort: number | null;
  /** Sends SIGTERM and waits for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The sandbox's GeoIP settings: no data channel (they need a router, RIS archives or a signed
 * zone), swaps at most every 10 s, and the hot-prefix cache in the sandbox's data directory.
 */
export function sandboxGeoip(dataDir: string): Record<string, unknown> {
  return {
    minSwapIntervalSeconds: 10, maxDropPercent: 25, healthCheckIntervalSeconds: 5,
    cache: { enabled: true, path: join(dataDir, 'dns-hot-prefixes.bin'), maxPrefixes: 2_000_000, ttlHours: 72, flushIntervalMs: 1000,
      mergeIntervalSeconds: 60, overridesDatasetAfterHours: 24 },
  };
}

/** The built GeoDNS entry script, beside this folder in `dist/`. */
function dnsEntry(): string {
  const entry = resolve(__dirname, '..', 'dns', 'main.js');
  if (!existsSync(entry)) throw new Error(`GeoDNS entry ${entry} not found: run 'npm run build' first`);
  return entry;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });
}

/**
 * Starts the GeoDNS server as its own process, as in production: it learns placements only over
 * the scheduler's watch stream (the token travels in its environment, not on its command line).
 * Resolves once the server answers; rejects with its last output if it exits or stays silent.
 */
export async function startSandboxDns(opts: SandboxDnsOptions): Promise<SandboxDns> {
  const log = opts.log ?? (() => undefined);
  // Settings the flags do not cover go in a config file beside the snapshot.
  const configPath = join(dirname(opts.snapshotPath), 'dns-config.json');
  writeFileSync(configPath, `${JSON.stringify({ geoip: opts.geoip ?? sandboxGeoip(dirname(opts.snapshotPath)) }, null, 2)}\n`);
  const child = spawn(process.execPath, [dnsEntry(), '--json', '--config', configPath, '--address', opts.host,
    '--port', String(opts.port ?? 5300), '--admin-port', String(opts.adminPort ?? 8053),
    '--watch', opts.schedulerUrl, '--snapshot', opts.snapshotPath], {
    env: { ...process.env, MERIDIAN_API_TOKEN: opts.token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recent: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(line);
  });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) log(`dns: GeoDNS server exited (${signal ?? `code ${String(code)}`}); names are no longer served`);
  });
  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };
  try {
    const ready = await new Promise<{ address: string; port: number; adminPort: number | null }>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`GeoDNS server did not start within ${opts.readyTimeoutMs ?? 30_000} ms`)),
        opts.readyTimeoutMs ?? 30_000);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolveReady(JSON.parse(line) as { address: string; port: number; adminPort: number | null });
        } catch {
          reject(new Error(`GeoDNS server printed an unexpected line: ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`GeoDNS server exited (${signal ?? `code ${String(code)}`}) before it was ready:\n  ${recent.join('\n  ')}`));
      });
    });
    return { ...ready, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
