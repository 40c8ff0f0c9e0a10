import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CloudId } from '../../providers';
import type { Placement, Workload } from '../placement/types';
import {
  journalFromRow, policyFromRow, recordFromRow, regionHealthFromRow, workloadFromRow, type InstanceRow, type JournalRow, type PolicyRow, type RegionHealthRow, type WorkloadRow,
} from './rows';
import { migrateSqlite, schemaVersion, SQLITE_SCHEMA_VERSION, StoreSchemaTooNewError } from './sqlite-schema';
import type {
  Constraint, InstanceRecord, InstanceRecordPatch, JournalEntry, StoreChange, StoredPolicy, StoredRegionHealth, StoredWorkload, SyncStateStore,
} from './types';

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** Directory holding `meridian.db`; created when missing. `:memory:` keeps everything in memory. */
  readonly dataDir: string;
  /**
   * SQLite `synchronous` level. `NORMAL` (default) in WAL mode survives a process crash at any
   * instant; `FULL` also survives power loss, at an fsync per commit.
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** Clock seam for tests. */
  readonly now?: () => number;
}


/** Workloads kept parsed in memory (about 2 KiB each). */
const WORKLOAD_CACHE_SIZE = 4096;

/** Freezes a value and everything in it: a cached policy is shared by every reader. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Stable JSON (sorted keys) so that an unchanged spec compares equal. */
function canonical(value: unknown): string {
  return JSON.stringify(sortedKeys(value));
}

/** A copy of a JSON value with every object's keys in sorted order (what `canonical` stores, byte for byte, since the first version). */
function sortedKeys(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  // As JSON.stringify does before anything else.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortedKeys((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) return value.map(sortedKeys);
  // No prototype: a `__proto__` key stays a key.
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(value).sort()) out[k] = sortedKeys((value as Record<string, unknown>)[k]);
  return out;
}

/**
 * `StateStore` over SQLite (better-sqlite3, WAL) in `<dataDir>/meridian.db`. Opening upgrades an
 * older file's schema in place (see `SQLITE_MIGRATIONS`) and refuses, with `StoreSchemaTooNewError`,
 * a file written by a newer meridian.
 */
export class SqliteStateStore implements SyncStateStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  /** Prepared statements by their text: preparing costs more than most of the queries it serves. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Policies as last read or written (this process is the only writer; there are a handful of them). */
  private readonly policies = new Map<string, StoredPolicy | undefined>();
  /**
   * Workloads as last read, frozen, oldest first, at most `WORKLOAD_CACHE_SIZE` (this process is
   * the only writer): one API write reads its workload about six times (the request, its answer,
   * the reconciler, the watch), and parsing the row is most of each read. Every write to a
   * workload drops its entry; reads inside a transaction never fill it, since a rollback would
   * undo what they saw.
   */
  private readonly workloads = new Map<string, StoredWorkload>();

  constructor(options: SqliteStoreOptions) {
    this.now = options.now ?? Date.now;
    let file = ':memory:';
    if (options.dataDir !== ':memory:') {
      mkdirSync(options.dataDir, { recursive: true });
      file = join(options.dataDir, 'meridian.db');
    }
    this.db = new Database(file);
    try {
      // Another process (a CLI reading state) may hold the lock briefly.
      this.db.pragma('busy_timeout = 5000');
      // Checked before anything writes: a file from a newer meridian is left exactly as it is.
      const found = schemaVersion(this.db);
      if (found > SQLITE_SCHEMA_VERSION) throw new StoreSchemaTooNewError(file, found, SQLITE_SCHEMA_VERSION);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      migrateSqlite(this.db, file);
    } catch (err) {
      this.db.close();
      throw err;
    }
    // A random identity, fixed when the state is created: a restored or recreated store has another.
    this.sql("INSERT OR IGNORE INTO meta (k, v) VALUES ('state_id', ?)").run(randomInt(1, 2 ** 47));
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  putWorkload(spec: Workload): { workload: StoredWorkload; created: boolean; changed: boolean } {
    const json = canonical(spec);
    const out = this.db.transaction(() => {
      const row = this.sql('SELECT * FROM workloads WHERE name = ?').get(spec.name) as WorkloadRow | undefined;
      const at = new Date(this.now()).toISOString();
      const changed = !row || row.spec !== json || row.deleted_at !== null;
      if (!row) {
        this.sql('INSERT INTO workloads (name, spec, generation, updated_at) VALUES (?, ?, 1, ?)').run(spec.name, json, at);
      } else if (changed) {
        this.sql('UPDATE workloads SET spec = ?, generation = generation + 1, updated_at = ?, deleted_at = NULL WHERE name = ?')
          .run(json, at, spec.name);
      }
      if (changed) this.workloads.delete(spec.name);
      // The row as the statement above left it.
      const written: WorkloadRow | undefined = !changed ? undefined : row
        ? { ...row, spec: json, generation: row.generation + 1, updated_at: at, deleted_at: null }
        : { name: spec.name, spec: json, generation: 1, updated_at: at, deleted_at: null, preferred: null, applied: null, placement_error: null, next_ordinal: 0, observed_generation: 0 };
      return { written, created: !row || row.deleted_at !== null, changed };
    }).immediate();
    // Cached once committed, so that the entry is what the file holds.
    const workload = out.written ? this.remember(out.written) : this.getWorkload(spec.name) as StoredWorkload;
    if (out.changed) this.emit('workload', spec.name);
    return { workload, created: out.created, changed: out.changed };
  }

  getWorkload(name: string): StoredWorkload | undefined {
    const hit = this.workloads.get(name);
    if (hit) return hit;
    const row = this.sql('SELECT * FROM workloads WHERE name = ?').get(name) as WorkloadRow | undefined;
    if (!row) return undefined;
    // A read inside a transaction may see what a rollback undoes.
    return this.db.inTransaction ? deepFreeze(workloadFromRow(row)) : this.remember(row);
  }

  /** The workload of a committed row, frozen and cached. */
  private remember(row: WorkloadRow): StoredWorkload {
    const workload = deepFreeze(workloadFromRow(row));
    if (this.workloads.size >= WORKLOAD_CACHE_SIZE) this.workloads.delete(this.workloads.keys().next().value as string);
    this.workloads.set(row.name, workload);
    return workload;
  }

  listWorkloads(): readonly StoredWorkload[] {
    return (this.sql('SELECT * FROM workloads ORDER BY name').all() as WorkloadRow[]).map(workloadFromRow);
  }

  listWorkloadNames(): readonly string[] {
    return this.sql('SELECT name FROM workloads ORDER BY name').pluck().all() as string[];
  }

  listWorkloadsByDnsName(dnsName: string): readonly StoredWorkload[] {
    // Every API write asks this: the expression index `workloads_by_dns_name` answers it without reading every spec.
    const names = this.sql("SELECT name FROM workloads WHERE deleted_at IS NULL AND json_extract(spec, '$.dns.name') = ? ORDER BY name")
      .pluck().all(dnsName) as string[];
    return names.map((name) => this.getWorkload(name)).filter((w): w is StoredWorkload => w !== undefined);
  }

  markWorkloadDeleted(name: string): boolean {
    const at = new Date(this.now()).toISOString();
    const marked = this.sql('UPDATE workloads SET deleted_at = ?, updated_at = ? WHERE name = ? AND deleted_at IS NULL')
      .run(at, at, name).changes === 1;
    this.workloads.delete(name);
    if (marked) this.emit('workload', name);
    return marked;
  }

  purgeWorkload(name: string): void {
    this.workloads.delete(name);
    if (this.sql('DELETE FROM workloads WHERE name = ? AND deleted_at IS NOT NULL').run(name).changes > 0) this.emit('workload', name);
  }

  setPlacement(name: string, p: { preferred?: Placement; applied?: Placement; placementError?: string; observedGeneration?: number }): void {
    const sets: string[] = [];
    const args: Array<string | number | null> = [];
    if ('preferred' in p) { sets.push('preferred = ?'); args.push(p.preferred ? JSON.stringify(p.preferred) : null); }
    if ('applied' in p) { sets.push('applied = ?'); args.push(p.applied ? JSON.stringify(p.applied) : null); }
    if (p.observedGeneration !== undefined) { sets.push('observed_generation = ?'); args.push(p.observedGeneration); }
    sets.push('placement_error = ?');
    args.push(p.placementError ?? null);
    this.workloads.delete(name);
    if (this.sql(`UPDATE workloads SET ${sets.join(', ')} WHERE name = ?`).run(...args, name).changes > 0) this.emit('placement', name);
  }

  putPolicy(name: string, spec: unknown): { policy: StoredPolicy; created: boolean; changed: boolean } {
    this.policies.delete(name);
    const out = this.db.transaction(() => {
      const row = this.sql('SELECT spec FROM policies WHERE name = ?').get(name) as { spec: string } | undefined;
      const json = canonical(spec);
      if (!row || row.spec !== json) {
        this.sql(`INSERT INTO policies (name, spec, updated_at, generation) VALUES (?, ?, ?, 1) ON CONFLICT(name) DO UPDATE SET
          spec = excluded.spec, updated_at = excluded.updated_at, generation = generation + 1`).run(name, json, new Date(this.now()).toISOString());
      }
      return { policy: this.getPolicy(name) as StoredPolicy, created: !row, changed: !row || row.spec !== json };
    }).immediate();
    this.policies.delete(name);
    if (out.changed) this.emit('policy', name);
    return out;
  }

  getPolicy(name: string): StoredPolicy | undefined {
    if (this.policies.has(name)) return this.policies.get(name);
    const row = this.sql('SELECT * FROM policies WHERE name = ?').get(name) as PolicyRow | undefined;
    const policy = row ? deepFreeze(policyFromRow(row)) : undefined;
    this.policies.set(name, policy);
    return policy;
  }

  listPolicies(): readonly StoredPolicy[] {
    return (this.sql('SELECT * FROM policies ORDER BY name').all() as PolicyRow[]).map(policyFromRow);
  }

  deletePolicy(name: string): boolean {
    const removed = this.sql('DELETE FROM policies WHERE name = ?').run(name).changes > 0;
    this.policies.delete(name);
    if (removed) this.emit('policy', name);
    return removed;
  }

  workloadsUsingPolicy(policy: string): readonly string[] {
    return this.sql("SELECT name FROM workloads WHERE json_extract(spec, '$.policy') = ? ORDER BY name").pluck().all(policy) as string[];
  }

  nextOrdinal(workload: string): number {
    return this.db.transaction(() => {
      const row = this.sql('SELECT next_ordinal FROM workloads WHERE name = ?').get(workload) as { next_ordinal: number } | undefined;
      if (!row) throw new Error(`unknown workload '${workload}'`);
      this.sql('UPDATE workloads SET next_ordinal = next_ordinal + 1 WHERE name = ?').run(workload);
      return row.next_ordinal;
    }).immediate();
  }

  recordCreateIntent(r: Omit<InstanceRecord, 'state' | 'createdAtMs' | 'updatedAtMs'>): { record: InstanceRecord; seq: number } {
    const out = this.db.transaction(() => {
      const record = this.insertRow({ ...r, state: 'creating' });
      const seq = this.journalBegin({ operation: 'create', key: r.key, workload: r.workload, cloud: r.cloud, region: r.region });
      return { record, seq };
    }).immediate();
    this.emit('instances', r.workload);
    return out;
  }

  insertRecord(r: Omit<InstanceRecord, 'createdAtMs' | 'updatedAtMs'>): InstanceRecord {
    const record = this.insertRow(r);
    this.emit('instances', r.workload);
    return record;
  }

  private insertRow(r: Omit<InstanceRecord, 'createdAtMs' | 'updatedAtMs'>): InstanceRecord {
    const t = this.now();
    this.sql(`INSERT INTO instances (key, workload, cloud, region, size, image, ordinal, state, instance_id, cloud_state,
      public_ip, private_ip, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.key, r.workload, r.cloud, r.region, r.size, r.image, r.ordinal, r.state, r.instanceId ?? null,
        r.cloudState ?? null, r.publicIp ?? null, r.privateIp ?? null, t, t);
    return this.getRecord(r.key) as InstanceRecord;
  }

  getRecord(key: string): InstanceRecord | undefined {
    const row = this.sql('SELECT * FROM instances WHERE key = ?').get(key) as InstanceRow | undefined;
    return row ? recordFromRow(row) : undefined;
  }

  listRecords(workload?: string, includeGone = false): readonly InstanceRecord[] {
    const where: string[] = [];
    const args: string[] = [];
    if (workload !== undefined) { where.push('workload = ?'); args.push(workload); }
    if (!includeGone) where.push("state <> 'gone'");
    const sql = `SELECT * FROM instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY workload, ordinal`;
    return (this.sql(sql).all(...args) as InstanceRow[]).map(recordFromRow);
  }

  updateRecord(key: string, patch: InstanceRecordPatch): InstanceRecord {
    const cols: Record<keyof InstanceRecordPatch, string> = {
      state: 'state', instanceId: 'instance_id', cloudState: 'cloud_state', publicIp: 'public_ip', privateIp: 'private_ip',
    };
    const sets: string[] = ['updated_at_ms = ?'];
    const args: Array<string | number | null> = [this.now()];
    for (const [k, col] of Object.entries(cols) as Array<[keyof InstanceRecordPatch, string]>) {
      if (k in patch) { sets.push(`${col} = ?`); args.push(patch[k] ?? null); }
    }
    const res = this.sql(`UPDATE instances SET ${sets.join(', ')} WHERE key = ?`).run(...args, key);
    if (res.changes !== 1) throw new Error(`unknown instance record '${key}'`);
    const record = this.getRecord(key) as InstanceRecord;
    this.emit('instances', record.workload);
    return record;
  }

  pruneGone(workload: string): void {
    if (this.sql("DELETE FROM instances WHERE workload = ? AND state = 'gone'").run(workload).changes > 0) this.emit('instances', workload);
  }

  journalBegin(e: Omit<JournalEntry, 'seq' | 'atMs' | 'outcome'>): number {
    const res = this.sql(`INSERT INTO journal (at_ms, operation, key, workload, cloud, region, instance_id, outcome)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`).run(this.now(), e.operation, e.key, e.workload, e.cloud, e.region, e.instanceId ?? null);
    return Number(res.lastInsertRowid);
  }

  journalEnd(seq: number, outcome: string, instanceId?: string): void {
    this.sql('UPDATE journal SET outcome = ?, instance_id = COALESCE(?, instance_id) WHERE seq = ?').run(outcome, instanceId ?? null, seq);
  }

  listJournal(workload?: string): readonly JournalEntry[] {
    const rows = workload === undefined
      ? this.sql('SELECT * FROM journal ORDER BY seq').all()
      : this.sql('SELECT * FROM journal WHERE workload = ? ORDER BY seq').all(workload);
    return (rows as JournalRow[]).map(journalFromRow);
  }

  putConstraint(c: Constraint): void {
    this.sql(`INSERT INTO constraints (cloud, region, size, reason, until_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(cloud, region, size) DO UPDATE SET reason = excluded.reason, until_ms = MAX(until_ms, excluded.until_ms)`)
      .run(c.cloud, c.region, c.size, c.reason, c.untilMs);
  }

  listConstraints(nowMs: number): readonly Constraint[] {
    const rows = this.sql('SELECT * FROM constraints WHERE until_ms > ? ORDER BY cloud, region, size').all(nowMs) as Array<{
      cloud: string; region: string; size: string; reason: string; until_ms: number }>;
    return rows.map((r) => ({ cloud: r.cloud as CloudId, region: r.region, size: r.size, reason: r.reason, untilMs: r.until_ms }));
  }

  putRegionHealth(h: StoredRegionHealth): void {
    this.sql(`INSERT INTO region_health (cloud, region, healthy, breaker, consecutive_failures, last_error, since_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(cloud, region) DO UPDATE SET healthy = excluded.healthy, breaker = excluded.breaker,
      consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error, since_ms = excluded.since_ms`)
      .run(h.cloud, h.region, h.healthy ? 1 : 0, h.breaker, h.consecutiveFailures, h.lastError ?? null, h.sinceMs);
    this.emit('health', `${h.cloud}/${h.region}`);
  }

  listRegionHealth(): readonly StoredRegionHealth[] {
    return (this.sql('SELECT * FROM region_health ORDER BY cloud, region').all() as RegionHealthRow[]).map(regionHealthFromRow);
  }

  nextRevision(count = 1): number {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`revision count must be a positive integer, got ${count}`);
    return this.db.transaction(() => {
      this.sql("INSERT INTO meta (k, v) VALUES ('revision', ?) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v").run(count);
      return this.currentRevision();
    }).immediate();
  }

  stateId(): string {
    const row = this.sql("SELECT v FROM meta WHERE k = 'state_id'").get() as { v: number };
    return row.v.toString(16).padStart(12, '0');
  }

  currentRevision(): number {
    const row = this.sql("SELECT v FROM meta WHERE k = 'revision'").get() as { v: number } | undefined;
    return row?.v ?? 0;
  }

  close(): void {
    this.listeners.clear();
    this.workloads.clear();
    if (this.db.open) this.db.close();
  }

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  private emit(kind: StoreChange['kind'], name: string): void {
    const change: StoreChange = { kind, name };
    for (const l of this.listeners) l(change);
  }
}
