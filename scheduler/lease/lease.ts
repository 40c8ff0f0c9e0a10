import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

/** The table that holds leases, one row per lease name, unless told otherwise. */
export const DEFAULT_LEASE_TABLE = 'meridian_lease';

/** Timers and the monotonic clock a lease runs on; a seam for tests (a paused process runs no timers). */
export interface LeaseTimers {
  /** Monotonic milliseconds: never steps with the wall clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const SYSTEM_TIMERS: LeaseTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout); },
};

/** Options of a `LeaderLease`. */
export interface LeaderLeaseOptions {
  /** Where PostgreSQL is; the lease keeps a small pool of its own. */
  readonly connection: pg.PoolConfig;
  /** The lease's name: contenders for the same role use the same name. */
  readonly name: string;
  /** This contender's identity, unique among contenders; by default host, pid and a random part. */
  readonly holder?: string;
  /** How long a lease lasts in the database after each renewal (default 15 s). */
  readonly leaseDurationMs?: number;
  /**
   * How long after sending a renewal the holder still counts itself the leader when no later one
   * succeeded (default 10 s). Shorter than the lease, so a holder steps down before its lease can
   * pass to another; the difference covers clock-rate differences between this host and the database.
   */
  readonly renewDeadlineMs?: number;
  /** Time between renewals while holding, and between attempts while not (default 2 s). */
  readonly renewIntervalMs?: number;
  /** The lease table (default `meridian_lease`); created when missing. */
  readonly table?: string;
  /** Where failed renewals are reported (default: nowhere). */
  readonly log?: (message: string) => void;
  readonly timers?: LeaseTimers;
}

/** Raised by `withFencingToken` when the token is no longer the lease's current one. */
export class StaleLeaseTokenError extends Error {
  override readonly name = 'StaleLeaseTokenError';
  readonly code = 'MERIDIAN_ERR_LEASE_TOKEN_STALE';
  constructor(readonly lease: string, readonly token: number, readonly current: number | undefined, readonly expired: boolean) {
    super(current === token
      ? `lease '${lease}' with fencing token ${token} has expired: the write was refused`
      : `fencing token ${token} of lease '${lease}' is stale (current: ${current ?? 'none'}): the write was refused`);
  }
}

function tableName(table: string | undefined): string {
  const t = table ?? DEFAULT_LEASE_TABLE;
  // Interpolated into SQL: a plain lowercase identifier only.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(t)) throw new RangeError(`lease table must be a lowercase SQL identifier, got '${t}'`);
  return t;
}

/** Creates the lease table when missing (safe when several contenders start at once). */
export async function ensureLeaseTable(client: pg.ClientBase, table?: string): Promise<void> {
  const t = tableName(table);
  await client.query('BEGIN');
  try {
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide on the catalog: one at a time.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`meridian lease table ${t}`]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t} (
      name text PRIMARY KEY, holder text NOT NULL, token bigint NOT NULL, expires_at timestamptz NOT NULL)`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Runs `write` in a transaction that first checks, holding a share lock on the lease row, that
 * `token` is the lease's current token and the lease has not expired; otherwise rolls back and
 * throws `StaleLeaseTokenError`. The lock keeps the lease from passing on until the transaction
 * ends, so a deposed holder's write either commits before its successor's token exists or is
 * refused. `client` must be one connection (not a pool) with no transaction open; a failed
 * `write` rolls back too.
 */
export async function withFencingToken<T>(
  client: pg.ClientBase, fence: { readonly name: string; readonly token: number; readonly table?: string }, write: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  const t = tableName(fence.table);
  await client.query('BEGIN');
  try {
    const res = await client.query<{ token: string; live: boolean }>(
      `SELECT token::text AS token, expires_at > now() AS live FROM ${t} WHERE name = $1 FOR SHARE`, [fence.name]);
    const row = res.rows[0];
    const current = row ? Number(row.token) : undefined;
    if (current !== fence.token || !row?.live) throw new StaleLeaseTokenError(fence.name, fence.token, current, current === fence.token);
    const out = await write(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * A leader lease enforced by PostgreSQL. Each contender tries, on a timer, one compare-and-set
 * statement timed by the database's clock: it renews the lease if this contender holds it, takes
 * it if it has expired (its fencing token then goes up by one), and otherwise changes nothing.
 * The holder counts itself leader until `renewDeadlineMs` after it sent its last successful
 * renewal, measured on the monotonic clock, which is before the database could let the lease
 * expire; `isLeader()` and `currentToken()` say so at the moment they are called, even when no
 * timer could run (a paused process), and `onLost` follows. Writes that must come from the
 * leader go through `withFencingToken` with `currentToken()`, so a deposed one's are refused.
 */
export class LeaderLease {
  readonly name: string;
  readonly holder: string;
  private readonly table: string;
  private readonly pool: pg.Pool;
  private readonly timers: LeaseTimers;
  private readonly log: (message: string) => void;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly renewIntervalMs: number;
  private readonly queryTimeoutMs: number;
  private readonly acquiredListeners = new Set<(token: number) => void>();
  private readonly lostListeners = new Set<(reason: string) => void>();
  private running = false;
  private stopped = false;
  private leading = false;
  private token: number | undefined;
  /** Monotonic time until which this holder counts itself leader. */
  private deadline = -Infinity;
  private tickTimer: unknown;
  private deadlineTimer: unknown;
  private inFlight: Promise<void> | undefined;

  constructor(options: LeaderLeaseOptions) {
    this.name = options.name;
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.table = tableName(options.table);
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.log = options.log ?? (() => undefined);
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.renewIntervalMs = options.renewIntervalMs ?? 2_000;
    if (!(this.renewIntervalMs > 0 && this.renewIntervalMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new RangeError(`lease timings must satisfy 0 < renewIntervalMs (${this.renewIntervalMs}) < renewDeadlineMs (${this.renewDeadlineMs}) `
        + `< leaseDurationMs (${this.leaseDurationMs})`);
    }
    // A renewal that hangs must not use up the time in which a later one could still succeed.
    this.queryTimeoutMs = this.renewDeadlineMs - this.renewIntervalMs;
    this.pool = new pg.Pool({ max: 2, connectionTimeoutMillis: this.queryTimeoutMs, query_timeout: this.queryTimeoutMs, ...options.connection });
    // Idle connections break when the server restarts; the next query opens a new one.
    this.pool.on('error', (err) => { this.log(`lease '${this.name}': connection lost: ${err.message}`); });
  }

  /** Calls `listener` with the fencing token each time this contender becomes leader; returns its removal. */
  onAcquired(listener: (token: number) => void): () => void {
    this.acquiredListeners.add(listener);
    return () => { this.acquiredListeners.delete(listener); };
  }

  /** Calls `listener` with the reason each time this contender stops being leader; returns its removal. */
  onLost(listener: (reason: string) => void): () => void {
    this.lostListeners.add(listener);
    return () => { this.lostListeners.delete(listener); };
  }

  /** True while this contender holds the lease by its own reckoning (which ends before the database's). */
  isLeader(): boolean {
    return this.leading && this.timers.now() < this.deadline;
  }

  /** The fencing token while leader, else undefined. */
  currentToken(): number | undefined {
    return this.isLeader() ? this.token : undefined;
  }

  /**
   * The lease row as the database has it now: holder, token, and seconds since its last renewal
   * (from its expiry); undefined when nobody ever took it. Rejects when the database cannot answer.
   */
  async describe(): Promise<{ readonly holder: string; readonly token: number; readonly renewedSecondsAgo: number; readonly expired: boolean } | undefined> {
    const res = await this.pool.query<{ holder: string; token: string; left_ms: string }>({
      text: `SELECT holder, token::text AS token, (extract(epoch FROM expires_at - now()) * 1000)::bigint::text AS left_ms FROM ${this.table} WHERE name = $1`,
      values: [this.name],
    });
    const row = res.rows[0];
    if (!row) return undefined;
    const left = Number(row.left_ms);
    return { holder: row.holder, token: Number(row.token), renewedSecondsAgo: Math.max(0, (this.leaseDurationMs - left) / 1000), expired: left <= 0 };
  }

  /**
   * Creates the table when missing, makes a first attempt and keeps trying on the timer. Rejects
   * when the table cannot be made (nothing keeps running then; `start()` may be called again).
   * A stopped lease cannot start again: make a new one.
   */
  async start(): Promise<void> {
    if (this.stopped) throw new Error(`lease '${this.name}' was stopped; a new LeaderLease must be made to contend again`);
    if (this.running) return;
    const client = await this.pool.connect();
    try {
      await ensureLeaseTable(client, this.table);
    } finally {
      client.release();
    }
    this.running = true;
    await this.attempt();
  }

  /**
   * Stops renewing. With `release` (the default) a held lease is given back, so that another
   * contender takes it at its next attempt instead of after the lease expires; `onLost` fires.
   * Idempotent.
   */
  async stop(options: { readonly release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.timers.clearTimeout(this.tickTimer);
    await this.inFlight;
    const token = this.currentToken();
    if ((options.release ?? true) && token !== undefined) {
      try {
        await this.pool.query({
          text: `UPDATE ${this.table} SET expires_at = now() WHERE name = $1 AND holder = $2 AND token = $3`,
          values: [this.name, this.holder, token],
        });
      } catch (err) {
        this.log(`lease '${this.name}': could not give the lease back (it expires in at most ${this.leaseDurationMs} ms): ${(err as Error).message}`);
      }
    }
    this.depose('stopped');
    await this.pool.end();
  }

  private attempt(): Promise<void> {
    const run = this.inFlight = this.renew().finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
      if (this.running) this.tickTimer = this.timers.setTimeout(() => { void this.attempt(); }, this.renewIntervalMs);
    });
    return run;
  }

  private async renew(): Promise<void> {
    // The database's expiry is counted from its clock when the statement runs, which is after this.
    const sentAt = this.timers.now();
    let token: number | undefined;
    try {
      const res = await this.pool.query<{ token: string }>({
        text: `INSERT INTO ${this.table} AS l (name, holder, token, expires_at)
          VALUES ($1, $2, 1, now() + $3::integer * interval '1 millisecond')
          ON CONFLICT (name) DO UPDATE SET
            token = CASE WHEN l.holder = excluded.holder AND l.expires_at > now() THEN l.token ELSE l.token + 1 END,
            holder = excluded.holder, expires_at = excluded.expires_at
          WHERE (l.holder = excluded.holder AND l.expires_at > now()) OR l.expires_at <= now()
          RETURNING token::text AS token`,
        values: [this.name, this.holder, this.leaseDurationMs],
      });
      token = res.rows[0] ? Number(res.rows[0].token) : undefined;
    } catch (err) {
      // Not an answer: the lease may or may not have been renewed. The deadline decides.
      this.log(`lease '${this.name}': renewal failed: ${(err as Error).message}`);
      return;
    }
    // Recorded even while stopping: `stop()` then gives back what this attempt took.
    if (token === undefined) {
      this.depose('another contender holds the lease');
      return;
    }
    if (this.leading && token !== this.token) this.depose('the lease expired and was taken again');
    const deadline = sentAt + this.renewDeadlineMs;
    // An answer that arrives after its own deadline proves nothing about now.
    if (this.timers.now() >= deadline) return;
    this.deadline = deadline;
    this.token = token;
    this.timers.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = this.timers.setTimeout(() => this.checkDeadline(), deadline - this.timers.now());
    if (!this.leading) {
      this.leading = true;
      for (const l of this.acquiredListeners) this.call(() => l(token));
    }
  }

  private checkDeadline(): void {
    if (!this.leading) return;
    const left = this.deadline - this.timers.now();
    if (left > 0) this.deadlineTimer = this.timers.setTimeout(() => this.checkDeadline(), left);
    else this.depose(`no renewal succeeded within ${this.renewDeadlineMs} ms`);
  }

  private depose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.deadline = -Infinity;
    this.timers.clearTimeout(this.deadlineTimer);
    for (const l of this.lostListeners) this.call(() => l(reason));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log(`lease '${this.name}': a listener threw: ${(err as Error).message}`);
    }
  }
}
