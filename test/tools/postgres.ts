/**
 * A real PostgreSQL server from Debian (`postgresql`) for tests: a fresh cluster in a temporary
 * directory, listening on 127.0.0.1 on a free port (its unix socket in that directory too), run
 * as the `postgres` system user because PostgreSQL refuses to run as root. `stop()`, which an
 * `after` hook must call, shuts it down fast and removes the directory. Nothing here skips: a
 * missing binary is an error (`npm test` installs the package first).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { waitFor } from './wait';

/** Where Debian puts the server binaries: not on PATH, one directory per major version. */
const PG_ROOT = '/usr/lib/postgresql';
/** The cluster's superuser; connections from 127.0.0.1 are trusted (a test cluster, loopback only). */
const SUPERUSER = 'postgres';

/** A running test cluster. */
export interface TestPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The directory of its unix socket (and of the cluster). */
  readonly dir: string;
  /** Settings for `pg.Client` / `pg.Pool` (superuser, database `postgres`). */
  readonly connection: Readonly<pg.ClientConfig>;
  /** Everything the server printed so far. */
  output(): string;
  /** Fast shutdown (SIGINT: clients are disconnected), keeping the cluster; resolves once it is gone. */
  shutdown(): Promise<void>;
  /** Starts the cluster again on the same port after `shutdown()`, and waits until it accepts connections. */
  restart(): Promise<void>;
  /** Shuts down (SIGKILL if it takes longer than 10 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/** The newest installed server's binary directory, e.g. `/usr/lib/postgresql/15/bin`. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error(`no PostgreSQL server in ${PG_ROOT}/*/bin: install the Debian package 'postgresql' (npm test does)`);
  return join(PG_ROOT, versions[0], 'bin');
}

/** The command prefix that runs a binary as `postgres` when this process is root (PostgreSQL refuses root). */
function asPostgres(): { prefix: string[]; uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return { prefix: [] };
  const id = (flag: string) => Number(spawnSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error(`running as root, and there is no '${SUPERUSER}' system user to run PostgreSQL as (the Debian package creates it)`);
  // setpriv execs the server in place, so signals sent to the child reach PostgreSQL itself.
  return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'], uid, gid };
}

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', resolve); });
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Starts a fresh cluster and waits (at most `readyTimeoutMs`, default 30 s) until it accepts connections. */
export async function startPostgres(opts: { readyTimeoutMs?: number } = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const user = asPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'meridian-postgres-'));
  const data = join(dir, 'data');
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid as number);
  const run = (cmd: string, args: string[]) => {
    const [exe, ...rest] = [...user.prefix, join(bin, cmd), ...args];
    return { exe: exe as string, args: rest };
  };
  const init = run('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const made = spawnSync(init.exe, init.args, { cwd: dir, encoding: 'utf8' });
  if (made.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${made.status ?? made.signal}):\n${made.stdout}${made.stderr}${made.error ? String(made.error) : ''}`);
  }

  let port = 0;
  let out = '';
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let gone = true;
  const launch = async (): Promise<void> => {
    // Durability is not under test: no fsync makes the cluster start and commit faster.
    const server = run('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=40']);
    const p = proc = spawn(server.exe, server.args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    gone = false;
    p.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
    p.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
    exited = new Promise<void>((resolve) => p.once('close', () => { gone = true; resolve(); }));
    p.once('error', (e) => { out += `\nspawn ${server.exe}: ${e.message}`; });
    await waitFor(`PostgreSQL accepting connections on 127.0.0.1:${port}`, async () => {
      if (gone) throw new Error(`PostgreSQL exited before it accepted connections:\n${out}`);
      const c = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres', connectionTimeoutMillis: 1_000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, opts.readyTimeoutMs ?? 30_000, 50);
  };
  const shutdown = async (graceMs = 10_000): Promise<void> => {
    if (gone || !proc) return;
    proc.kill('SIGINT');
    const p = proc;
    const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };

  // The port is free when picked, but another process may take it first: pick again.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await shutdown();
      if (attempt < 3 && /could not bind|Address already in use/.test(out)) { out = ''; continue; }
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    dir,
    connection: Object.freeze({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' }),
    output: () => out,
    shutdown: () => shutdown(),
    restart: async () => {
      await shutdown();
      await launch();
    },
    stop: () => stopping ??= (async () => {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    })(),
  };
}
