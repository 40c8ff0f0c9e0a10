import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { LeaderLease, StaleLeaseTokenError } from '../../../scheduler/lease';
import type { Workload } from '../../../scheduler/placement/types';
import { openSqliteStore, StoreSchemaTooNewError, type StateStore, type StoreChange } from '../../../scheduler/store';
import { migratePostgres, POSTGRES_MIGRATIONS, PostgresStateStore, POSTGRES_SCHEMA_VERSION } from '../../../scheduler/store/postgres';
import { startPostgres, type TestPostgres } from '../../tools/postgres';
import { waitFor } from '../../tools/wait';

const web = (replicas: number, name = 'web'): Workload => ({ name, replicas, size: { vcpu: 2, memoryGiB: 4 }, image: { aws: 'ami-1' }, policy: 'p' });

/** One kind of store under test: `state()` makes a new, empty state whose `open()` opens it (again). */
interface Backend {
  readonly name: string;
  before?(): Promise<void>;
  after?(): Promise<void>;
  state(): Promise<{ open(): Promise<StateStore>; remove(): Promise<void> }>;
}

const sqlite: Backend = {
  name: 'SQLite',
  state: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    return { open: async () => openSqliteStore({ dataDir: dir }), remove: async () => { rmSync(dir, { recursive: true, force: true }); } };
  },
};

let db: TestPostgres | undefined;
let databases = 0;
/** A new database on the test cluster. */
async function createDatabase(): Promise<pg.ClientConfig> {
  const name = `state_${++databases}`;
  const c = new pg.Client((db as TestPostgres).connection);
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return { ...(db as TestPostgres).connection, database: name };
}

const postgres: Backend = {
  name: 'PostgreSQL',
  before: async () => { db = await startPostgres(); },
  after: async () => { await db?.stop(); },
  state: async () => {
    const connection = await createDatabase();
    return { open: () => PostgresStateStore.open({ connection, where: `postgres://postgres@127.0.0.1/${String(connection.database)}` }), remove: async () => undefined };
  },
};

for (const backend of [sqlite, postgres]) {
  describe(`StateStore over ${backend.name}`, function () {
    // PostgreSQL's start on a machine that may be busy.
    this.timeout(60_000);
    const opened: StateStore[] = [];
    const removals: Array<() => Promise<void>> = [];
    before(async () => { await backend.before?.(); });
    after(async () => { await backend.after?.(); });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      for (const r of removals.splice(0)) await r();
    });
    const state = async () => {
      const st = await backend.state();
      removals.push(() => st.remove());
      return { open: async () => { const s = await st.open(); opened.push(s); return s; } };
    };

    it('bumps the generation only when the workload spec changes, whatever the key order', async () => {
      const s = await (await state()).open();
      assert.deepEqual([(await s.putWorkload(web(2))).created, (await s.getWorkload('web'))?.generation], [true, 1]);
      const reordered = { policy: 'p', image: { aws: 'ami-1' }, size: { memoryGiB: 4, vcpu: 2 }, replicas: 2, name: 'web' } as Workload;
      const same = await s.putWorkload(reordered);
      assert.deepEqual([same.created, same.changed, same.workload.generation], [false, false, 1]);
      assert.equal((await s.putWorkload(web(3))).workload.generation, 2);
    });

    it('keeps a deleted workload until purged and undeletes it on a new apply', async () => {
      const s = await (await state()).open();
      await s.putWorkload(web(1));
      assert.equal(await s.markWorkloadDeleted('web'), true);
      assert.equal(await s.markWorkloadDeleted('web'), false);
      assert.ok((await s.getWorkload('web'))?.deletedAt);
      const again = await s.putWorkload(web(1));
      assert.equal(again.created, true);
      assert.equal(again.workload.deletedAt, undefined);
      await s.markWorkloadDeleted('web');
      await s.purgeWorkload('web');
      assert.equal(await s.getWorkload('web'), undefined);
    });

    it('never hands out the same ordinal twice, even across reopening', async () => {
      const st = await state();
      const a = await st.open();
      await a.putWorkload(web(1));
      const first = [await a.nextOrdinal('web'), await a.nextOrdinal('web')];
      await a.close();
      const b = await st.open();
      assert.deepEqual([...first, await b.nextOrdinal('web')], [0, 1, 2]);
    });

    it('writes a create intent and its pending journal entry together, durable across reopening', async () => {
      const st = await state();
      const a = await st.open();
      await a.putWorkload(web(1));
      const { record, seq } = await a.recordCreateIntent({ key: 'k1', workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't3.micro', image: 'ami-1', ordinal: 0 });
      assert.equal(record.state, 'creating');
      await a.close();
      const b = await st.open();
      assert.equal((await b.getRecord('k1'))?.state, 'creating');
      assert.deepEqual((await b.listJournal('web')).map((e) => [e.seq, e.operation, e.key, e.outcome]), [[seq, 'create', 'k1', 'pending']]);
      await b.journalEnd(seq, 'ok', 'i-1');
      await b.updateRecord('k1', { state: 'active', instanceId: 'i-1', cloudState: 'running', publicIp: '192.0.2.7' });
      const [entry] = await b.listJournal();
      assert.deepEqual([entry.outcome, entry.instanceId], ['ok', 'i-1']);
      assert.equal((await b.getRecord('k1'))?.publicIp, '192.0.2.7');
      await b.updateRecord('k1', { state: 'gone' });
      assert.equal((await b.listRecords('web')).length, 0);
      assert.equal((await b.listRecords('web', true)).length, 1);
      await b.pruneGone('web');
      assert.equal((await b.listRecords('web', true)).length, 0);
      await assert.rejects(b.updateRecord('nope', { state: 'gone' }), /unknown instance record 'nope'/);
    });

    it('keeps constraints until they expire and only ever extends them', async () => {
      const s = await (await state()).open();
      await s.putConstraint({ cloud: 'aws', region: 'us-east-1', size: 't3.micro', reason: 'capacity', untilMs: 2_000 });
      await s.putConstraint({ cloud: 'aws', region: 'us-east-1', size: 't3.micro', reason: 'capacity again', untilMs: 1_500 });
      assert.deepEqual((await s.listConstraints(1_000)).map((c) => [c.reason, c.untilMs]), [['capacity again', 2_000]]);
      assert.equal((await s.listConstraints(2_000)).length, 0);
    });

    it('persists the watch revision so it never goes backwards after a restart, and keeps the state id', async () => {
      const st = await state();
      const a = await st.open();
      const id = await a.stateId();
      assert.match(id, /^[0-9a-f]{12}$/);
      assert.deepEqual([await a.currentRevision(), await a.nextRevision(), await a.nextRevision(3)], [0, 1, 4]);
      await a.close();
      const b = await st.open();
      assert.equal(await b.nextRevision(), 5);
      assert.equal(await b.stateId(), id);
      const other = await (await state()).open();
      assert.notEqual(await other.stateId(), id);
    });

    it('finds live workloads by DNS name and by policy, and keeps policies with a generation', async () => {
      const s = await (await state()).open();
      const named = (name: string, dnsName: string): Workload => ({ ...web(1), name, dns: { name: dnsName, ttl: 30 } });
      for (const w of [named('a', 'a.example.test'), named('b', 'shared.example.test'), named('c', 'shared.example.test'), named('d', 'shared.example.test')]) await s.putWorkload(w);
      await s.markWorkloadDeleted('d');
      assert.deepEqual((await s.listWorkloadsByDnsName('shared.example.test')).map((w) => w.name), ['b', 'c']);
      assert.deepEqual(await s.listWorkloadsByDnsName('none.example.test'), []);
      assert.deepEqual(await s.workloadsUsingPolicy('p'), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await s.listWorkloadNames(), ['a', 'b', 'c', 'd']);
      const first = await s.putPolicy('p', { spec: { x: 1 } });
      assert.deepEqual([first.created, first.changed, first.policy.generation], [true, true, 1]);
      assert.equal((await s.putPolicy('p', { spec: { x: 1 } })).changed, false);
      assert.equal((await s.putPolicy('p', { spec: { x: 2 } })).policy.generation, 2);
      assert.deepEqual((await s.listPolicies()).map((p) => p.name), ['p']);
      assert.equal(await s.deletePolicy('p'), true);
      assert.equal(await s.getPolicy('p'), undefined);
    });

    it('keeps region health as last written, across reopening, and tells its listeners which region changed', async () => {
      const st = await state();
      const a = await st.open();
      const seen: StoreChange[] = [];
      a.onChange((c) => seen.push(c));
      assert.deepEqual(await a.listRegionHealth(), []);
      await a.putRegionHealth({ cloud: 'aws', region: 'us-east-1', healthy: false, breaker: 'open', consecutiveFailures: 3, lastError: 'Unavailable', sinceMs: 1_000 });
      await a.putRegionHealth({ cloud: 'azure', region: 'westeurope', healthy: false, breaker: 'open', consecutiveFailures: 1, lastError: 'CircuitOpen', sinceMs: 2_000 });
      await a.putRegionHealth({ cloud: 'azure', region: 'westeurope', healthy: true, breaker: 'closed', consecutiveFailures: 0, sinceMs: 3_000 });
      assert.deepEqual(seen.map((c) => `${c.kind}:${c.name}`), ['health:aws/us-east-1', 'health:azure/westeurope', 'health:azure/westeurope']);
      await a.close();
      const b = await st.open();
      assert.deepEqual(await b.listRegionHealth(), [
        { cloud: 'aws', region: 'us-east-1', healthy: false, breaker: 'open', consecutiveFailures: 3, lastError: 'Unavailable', sinceMs: 1_000 },
        { cloud: 'azure', region: 'westeurope', healthy: true, breaker: 'closed', consecutiveFailures: 0, sinceMs: 3_000 },
      ]);
    });

    it('stores the spec generation acted on with the placement, and keeps it when the spec or placement changes alone', async () => {
      const s = await (await state()).open();
      assert.equal((await s.putWorkload(web(1))).workload.observedGeneration, 0);
      await s.setPlacement('web', { placementError: 'none fits', observedGeneration: 1 });
      assert.deepEqual([(await s.getWorkload('web'))?.generation, (await s.getWorkload('web'))?.observedGeneration], [1, 1]);
      assert.equal((await s.putWorkload(web(2))).workload.observedGeneration, 1);
      await s.setPlacement('web', { placementError: 'still none' });
      assert.deepEqual([(await s.getWorkload('web'))?.generation, (await s.getWorkload('web'))?.observedGeneration], [2, 1]);
      await s.setPlacement('web', { observedGeneration: 2 });
      assert.equal((await s.listWorkloads())[0].observedGeneration, 2);
    });

    it('tells its listeners what each write changed, once it is durable', async () => {
      const s = await (await state()).open();
      const seen: StoreChange[] = [];
      const off = s.onChange((c) => seen.push(c));
      await s.putPolicy('p', {});
      await s.putWorkload(web(1));
      await s.putWorkload(web(1));
      await s.setPlacement('web', { placementError: 'none fits' });
      await s.recordCreateIntent({ key: 'k', workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't', image: 'i', ordinal: 0 });
      await s.markWorkloadDeleted('web');
      off();
      await s.putWorkload(web(2));
      assert.deepEqual(seen.map((c) => `${c.kind}:${c.name}`), ['policy:p', 'workload:web', 'placement:web', 'instances:web', 'workload:web']);
    });
  });
}

describe('PostgresStateStore shared by several schedulers', function () {
  this.timeout(60_000);
  const closing: Array<{ close(): Promise<void> }> = [];
  before(async () => { db = await startPostgres(); });
  after(async () => { await db?.stop(); });
  afterEach(async () => { for (const c of closing.splice(0)) await c.close(); });
  const open = async (connection: pg.ClientConfig, extra: Partial<Parameters<typeof PostgresStateStore.open>[0]> = {}) => {
    const s = await PostgresStateStore.open({ connection, where: 'postgres://postgres@127.0.0.1/test', ...extra });
    closing.push(s);
    return s;
  };

  it("tells each store's listeners of the others' writes, and to resync after its listening connection was lost", async () => {
    const connection = await createDatabase();
    const a = await open(connection);
    const b = await open(connection);
    const seen: string[] = [];
    b.onChange((c) => seen.push(`${c.kind}:${c.name}`));
    await a.putWorkload(web(1, 'shop'));
    await a.putPolicy('eu', {});
    await waitFor('the changes made by the other store', () => seen.length === 2, 10_000);
    assert.deepEqual(seen, ['workload:shop', 'policy:eu']);
    // A revision taken by one is never handed out again by the other.
    assert.deepEqual([await a.nextRevision(), await b.nextRevision(), await a.nextRevision()], [1, 2, 3]);

    // The server ends every other session, the listening one included.
    const admin = new pg.Client(connection);
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    } finally {
      await admin.end();
    }
    await waitFor('a resync once the feed is back', () => seen.includes('resync:'), 15_000);
    await a.putWorkload(web(2, 'shop'));
    await waitFor('changes flowing again', () => seen.filter((x) => x === 'workload:shop').length === 2, 10_000);
  });

  it('upgrades a database of the previous schema version in place, keeping its state', async () => {
    const connection = await createDatabase();
    const admin = new pg.Client(connection);
    await admin.connect();
    try {
      await migratePostgres(admin, 'old', POSTGRES_MIGRATIONS.slice(0, POSTGRES_SCHEMA_VERSION - 1));
      await admin.query(`INSERT INTO meridian_workloads (name, spec, generation, updated_at, next_ordinal) VALUES ('web', $1, 3, '2026-01-01T00:00:00.000Z', 5)`, [JSON.stringify(web(2))]);
      await admin.query("UPDATE meridian_meta SET v = 41 WHERE k = 'revision'");
      const s = await open(connection);
      assert.equal((await admin.query<{ version: number }>('SELECT version FROM meridian_schema')).rows[0].version, POSTGRES_SCHEMA_VERSION);
      const w = await s.getWorkload('web');
      assert.deepEqual([w?.spec.replicas, w?.generation, w?.observedGeneration, await s.currentRevision(), await s.nextOrdinal('web')], [2, 3, 0, 41, 5]);
      assert.deepEqual(await s.listRegionHealth(), []);
      await s.putRegionHealth({ cloud: 'aws', region: 'us-east-1', healthy: false, breaker: 'open', consecutiveFailures: 3, lastError: 'Unavailable', sinceMs: 1 });
      assert.equal((await s.listRegionHealth()).length, 1);
    } finally {
      await admin.end();
    }
  });

  it('refuses a database written by a newer meridian, naming both versions, and leaves it unchanged', async () => {
    const connection = await createDatabase();
    const first = await open(connection);
    await first.close();
    const admin = new pg.Client(connection);
    await admin.connect();
    try {
      await admin.query('UPDATE meridian_schema SET version = $1', [POSTGRES_SCHEMA_VERSION + 1]);
      await assert.rejects(PostgresStateStore.open({ connection, where: 'postgres://postgres@127.0.0.1/newer' }), (err: unknown) => {
        assert.ok(err instanceof StoreSchemaTooNewError);
        assert.match(err.message, new RegExp(`postgres://postgres@127.0.0.1/newer has schema version ${POSTGRES_SCHEMA_VERSION + 1}, newer than version ${POSTGRES_SCHEMA_VERSION}`));
        return true;
      });
      assert.equal((await admin.query<{ version: number }>('SELECT version FROM meridian_schema')).rows[0].version, POSTGRES_SCHEMA_VERSION + 1);
    } finally {
      await admin.end();
    }
  });

  it("refuses a journal entry, and the create intent with it, unless it carries the current lease's unexpired token", async () => {
    const connection = await createDatabase();
    const lease = new LeaderLease({ connection, name: 'sched', holder: 'one', leaseDurationMs: 1_500, renewDeadlineMs: 1_000, renewIntervalMs: 200 });
    closing.push({ close: () => lease.stop() });
    await lease.start();
    await waitFor('the lease', () => lease.isLeader(), 5_000);
    const token = lease.currentToken() as number;
    const s = await open(connection, { fence: { name: 'sched' } });
    await s.putWorkload(web(1));
    const ok = await s.recordCreateIntent({ key: 'k1', workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't', image: 'i', ordinal: 0 }, token);
    assert.deepEqual((await s.listJournal()).map((e) => [e.seq, e.token]), [[ok.seq, token]]);
    await assert.rejects(s.journalBegin({ operation: 'terminate', key: 'k1', workload: 'web', cloud: 'aws', region: 'us-east-1', token: token - 1 }), StaleLeaseTokenError);
    await assert.rejects(s.journalBegin({ operation: 'terminate', key: 'k1', workload: 'web', cloud: 'aws', region: 'us-east-1' }), StaleLeaseTokenError);
    // The lease stops being renewed and expires: its own token is refused too, and nothing of the intent is written.
    await lease.stop({ release: false });
    await new Promise((r) => setTimeout(r, 1_700));
    await assert.rejects(s.recordCreateIntent({ key: 'k2', workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't', image: 'i', ordinal: 1 }, token), StaleLeaseTokenError);
    assert.equal(await s.getRecord('k2'), undefined);
    assert.equal((await s.listJournal()).length, 1);
  });

  it("refuses a region health write unless it carries the current lease's unexpired token, and tells other stores of those it takes", async () => {
    const connection = await createDatabase();
    const lease = new LeaderLease({ connection, name: 'sched', holder: 'one', leaseDurationMs: 1_500, renewDeadlineMs: 1_000, renewIntervalMs: 200 });
    closing.push({ close: () => lease.stop() });
    await lease.start();
    await waitFor('the lease', () => lease.isLeader(), 5_000);
    const token = lease.currentToken() as number;
    const s = await open(connection, { fence: { name: 'sched' } });
    const other = await open(connection);
    const seen: string[] = [];
    other.onChange((c) => seen.push(`${c.kind}:${c.name}`));
    const down = { cloud: 'aws', region: 'us-east-1', healthy: false, breaker: 'open', consecutiveFailures: 3, lastError: 'Unavailable', sinceMs: 1 } as const;
    await s.putRegionHealth(down, token);
    await waitFor('the other store told', () => seen.length === 1, 10_000);
    assert.deepEqual(seen, ['health:aws/us-east-1']);
    await assert.rejects(s.putRegionHealth({ ...down, healthy: true, breaker: 'closed', consecutiveFailures: 0 }, token - 1), StaleLeaseTokenError);
    await assert.rejects(s.putRegionHealth({ ...down, healthy: true, breaker: 'closed', consecutiveFailures: 0 }), StaleLeaseTokenError);
    await lease.stop({ release: false });
    await new Promise((r) => setTimeout(r, 1_700));
    await assert.rejects(s.putRegionHealth({ ...down, healthy: true, breaker: 'closed', consecutiveFailures: 0 }, token), StaleLeaseTokenError);
    assert.deepEqual((await other.listRegionHealth()).map((h) => h.healthy), [false]);
    assert.deepEqual(seen, ['health:aws/us-east-1']);
  });
});
