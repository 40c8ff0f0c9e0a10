/**
 * Real daemons from Debian (BIRD, GoBGP, knot, nsd, unbound, ...) run by tests: each in its own
 * temporary directory, on a loopback address of its own, stopped (and its directory removed) by
 * `stop()`, which an `after` hook must call. Nothing here skips: a missing binary is an error
 * (`npm test` installs them first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

/** A running daemon. */
export interface Daemon {
  readonly proc: ChildProcess;
  /** Its working directory (config files, sockets, logs); removed by `stop()`. */
  readonly dir: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** True once it exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s); resolves once it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of `startDaemon`. */
export interface DaemonOptions {
  /** Binary (resolved on PATH, or an absolute path such as /usr/sbin/bird). */
  readonly cmd: string;
  readonly args: readonly string[];
  /** Use this directory instead of a new temporary one (it is not removed). */
  readonly dir?: string;
  /** Resolves true once the daemon serves; polled until `readyTimeoutMs` (default 15 s). */
  readonly ready?: (d: Daemon) => boolean | Promise<boolean>;
  readonly readyTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** A fresh temporary directory for one daemon. */
export function daemonDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `meridian-${name}-`));
}

/**
 * A loopback address of its own for one test's daemons, e.g. `127.83.17.4`, so fixed-port daemons
 * of parallel runs or earlier tests never collide. Deterministic when given `n`.
 */
export function loopbackAddress(n = Math.floor(Math.random() * 0xfffffe)): string {
  const v = (n % 0xfffffe) + 1;
  return `127.${(v >> 16) & 0xff || 1}.${(v >> 8) & 0xff}.${v & 0xff || 1}`;
}

/** Starts a daemon and waits until `ready` says it serves; on failure stops it and throws with its output. */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const own = o.dir === undefined;
  const dir = o.dir ?? daemonDir(o.cmd.replace(/.*\//, ''));
  const proc = spawn(o.cmd, [...o.args], { cwd: dir, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let gone = false;
  proc.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exit = new Promise<void>((resolve) => proc.once('close', () => { gone = true; resolve(); }));
  proc.once('error', (e) => { out += `\nspawn ${o.cmd}: ${e.message}`; gone = true; });
  let stopping: Promise<void> | undefined;
  const d: Daemon = {
    proc, dir,
    output: () => out,
    exited: () => gone,
    stop: (graceMs = 3_000) => stopping ??= (async () => {
      if (!gone) {
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(t);
      }
      if (own) rmSync(dir, { recursive: true, force: true });
    })(),
  };
  if (o.ready) {
    try {
      await waitFor(`${o.cmd} to serve`, async () => {
        if (gone) throw new Error(`${o.cmd} exited before it served:\n${out}`);
        return o.ready!(d);
      }, o.readyTimeoutMs ?? 15_000, 50);
    } catch (e) {
      await d.stop();
      throw new Error(`${(e as Error).message}\n--- ${o.cmd} output ---\n${out}`, { cause: e });
    }
  }
  return d;
}
