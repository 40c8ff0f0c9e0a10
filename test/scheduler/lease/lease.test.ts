import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { LeaderLease, StaleLeaseTokenError, withFencingToken, type LeaderLeaseOptions, type LeaseTimers } from '../../../scheduler/lease';
import { startPostgres, type TestPostgres } from '../../tools/postgres';
import { waitFor, waitForValue } from '../../tools/wait';

/** Short timings so that expiry happens within a test: renewal deadline well inside the lease. */
const TIMING = { leaseDurationMs: 2_000, renewDeadlineMs: 1_400, renewIntervalMs: 200 } as const;

/** Timers that stop firing once paused, as in a process stopped by the scheduler or a long GC pause. */
function pausableTimers(): { timers: LeaseTimers; pause(): void } {
  let paused = false;
  return {
    timers: {
      now: () => performance.now(),
      setTimeout: (fn, ms) => setTimeout(() => { if (!paused) fn(); }, ms),
      clearTimeout: (h) => { clearTimeout(h as NodeJS.Timeout); },
    },
    pause: () => { paused = true; },
  };
}

describe('LeaderLease over a real PostgreSQL', function () {
  // PostgreSQL's start, and in one test its restart, on a machine that may be busy.
  this.timeout(60_000);
  let db: TestPostgres | undefined;
  let leases: LeaderLease[] = [];
  let lastName = 0;

  before(async () => {
    db = await startPostgres();
    const c = new pg.Client(db.connection);
    await c.connect();
    try {
      await c.query('CREATE TABLE fenced_writes (lease text NOT NULL, token bigint NOT NULL, note text NOT NULL)');
    } finally {
      await c.end();
    }
  });
  after(async () => { await db?.stop(); });
  afterEach(async () => {
    await Promise.all(leases.map((l) => l.stop({ release: false })));
    leases = [];
  });

  const contenders = (n: number, extra: (i: number) => Partial<LeaderLeaseOptions> = () => ({})): LeaderLease[] => {
    const name = `role-${++lastName}`;
    const made = Array.from({ length: n }, (_v, i) => new LeaderLease({
      connection: (db as TestPostgres).connection, name, holder: `contender-${i}`, ...TIMING, ...extra(i),
    }));
    leases.push(...made);
    return made;
  };
  const started = async (ls: LeaderLease[]): Promise<LeaderLease[]> => {
    await Promise.all(ls.map((l) => l.start()));
    return ls;
  };
  const leader = (ls: readonly LeaderLease[]) => waitForValue('exactly one leader', () => {
    const now = ls.filter((l) => l.isLeader());
    return now.length === 1 ? now[0] : undefined;
  }, 10_000, 10);
  /** A write made through the fence with `token`, on a connection of its own. */
  const fencedWrite = async (lease: LeaderLease, token: number, note: string): Promise<void> => {
    const c = new pg.Client((db as TestPostgres).connection);
    await c.connect();
    try {
      await withFencingToken(c, { name: lease.name, token }, (tx) => tx.query('INSERT INTO fenced_writes (lease, token, note) VALUES ($1, $2, $3)', [lease.name, token, note]));
    } finally {
      await c.end();
    }
  };
  const writes = async (name: string): Promise<Array<[number, string]>> => {
    const c = new pg.Client((db as TestPostgres).connection);
    await c.connect();
    try {
      const r = await c.query<{ token: string; note: string }>('SELECT token::text AS token, note FROM fenced_writes WHERE lease = $1 ORDER BY token, note', [name]);
      return r.rows.map((row) => [Number(row.token), row.note]);
    } finally {
      await c.end();
    }
  };
  const expiry = async (name: string): Promise<{ holder: string; token: number; expiresAt: number }> => {
    const c = new pg.Client((db as TestPostgres).connection);
    await c.connect();
    try {
      const r = await c.query<{ holder: string; token: string; expires_at: Date }>('SELECT holder, token::text AS token, expires_at FROM meridian_lease WHERE name = $1', [name]);
      const row = r.rows[0];
      assert.ok(row, `a lease row for ${name}`);
      return { holder: row.holder, token: Number(row.token), expiresAt: row.expires_at.getTime() };
    } finally {
      await c.end();
    }
  };

  it('refuses timings where a holder could still count itself leader after its lease expired', () => {
    assert.throws(() => new LeaderLease({ connection: {}, name: 'x', leaseDurationMs: 2_000, renewDeadlineMs: 2_000, renewIntervalMs: 200 }),
      /0 < renewIntervalMs \(200\) < renewDeadlineMs \(2000\) < leaseDurationMs \(2000\)/);
  });

  it('gives the lease to exactly one of three contenders, which keeps renewing it under the same token', async () => {
    const acquired: Array<[string, number]> = [];
    const ls = contenders(3);
    for (const l of ls) l.onAcquired((t) => acquired.push([l.holder, t]));
    await started(ls);
    const holder = await leader(ls);
    const first = await expiry(holder.name);
    assert.deepEqual([first.holder, first.token, holder.currentToken()], [holder.holder, 1, 1]);
    // Two renewals later: the expiry moved on, nothing else changed.
    await waitFor('two renewals', async () => (await expiry(holder.name)).expiresAt >= first.expiresAt + 2 * TIMING.renewIntervalMs, 5_000, 50);
    const later = await expiry(holder.name);
    assert.deepEqual([later.holder, later.token], [holder.holder, 1]);
    assert.deepEqual(ls.map((l) => l.isLeader()), ls.map((l) => l === holder));
    assert.deepEqual(ls.filter((l) => l !== holder).map((l) => l.currentToken()), [undefined, undefined]);
    assert.deepEqual(acquired, [[holder.holder, 1]], 'one event for the holding, none for its renewals');
  });

  it('hands a released lease to another contender at its next attempt, long before the lease would expire', async () => {
    const ls = await started(contenders(2));
    const holder = await leader(ls);
    const token = holder.currentToken() as number;
    const other = ls.find((l) => l !== holder) as LeaderLease;
    const lost: string[] = [];
    holder.onLost((reason) => lost.push(reason));
    const releasedAt = performance.now();
    await holder.stop();
    assert.deepEqual([lost, holder.isLeader()], [['stopped'], false]);
    const next = await waitForValue('the other contender to lead', () => other.currentToken(), TIMING.leaseDurationMs, 10);
    assert.ok(performance.now() - releasedAt < TIMING.leaseDurationMs, 'taken before the lease would have expired');
    assert.equal(next, token + 1);
    await assert.rejects(holder.start(), /lease 'role-\d+' was stopped; a new LeaderLease must be made to contend again/);
  });

  it('passes the lease on within the lease time and a second once the holder stops renewing, after the holder stepped down, and refuses its writes', async () => {
    const clocks = [pausableTimers(), pausableTimers(), pausableTimers()];
    const ls = await started(contenders(3, (i) => ({ timers: clocks[i].timers })));
    const old = await leader(ls);
    const oldToken = old.currentToken() as number;
    await fencedWrite(old, oldToken, 'before the pause');

    let takeover: { lease: LeaderLease; token: number; at: number; oldStillLeader: boolean } | undefined;
    for (const l of ls) {
      if (l !== old) l.onAcquired((token) => { takeover ??= { lease: l, token, at: performance.now(), oldStillLeader: old.isLeader() }; });
    }
    const pausedAt = performance.now();
    clocks[ls.indexOf(old)].pause();
    await waitFor('another contender to take the lease', () => takeover !== undefined, TIMING.leaseDurationMs + 1_000, 10);
    const t = takeover as NonNullable<typeof takeover>;
    assert.ok(t.at - pausedAt <= TIMING.leaseDurationMs + 1_000, `taken ${Math.round(t.at - pausedAt)} ms after the pause`);
    assert.ok(t.token > oldToken, `token ${t.token} after ${oldToken}`);
    assert.equal(t.oldStillLeader, false, 'the paused holder counted itself leader when the lease passed on');
    assert.equal(old.currentToken(), undefined);

    // The paused holder wakes and writes with the token it had: refused, nothing written.
    await assert.rejects(fencedWrite(old, oldToken, 'after the pause'), (err: unknown) => {
      assert.ok(err instanceof StaleLeaseTokenError);
      assert.deepEqual([err.code, err.token, err.current], ['MERIDIAN_ERR_LEASE_TOKEN_STALE', oldToken, t.token]);
      return true;
    });
    await fencedWrite(t.lease, t.lease.currentToken() as number, 'new leader');
    assert.deepEqual(await writes(old.name), [[oldToken, 'before the pause'], [t.token, 'new leader']]);
  });

  it('keeps or hands over the lease when PostgreSQL restarts under its holder, never with two leaders, and leads again after', async () => {
    const ls = await started(contenders(3));
    const before = await leader(ls);
    const beforeToken = before.currentToken() as number;
    const lost: string[] = [];
    before.onLost((reason) => lost.push(reason));
    let most = 0;
    const sampler = setInterval(() => { most = Math.max(most, ls.filter((l) => l.isLeader()).length); }, 5);
    try {
      await (db as TestPostgres).restart();
      const after = await leader(ls);
      const token = after.currentToken() as number;
      if (after === before && lost.length === 0) assert.equal(token, beforeToken, 'a holder that never stepped down keeps its token');
      else assert.ok(token >= beforeToken, `token ${token} after ${beforeToken}`);
      if (after !== before) assert.ok(token > beforeToken, `a new holder's token ${token} is above ${beforeToken}`);
      await fencedWrite(after, token, 'after the restart');
      assert.deepEqual(await writes(after.name), [[token, 'after the restart']]);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(most <= 1, `${most} contenders counted themselves leader at once`);
  });

  it('steps down while PostgreSQL is down for longer than the renewal deadline, and a contender leads again once it is back', async () => {
    const ls = await started(contenders(3));
    const before = await leader(ls);
    const beforeToken = before.currentToken() as number;
    const lost: string[] = [];
    before.onLost((reason) => lost.push(reason));
    let most = 0;
    const sampler = setInterval(() => { most = Math.max(most, ls.filter((l) => l.isLeader()).length); }, 5);
    try {
      await (db as TestPostgres).shutdown();
      await waitFor('the holder to step down', () => lost.length > 0, TIMING.renewDeadlineMs + 2_000, 10);
      assert.deepEqual([lost, ls.filter((l) => l.isLeader())], [[`no renewal succeeded within ${TIMING.renewDeadlineMs} ms`], []]);
      await (db as TestPostgres).restart();
      const after = await leader(ls);
      const token = after.currentToken() as number;
      assert.ok(after === before ? token >= beforeToken : token > beforeToken, `token ${token} after ${beforeToken}`);
      await fencedWrite(after, token, 'back');
      assert.deepEqual(await writes(after.name), [[token, 'back']]);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(most <= 1, `${most} contenders counted themselves leader at once`);
  });
});
