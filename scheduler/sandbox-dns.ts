import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { LineLog, LogLevel } from '../common';

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
  /** The zone the server answers for (default `SANDBOX_DNS_ZONE`); the scheduler checks workloads' names against it. */
  readonly zone?: string;
  /** How long to wait for the server to answer (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Where the sandbox's own messages about the server (deaths, restarts) go. */
  readonly log?: LineLog;
  /** The server's `logLevel` (default `info`). */
  readonly logLevel?: LogLevel;
  /** Where the server's own log lines (JSON) go; default `log`, one message per line. */
  readonly serverLines?: (line: string) => void;
}

/** A GeoDNS server process that follows the sandbox scheduler's watch stream, restarted when it dies. */
export interface SandboxDns {
  readonly address: string;
  readonly port: number;
  readonly adminPort: number | null;
  /** The running process's id (it changes on a restart). */
  pid(): number | undefined;
  /** How many times the process died and was started again. */
  restarts(): number;
  /** Sends SIGTERM and waits for the process to exit; no restart follows. Idempotent. */
  stop(): Promise<void>;
}

/** Restart backoff: the first retry after this, doubling up to `MAX_BACKOFF_MS`. */
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;
/** A process that served this long before it died restarts after the shortest delay again. */
const STABLE_AFTER_MS = 60_000;

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

/** The zone the sandbox's GeoDNS server answers for. */
export const SANDBOX_DNS_ZONE = 'meridian.test';

/** The sandbox's zone as the GeoDNS config file takes it: SOA, two name servers on loopback, and a few static records. */
export function sandboxZone(origin: string): Record<string, unknown> {
  return {
    origin,
    soa: { mname: `ns1.${origin}`, rname: `hostmaster.${origin}`, serial: 1 },
    ns: [{ name: `ns1.${origin}`, ipv4: '127.0.0.1' }, { name: `ns2.${origin}`, ipv4: '127.0.0.2' }],
    records: [{ name: 'www', type: 'CNAME', value: `web.${origin}` }, { name: '@', type: 'TXT', value: 'v=meridian1' }],
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

interface Ready { readonly address: string; readonly port: number; readonly adminPort: number | null }

/** Spawns one GeoDNS process and resolves once it answers; rejects (with the process stopped) otherwise. */
async function spawnDns(opts: SandboxDnsOptions, configPath: string, port: number, adminPort: number | 'off',
  log: LineLog): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, [dnsEntry(), '--json', '--config', configPath, '--address', opts.host,
    '--port', String(port), '--admin-port', String(adminPort),
    '--watch', opts.schedulerUrl, '--snapshot', opts.snapshotPath], {
    env: { ...process.env, MERIDIAN_API_TOKEN: opts.token },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only the sandbox, which stops the server
    // in order (a server that died of the same signal would be restarted meanwhile).
    detached: true,
  });
  // Whatever way the sandbox leaves, even by process.exit, the server goes with it.
  const reap = (): void => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); };
  process.on('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const recent: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    if (opts.serverLines) opts.serverLines(line);
    else log(line);
  });
  try {
    const ready = await new Promise<Ready>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`GeoDNS server did not start within ${opts.readyTimeoutMs ?? 30_000} ms`)),
        opts.readyTimeoutMs ?? 30_000);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolveReady(JSON.parse(line) as Ready);
        } catch {
          reject(new Error(`GeoDNS server printed an unexpected line: ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`GeoDNS server exited (${signal ?? `code ${String(code)}`}) before it was ready:\n  ${recent.join('\n  ')}`));
      });
    });
    return { child, ready };
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    throw err;
  }
}

/**
 * Starts the GeoDNS server as its own process, as in production: it learns placements only over
 * the scheduler's watch stream (the token travels in its environment, not on its command line).
 * Resolves once the server answers; rejects with its last output if it exits or stays silent.
 * When the process dies later, it is started again on the same ports, after a delay that doubles
 * from 250 ms to 30 s while restarts keep failing, and every death and restart is logged.
 */
export async function startSandboxDns(opts: SandboxDnsOptions): Promise<SandboxDns> {
  const log = opts.log ?? (() => undefined);
  // Settings the flags do not cover go in a config file beside the snapshot.
  const configPath = join(dirname(opts.snapshotPath), 'dns-config.json');
  writeFileSync(configPath, `${JSON.stringify({ logLevel: opts.logLevel ?? 'info', zones: [sandboxZone(opts.zone ?? SANDBOX_DNS_ZONE)], geoip: opts.geoip ?? sandboxGeoip(dirname(opts.snapshotPath)) }, null, 2)}\n`);
  const first = await spawnDns(opts, configPath, opts.port ?? 5300, opts.adminPort ?? 8053, log);
  const { ready } = first;
  let child: ChildProcess | undefined = first.child;
  let stopping = false;
  let restarts = 0;
  let backoff = MIN_BACKOFF_MS;
  let startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let pending: Promise<void> | undefined;

  const watchExit = (c: ChildProcess): void => {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      child = undefined;
      if (Date.now() - startedAt >= STABLE_AFTER_MS) backoff = MIN_BACKOFF_MS;
      log(`dns: GeoDNS server exited (${signal ?? `code ${String(code)}`}); names are not served until it restarts in ${backoff} ms`, 'warn');
      schedule();
    });
  };
  const schedule = (): void => {
    const delay = backoff;
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    timer = setTimeout(() => {
      timer = undefined;
      pending = spawnDns(opts, configPath, ready.port, ready.adminPort ?? 'off', log).then(({ child: c }) => {
        if (stopping) { c.kill('SIGTERM'); return exited(c); }
        child = c;
        restarts++;
        startedAt = Date.now();
        log(`dns: GeoDNS server restarted (pid ${String(c.pid)}), serving on ${ready.address}:${ready.port} again`);
        watchExit(c);
        return undefined;
      }, (e: Error) => {
        if (stopping) return;
        log(`dns: GeoDNS server restart failed: ${e.message}; next attempt in ${backoff} ms`, 'error');
        schedule();
      });
    }, delay);
  };
  watchExit(first.child);

  return {
    ...ready,
    pid: () => child?.pid,
    restarts: () => restarts,
    stop: async () => {
      stopping = true;
      if (timer) clearTimeout(timer);
      // A restart under way finishes first, then sees `stopping` and stops its process.
      await pending;
      const c = child;
      if (!c) return;
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await exited(c);
    },
  };
}
