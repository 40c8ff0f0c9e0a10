import { strict as assert } from 'node:assert';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workload } from '../../../scheduler/placement/types';
import { SqliteStateStore } from '../../../scheduler/store';

const web = (replicas: number): Workload => ({ name: 'web', replicas, size: { vcpu: 2, memoryGiB: 4 }, image: { aws: 'ami-1' }, policy: 'p' });

describe('SqliteStateStore', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('keeps its file in WAL mode, so a reader sees committed state while the scheduler holds it open', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    const file = join(dir, 'meridian.db');
    const s = new SqliteStateStore({ dataDir: dir });
    try {
      s.putWorkload(web(3));
      // The commit went to the write-ahead log (magic 0x377f0682/3, SQLite file format 2.8), not the main file.
      assert.ok(existsSync(`${file}-wal`), 'a -wal file next to the database');
      assert.equal(readFileSync(`${file}-wal`).readUInt32BE(0) & 0xfffffffe, 0x377f0682);
      const reader = new Database(file, { readonly: true, fileMustExist: true });
      try {
        assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal((reader.prepare('SELECT count(*) AS n FROM workloads').get() as { n: number }).n, 1);
      } finally {
        reader.close();
      }
    } finally {
      s.close();
    }
    // WAL mode is a property of the file: it stays after the store closes.
    const after = new Database(file, { readonly: true, fileMustExist: true });
    try {
      assert.equal(after.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      after.close();
    }
  });

  it('bumps the generation only when the workload spec changes, whatever the key order', () => {
    const s = new SqliteStateStore({ dataDir: ':memory:' });
    assert.deepEqual([s.putWorkload(web(2)).created, s.getWorkload('web')?.generation], [true, 1]);
    const reordered = { policy: 'p', image: { aws: 'ami-1' }, size: { memoryGiB: 4, vcpu: 2 }, replicas: 2, name: 'web' } as Workload;
    const same = s.putWorkload(reordered);
    assert.deepEqual([same.created, same.changed, same.workload.generation], [false, false, 1]);
    assert.equal(s.putWorkload(web(3)).workload.generation, 2);
    s.close();
  });

  it('keeps a deleted workload until purged and undeletes it on a new apply', () => {
    const s = new SqliteStateStore({ dataDir: ':memory:' });
    s.putWorkload(web(1));
    assert.equal(s.markWorkloadDeleted('web'), true);
    assert.equal(s.markWorkloadDeleted('web'), false);
    assert.ok(s.getWorkload('web')?.deletedAt);
    const again = s.putWorkload(web(1));
    assert.equal(again.created, true);
    assert.equal(again.workload.deletedAt, undefined);
    s.markWorkloadDeleted('web');
    s.purgeWorkload('web');
    assert.equal(s.getWorkload('web'), undefined);
    s.close();
  });

  it('never hands out the same ordinal twice, even across reopening', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    const a = new SqliteStateStore({ dataDir: dir });
    a.putWorkload(web(1));
    const first = [a.nextOrdinal('web'), a.nextOrdinal('web')];
    a.close();
    const b = new SqliteStateStore({ dataDir: dir });
    assert.deepEqual([...first, b.nextOrdinal('web')], [0, 1, 2]);
    b.close();
  });

  it('writes a create intent and its pending journal entry together, durable across reopening', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    const a = new SqliteStateStore({ dataDir: dir });
    a.putWorkload(web(1));
    const { record, seq } = a.recordCreateIntent({ key: 'k1', workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't3.micro', image: 'ami-1', ordinal: 0 });
    assert.equal(record.state, 'creating');
    a.close();
    const b = new SqliteStateStore({ dataDir: dir });
    assert.equal(b.getRecord('k1')?.state, 'creating');
    assert.deepEqual(b.listJournal('web').map((e) => [e.seq, e.operation, e.key, e.outcome]), [[seq, 'create', 'k1', 'pending']]);
    b.journalEnd(seq, 'ok', 'i-1');
    b.updateRecord('k1', { state: 'active', instanceId: 'i-1', cloudState: 'running', publicIp: '192.0.2.7' });
    assert.deepEqual([b.listJournal()[0].outcome, b.listJournal()[0].instanceId], ['ok', 'i-1']);
    assert.equal(b.getRecord('k1')?.publicIp, '192.0.2.7');
    b.updateRecord('k1', { state: 'gone' });
    assert.equal(b.listRecords('web').length, 0);
    assert.equal(b.listRecords('web', true).length, 1);
    b.pruneGone('web');
    assert.equal(b.listRecords('web', true).length, 0);
    b.close();
  });

  it('keeps constraints until they expire and only ever extends them', () => {
    const s = new SqliteStateStore({ dataDir: ':memory:' });
    s.putConstraint({ cloud: 'aws', region: 'us-east-1', size: 't3.micro', reason: 'capacity', untilMs: 2_000 });
    s.putConstraint({ cloud: 'aws', region: 'us-east-1', size: 't3.micro', reason: 'capacity again', untilMs: 1_500 });
    assert.deepEqual(s.listConstraints(1_000).map((c) => [c.reason, c.untilMs]), [['capacity again', 2_000]]);
    assert.equal(s.listConstraints(2_000).length, 0);
    s.close();
  });

  it('persists the watch revision so it never goes backwards after a restart', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    const a = new SqliteStateStore({ dataDir: dir });
    assert.deepEqual([a.currentRevision(), a.nextRevision(), a.nextRevision()], [0, 1, 2]);
    a.close();
    const b = new SqliteStateStore({ dataDir: dir });
    assert.equal(b.nextRevision(), 3);
    b.close();
  });

  it('finds the live workloads holding a DNS name through an index, also in a version 1 file upgraded to have it', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    const file = join(dir, 'meridian.db');
    const old = new SqliteStateStore({ dataDir: dir });
    const named = (name: string, dnsName: string): Workload => ({ ...web(1), name, dns: { name: dnsName, ttl: 30 } });
    old.putWorkload(named('a', 'a.example.test'));
    old.putWorkload(named('b', 'shared.example.test'));
    old.close();
    const raw = new Database(file);
    raw.exec('DROP INDEX workloads_by_dns_name');
    raw.pragma('user_version = 1');
    raw.close();
    const s = new SqliteStateStore({ dataDir: dir });
    try {
      s.putWorkload(named('c', 'shared.example.test'));
      s.putWorkload(named('d', 'shared.example.test'));
      s.markWorkloadDeleted('d');
      assert.deepEqual(s.listWorkloadsByDnsName('shared.example.test').map((w) => w.name), ['b', 'c']);
      assert.deepEqual(s.listWorkloadsByDnsName('a.example.test').map((w) => w.name), ['a']);
      assert.deepEqual(s.listWorkloadsByDnsName('none.example.test'), []);
      const reader = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const plan = reader.prepare("EXPLAIN QUERY PLAN SELECT * FROM workloads WHERE deleted_at IS NULL AND json_extract(spec, '$.dns.name') = ? ORDER BY name")
          .all('shared.example.test') as Array<{ detail: string }>;
        assert.ok(plan.some((p) => /USING INDEX workloads_by_dns_name/.test(p.detail)), plan.map((p) => p.detail).join('; '));
      } finally {
        reader.close();
      }
    } finally {
      s.close();
    }
  });

  it('answers every read of a workload with its last committed write, and never with a write that was rolled back', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-store-'));
    const s = new SqliteStateStore({ dataDir: dir });
    const other = new Database(join(dir, 'meridian.db'));
    const named = (replicas: number): Workload => ({ ...web(replicas), dns: { name: 'web.example', ttl: 30 } });
    try {
      s.putWorkload(named(1));
      assert.equal(s.getWorkload('web')?.spec.replicas, 1);
      s.setPlacement('web', { applied: { workload: 'web', assignments: [], usdPerHour: 0.5 } });
      assert.equal(s.getWorkload('web')?.applied?.usdPerHour, 0.5);
      assert.equal(s.putWorkload(named(2)).workload.spec.replicas, 2);
      assert.equal(s.getWorkload('web')?.generation, 2);
      // Another connection refuses the next update from inside its transaction: the store must go on answering replicas 2.
      other.exec("CREATE TRIGGER refuse BEFORE UPDATE OF spec ON workloads WHEN json_extract(NEW.spec, '$.replicas') = 7 BEGIN SELECT RAISE(ABORT, 'refused'); END");
      assert.throws(() => s.putWorkload(named(7)), /refused/);
      assert.deepEqual([s.getWorkload('web')?.spec.replicas, s.getWorkload('web')?.generation], [2, 2]);
      assert.deepEqual(s.listWorkloadsByDnsName('web.example').map((w) => w.generation), [2]);
      assert.equal(s.markWorkloadDeleted('web'), true);
      assert.ok(s.getWorkload('web')?.deletedAt);
      assert.deepEqual(s.listWorkloadsByDnsName('web.example'), []);
      s.purgeWorkload('web');
      assert.equal(s.getWorkload('web'), undefined);
      // What is read is shared between readers: it cannot be changed under another one.
      s.putWorkload(named(3));
      assert.throws(() => { (s.getWorkload('web')?.spec as { replicas: number }).replicas = 9; }, TypeError);
      assert.equal(s.getWorkload('web')?.spec.replicas, 3);
    } finally {
      other.close();
      s.close();
    }
  });
});
