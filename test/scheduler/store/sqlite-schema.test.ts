import { strict as assert } from 'node:assert';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workload } from '../../../scheduler/placement/types';
import {
  migrateSqlite, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, SqliteStateStore, StoreSchemaTooNewError, type SqliteMigration,
} from '../../../scheduler/store';

/** The schema as the store created it before files carried a version, statement for statement. */
const UNVERSIONED_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS workloads (
  name TEXT PRIMARY KEY, spec TEXT NOT NULL, generation INTEGER NOT NULL, updated_at TEXT NOT NULL,
  deleted_at TEXT, preferred TEXT, applied TEXT, placement_error TEXT, next_ordinal INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS policies (name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated_at TEXT NOT NULL, generation INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS instances (
  key TEXT PRIMARY KEY, workload TEXT NOT NULL, cloud TEXT NOT NULL, region TEXT NOT NULL, size TEXT NOT NULL,
  image TEXT NOT NULL, ordinal INTEGER NOT NULL, state TEXT NOT NULL, instance_id TEXT, cloud_state TEXT,
  public_ip TEXT, private_ip TEXT, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS instances_by_workload ON instances (workload, state);
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, operation TEXT NOT NULL, key TEXT NOT NULL,
  workload TEXT NOT NULL, cloud TEXT NOT NULL, region TEXT NOT NULL, instance_id TEXT, outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_by_workload ON journal (workload, seq);
CREATE TABLE IF NOT EXISTS constraints (
  cloud TEXT NOT NULL, region TEXT NOT NULL, size TEXT NOT NULL, reason TEXT NOT NULL, until_ms INTEGER NOT NULL,
  PRIMARY KEY (cloud, region, size));
`;

const web: Workload = { name: 'web', replicas: 2, size: { vcpu: 2, memoryGiB: 4 }, image: { aws: 'ami-1' }, policy: 'p' };

/** Every table and index with its SQL, to compare two files' schemas. */
function schemaOf(db: Database.Database): Array<[string, string]> {
  return (db.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").all() as Array<{ name: string; sql: string }>)
    .map((r) => [r.name, r.sql.replace(/\s+/g, ' ')]);
}

describe('the SQLite store schema versions', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-schema-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('numbers its steps 1, 2, 3, ... and writes the last one to a new file', () => {
    assert.deepEqual(SQLITE_MIGRATIONS.map((m) => m.version), SQLITE_MIGRATIONS.map((_m, i) => i + 1));
    assert.equal(SQLITE_SCHEMA_VERSION, SQLITE_MIGRATIONS.length);
    const s = new SqliteStateStore({ dataDir: dir });
    s.putWorkload(web);
    s.close();
    const db = new Database(join(dir, 'meridian.db'), { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
      assert.deepEqual(schemaOf(db).map(([name]) => name).filter((n) => !n.startsWith('sqlite_')),
        ['constraints', 'instances', 'instances_by_workload', 'journal', 'journal_by_workload', 'meta', 'policies', 'region_health', 'workloads', 'workloads_by_dns_name']);
    } finally {
      db.close();
    }
  });

  it('opens a file made before schema versions as version 1, keeping its state and identity, with the schema a new file gets', () => {
    const old = join(dir, 'old');
    mkdirSync(old);
    const db = new Database(join(old, 'meridian.db'));
    db.pragma('journal_mode = WAL');
    db.exec(UNVERSIONED_SCHEMA);
    db.prepare("INSERT INTO meta (k, v) VALUES ('state_id', 48879), ('revision', 41)").run();
    db.prepare("INSERT INTO workloads (name, spec, generation, updated_at, next_ordinal) VALUES ('web', ?, 3, '2026-01-01T00:00:00.000Z', 5)").run(JSON.stringify(web));
    db.prepare("INSERT INTO policies (name, spec, updated_at, generation) VALUES ('p', '{}', '2026-01-01T00:00:00.000Z', 2)").run();
    db.close();

    const s = new SqliteStateStore({ dataDir: old });
    try {
      assert.deepEqual([s.stateId(), s.currentRevision(), s.getWorkload('web')?.generation, s.getPolicy('p')?.generation], ['00000000beef', 41, 3, 2]);
      assert.equal(s.nextOrdinal('web'), 5);
    } finally {
      s.close();
    }
    new SqliteStateStore({ dataDir: join(dir, 'new') }).close();
    const upgraded = new Database(join(old, 'meridian.db'), { readonly: true });
    const fresh = new Database(join(dir, 'new', 'meridian.db'), { readonly: true });
    try {
      assert.equal(upgraded.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
      assert.deepEqual(schemaOf(upgraded), schemaOf(fresh));
    } finally {
      upgraded.close();
      fresh.close();
    }
  });

  it('upgrades a file of version 2, keeping its workloads, which have acted on no generation yet, and no region health', () => {
    const db = new Database(join(dir, 'meridian.db'));
    migrateSqlite(db, 'old', SQLITE_MIGRATIONS.slice(0, 2));
    db.prepare("INSERT INTO meta (k, v) VALUES ('state_id', 48879), ('revision', 7)").run();
    db.prepare("INSERT INTO workloads (name, spec, generation, updated_at, next_ordinal) VALUES ('web', ?, 3, '2026-01-01T00:00:00.000Z', 5)").run(JSON.stringify(web));
    db.close();
    const s = new SqliteStateStore({ dataDir: dir });
    try {
      const w = s.getWorkload('web');
      assert.deepEqual([w?.spec.replicas, w?.generation, w?.observedGeneration, s.currentRevision(), s.stateId()], [2, 3, 0, 7, '00000000beef']);
      assert.deepEqual(s.listRegionHealth(), []);
      s.setPlacement('web', { observedGeneration: 3 });
      assert.equal(s.getWorkload('web')?.observedGeneration, 3);
    } finally {
      s.close();
    }
    const upgraded = new Database(join(dir, 'meridian.db'), { readonly: true });
    try {
      assert.equal(upgraded.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
    } finally {
      upgraded.close();
    }
  });

  it('adds the policy generation to a file older still, whose policies had none', () => {
    const db = new Database(join(dir, 'meridian.db'));
    db.exec(UNVERSIONED_SCHEMA.replace(', generation INTEGER NOT NULL DEFAULT 1);', ');'));
    db.prepare("INSERT INTO policies (name, spec, updated_at) VALUES ('p', '{}', '2026-01-01T00:00:00.000Z')").run();
    db.close();
    const s = new SqliteStateStore({ dataDir: dir });
    try {
      assert.equal(s.getPolicy('p')?.generation, 1);
      assert.equal(s.putPolicy('p', { changed: true }).policy.generation, 2);
    } finally {
      s.close();
    }
  });

  it('refuses a file from a newer meridian, naming the file and both versions, and leaves it unchanged', () => {
    const s = new SqliteStateStore({ dataDir: dir });
    s.putWorkload(web);
    s.close();
    const file = join(dir, 'meridian.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.exec('CREATE TABLE later (x INTEGER)');
    db.close();

    assert.throws(() => new SqliteStateStore({ dataDir: dir }), (err: unknown) => {
      assert.ok(err instanceof StoreSchemaTooNewError);
      assert.deepEqual([err.code, err.file, err.found, err.known], ['MERIDIAN_ERR_STORE_SCHEMA_TOO_NEW', file, SQLITE_SCHEMA_VERSION + 1, SQLITE_SCHEMA_VERSION]);
      assert.equal(err.message, `state database ${file} has schema version ${SQLITE_SCHEMA_VERSION + 1}, newer than version ${SQLITE_SCHEMA_VERSION} `
        + 'that this meridian knows; run a meridian at least as new as the one that last wrote it (the file was left unchanged)');
      return true;
    });
    const after = new Database(file, { readonly: true });
    try {
      assert.equal(after.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION + 1);
      assert.ok(schemaOf(after).some(([name]) => name === 'later'));
    } finally {
      after.close();
    }
  });

  it('applies the missing steps in order in one transaction, so a failing step leaves the file at its old version', () => {
    const db = new Database(':memory:');
    const ran: number[] = [];
    const step = (version: number, fail = false): SqliteMigration => ({
      version, description: `step ${version}`,
      up: (d) => {
        ran.push(version);
        d.exec(`CREATE TABLE t${version} (x INTEGER)`);
        if (fail) throw new Error(`step ${version} failed`);
      },
    });
    try {
      assert.deepEqual(migrateSqlite(db, ':memory:', [step(1)]), { from: 0, to: 1 });
      assert.throws(() => migrateSqlite(db, ':memory:', [step(1), step(2), step(3, true)]), /step 3 failed/);
      assert.deepEqual(ran, [1, 2, 3]);
      assert.equal(db.pragma('user_version', { simple: true }), 1);
      assert.deepEqual(schemaOf(db).map(([name]) => name), ['t1']);
      assert.deepEqual(migrateSqlite(db, ':memory:', [step(1), step(2), step(3)]), { from: 1, to: 3 });
      assert.deepEqual(ran, [1, 2, 3, 2, 3]);
      assert.deepEqual(migrateSqlite(db, ':memory:', [step(1), step(2), step(3)]), { from: 3, to: 3 });
      assert.throws(() => migrateSqlite(db, ':memory:', [step(1), step(3)]), /steps must number 1, 2, 3/);
    } finally {
      db.close();
    }
  });
});
