import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { CloudId } from '../../../providers';
import { DEFAULT_LEASE_TABLE, StaleLeaseTokenError } from '../../lease';
import type { Placement, Workload } from '../../placement/types';
import {
  journalFromRow, policyFromRow, recordFromRow, regionHealthFromRow, workloadFromRow, type InstanceRow, type JournalRow, type PolicyRow, type RegionHealthRow, type WorkloadRow,
} from '../rows';
import { migratePostgres, POSTGRES_SCHEMA_VERSION } from './schema';
import type {
  Constraint, InstanceRecord, InstanceRecordPatch, JournalEntry, StateStore, StoreChange, StoredPolicy, StoredRegionHealth, StoredWorkload,
} from '../types';

/** The channel other schedulers' changes arrive on (payload: `{"k":kind,"n":name,"o":origin}`). */
export const POSTGRES_CHANGE_CHANNEL = 'meridian_changes';

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** Where the database is (a pool of `poolSize` connections, plus one that listens for changes). */
  readonly connection: pg.PoolConfig;
  /** Names the database in errors and logs: a URL without its password. */
  readonly where: string;
  /** Connections in the pool (default 8). */
  readonly poolSize?: number;
  /**
   * The leader lease whose fencing token every journal entry must carry: an entry whose token is
   * not the lease's current, unexpired one is refused in the same statement. Without it tokens are
   * recorded but not checked.
   */
  readonly fence?: { readonly name: string; readonly table?: string };
  /** Where lost connections are reported (default: nowhere). */
  readonly log?: (message: string) => void;
  /** Clock seam for tests. */
  readonly now?: () => number;
}


/** Stable JSON (sorted keys) so that an unchanged spec compares equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/** bigint columns (epoch ms, sequence numbers, tokens) as numbers: all stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) => (oid === pg.types.builtins.INT8 && format !== 'binary'
    ? (v: string) => Number(v)
    : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/**
 * `StateStore` over PostgreSQL, for several schedulers sharing one state. Opening (`open()`)
 * upgrades an older schema (see `POSTGRES_MIGRATIONS`) and refuses, with `StoreSchemaTooNewError`,
 * one written by a newer meridian. Each write tells this process's listeners when it has committed
 * and, through NOTIFY in the same transaction, every other scheduler's; a listening connection that
 * was lost and made again tells them `resync`. The watch revision is a row, so it never goes back,
 * whichever scheduler takes the next one.
 */
export class PostgresStateStore implements StateStore {
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  /** Tells this store's own notifications apart from other schedulers'. */
  private readonly origin = randomBytes(6).toString('hex');
  private readonly leaseTable: string;
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private stateIdValue = '';

  private constructor(private readonly options: PostgresStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.leaseTable = options.fence?.table ?? DEFAULT_LEASE_TABLE;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.leaseTable)) throw new RangeError(`lease table must be a lowercase SQL identifier, got '${this.leaseTable}'`);
    this.pool = new pg.Pool({ max: options.poolSize ?? 8, types: TYPES, ...options.connection });
    // Idle connections break when the server restarts; the next query opens a new one.
    this.pool.on('error', (err) => { this.log(`state store ${options.where}: connection lost: ${err.message}`); });
  }

  /** Connects, brings the schema up to date and starts listening for other schedulers' changes. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStateStore> {
    const store = new PostgresStateStore(options);
    try {
      const client = await store.pool.connect();
      try {
        await migratePostgres(client, options.where);
      } finally {
        client.release();
      }
      store.stateIdValue = (await store.one<{ v: number }>("SELECT v FROM meridian_meta WHERE k = 'state_id'")).v.toString(16).padStart(12, '0');
      await store.listen(false);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** The schema version this code knows. */
  static readonly schemaVersion = POSTGRES_SCHEMA_VERSION;

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async putWorkload(spec: Workload): Promise<{ workload: StoredWorkload; created: boolean; changed: boolean }> {
    return this.tx(async (c) => {
      const row = (await c.query<WorkloadRow>('SELECT * FROM meridian_workloads WHERE name = $1 FOR UPDATE', [spec.name])).rows[0];
      const json = canonical(spec);
      const at = new Date(this.now()).toISOString();
      let out: WorkloadRow;
      if (!row) {
        // Two schedulers creating the same name at once: the second one's insert becomes an update.
        out = (await c.query<WorkloadRow>(`INSERT INTO meridian_workloads (name, spec, generation, updated_at) VALUES ($1, $2, 1, $3)
          ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, generation = meridian_workloads.generation + 1, updated_at = excluded.updated_at, deleted_at = NULL
          RETURNING *`, [spec.name, json, at])).rows[0];
      } else if (row.spec !== json || row.deleted_at) {
        out = (await c.query<WorkloadRow>(`UPDATE meridian_workloads SET spec = $1, generation = generation + 1, updated_at = $2, deleted_at = NULL
          WHERE name = $3 RETURNING *`, [json, at, spec.name])).rows[0];
      } else {
        out = row;
      }
      const changed = !row || row.spec !== json || row.deleted_at !== null;
      return {
        value: { workload: workloadFromRow(out), created: !row || row.deleted_at !== null, changed },
        changes: changed ? [{ kind: 'workload', name: spec.name }] : [],
      };
    });
  }

  async getWorkload(name: string): Promise<StoredWorkload | undefined> {
    const row = (await this.pool.query<WorkloadRow>('SELECT * FROM meridian_workloads WHERE name = $1', [name])).rows[0];
    return row ? workloadFromRow(row) : undefined;
  }

  async listWorkloads(): Promise<readonly StoredWorkload[]> {
    return (await this.pool.query<WorkloadRow>('SELECT * FROM meridian_workloads ORDER BY name COLLATE "C"')).rows.map(workloadFromRow);
  }

  async listWorkloadNames(): Promise<readonly string[]> {
    return (await this.pool.query<{ name: string }>('SELECT name FROM meridian_workloads ORDER BY name COLLATE "C"')).rows.map((r) => r.name);
  }

  async listWorkloadsByDnsName(dnsName: string): Promise<readonly StoredWorkload[]> {
    return (await this.pool.query<WorkloadRow>(`SELECT * FROM meridian_workloads WHERE deleted_at IS NULL AND ((spec::jsonb) -> 'dns' ->> 'name') = $1
      ORDER BY name COLLATE "C"`, [dnsName])).rows.map(workloadFromRow);
  }

  async markWorkloadDeleted(name: string): Promise<boolean> {
    const at = new Date(this.now()).toISOString();
    return this.tx(async (c) => {
      const marked = (await c.query('UPDATE meridian_workloads SET deleted_at = $1, updated_at = $1 WHERE name = $2 AND deleted_at IS NULL', [at, name])).rowCount === 1;
      return { value: marked, changes: marked ? [{ kind: 'workload', name }] : [] };
    });
  }

  async purgeWorkload(name: string): Promise<void> {
    await this.tx(async (c) => {
      const n = (await c.query('DELETE FROM meridian_workloads WHERE name = $1 AND deleted_at IS NOT NULL', [name])).rowCount ?? 0;
      return { value: undefined, changes: n > 0 ? [{ kind: 'workload', name }] : [] };
    });
  }

  async setPlacement(name: string, p: { preferred?: Placement; applied?: Placement; placementError?: string; observedGeneration?: number }): Promise<void> {
    const sets: string[] = [];
    const args: Array<string | number | null> = [];
    if ('preferred' in p) { args.push(p.preferred ? JSON.stringify(p.preferred) : null); sets.push(`preferred = $${args.length}`); }
    if ('applied' in p) { args.push(p.applied ? JSON.stringify(p.applied) : null); sets.push(`applied = $${args.length}`); }
    if (p.observedGeneration !== undefined) { args.push(p.observedGeneration); sets.push(`observed_generation = $${args.length}`); }
    args.push(p.placementError ?? null);
    sets.push(`placement_error = $${args.length}`);
    args.push(name);
    await this.tx(async (c) => {
      const n = (await c.query(`UPDATE meridian_workloads SET ${sets.join(', ')} WHERE name = $${args.length}`, args)).rowCount ?? 0;
      return { value: undefined, changes: n > 0 ? [{ kind: 'placement', name }] : [] };
    });
  }

  async putPolicy(name: string, spec: unknown): Promise<{ policy: StoredPolicy; created: boolean; changed: boolean }> {
    return this.tx(async (c) => {
      const row = (await c.query<PolicyRow>('SELECT * FROM meridian_policies WHERE name = $1 FOR UPDATE', [name])).rows[0];
      const json = canonical(spec);
      let out = row;
      if (!row || row.spec !== json) {
        out = (await c.query<PolicyRow>(`INSERT INTO meridian_policies (name, spec, updated_at, generation) VALUES ($1, $2, $3, 1) ON CONFLICT (name) DO UPDATE SET
          spec = excluded.spec, updated_at = excluded.updated_at, generation = meridian_policies.generation + 1 RETURNING *`,
        [name, json, new Date(this.now()).toISOString()])).rows[0];
      }
      const changed = !row || row.spec !== json;
      return { value: { policy: policyFromRow(out as PolicyRow), created: !row, changed }, changes: changed ? [{ kind: 'policy', name }] : [] };
    });
  }

  async getPolicy(name: string): Promise<StoredPolicy | undefined> {
    const row = (await this.pool.query<PolicyRow>('SELECT * FROM meridian_policies WHERE name = $1', [name])).rows[0];
    return row ? policyFromRow(row) : undefined;
  }

  async listPolicies(): Promise<readonly StoredPolicy[]> {
    return (await this.pool.query<PolicyRow>('SELECT * FROM meridian_policies ORDER BY name COLLATE "C"')).rows.map(policyFromRow);
  }

  async deletePolicy(name: string): Promise<boolean> {
    return this.tx(async (c) => {
      const removed = ((await c.query('DELETE FROM meridian_policies WHERE name = $1', [name])).rowCount ?? 0) > 0;
      return { value: removed, changes: removed ? [{ kind: 'policy', name }] : [] };
    });
  }

  async workloadsUsingPolicy(policy: string): Promise<readonly string[]> {
    return (await this.pool.query<{ name: string }>("SELECT name FROM meridian_workloads WHERE (spec::jsonb) ->> 'policy' = $1 ORDER BY name COLLATE \"C\"", [policy]))
      .rows.map((r) => r.name);
  }

  async nextOrdinal(workload: string): Promise<number> {
    const row = (await this.pool.query<{ ordinal: number }>(
      'UPDATE meridian_workloads SET next_ordinal = next_ordinal + 1 WHERE name = $1 RETURNING next_ordinal - 1 AS ordinal', [workload])).rows[0];
    if (!row) throw new Error(`unknown workload '${workload}'`);
    return row.ordinal;
  }

  async recordCreateIntent(r: Omit<InstanceRecord, 'state' | 'createdAtMs' | 'updatedAtMs'>, token?: number): Promise<{ record: InstanceRecord; seq: number }> {
    return this.tx(async (c) => {
      // The journal entry first: when its token is refused nothing of the intent is written.
      const seq = await this.insertJournal(c, { operation: 'create', key: r.key, workload: r.workload, cloud: r.cloud, region: r.region, ...(token !== undefined ? { token } : {}) });
      const record = await this.insertRow(c, { ...r, state: 'creating' });
      return { value: { record, seq }, changes: [{ kind: 'instances', name: r.workload }] };
    });
  }

  async insertRecord(r: Omit<InstanceRecord, 'createdAtMs' | 'updatedAtMs'>): Promise<InstanceRecord> {
    return this.tx(async (c) => ({ value: await this.insertRow(c, r), changes: [{ kind: 'instances', name: r.workload }] }));
  }

  private async insertRow(c: pg.ClientBase, r: Omit<InstanceRecord, 'createdAtMs' | 'updatedAtMs'>): Promise<InstanceRecord> {
    const t = this.now();
    const res = await c.query<InstanceRow>(`INSERT INTO meridian_instances (key, workload, cloud, region, size, image, ordinal, state, instance_id, cloud_state,
      public_ip, private_ip, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *`,
    [r.key, r.workload, r.cloud, r.region, r.size, r.image, r.ordinal, r.state, r.instanceId ?? null,
      r.cloudState ?? null, r.publicIp ?? null, r.privateIp ?? null, t]);
    return recordFromRow(res.rows[0]);
  }

  async getRecord(key: string): Promise<InstanceRecord | undefined> {
    const row = (await this.pool.query<InstanceRow>('SELECT * FROM meridian_instances WHERE key = $1', [key])).rows[0];
    return row ? recordFromRow(row) : undefined;
  }

  async listRecords(workload?: string, includeGone = false): Promise<readonly InstanceRecord[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (workload !== undefined) { args.push(workload); where.push(`workload = $${args.length}`); }
    if (!includeGone) where.push("state <> 'gone'");
    const sql = `SELECT * FROM meridian_instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY workload COLLATE "C", ordinal`;
    return (await this.pool.query<InstanceRow>(sql, args)).rows.map(recordFromRow);
  }

  async updateRecord(key: string, patch: InstanceRecordPatch): Promise<InstanceRecord> {
    const cols: Record<keyof InstanceRecordPatch, string> = {
      state: 'state', instanceId: 'instance_id', cloudState: 'cloud_state', publicIp: 'public_ip', privateIp: 'private_ip',
    };
    const args: Array<string | number | null> = [this.now()];
    const sets: string[] = ['updated_at_ms = $1'];
    for (const [k, col] of Object.entries(cols) as Array<[keyof InstanceRecordPatch, string]>) {
      if (k in patch) { args.push(patch[k] ?? null); sets.push(`${col} = $${args.length}`); }
    }
    args.push(key);
    return this.tx(async (c) => {
      const row = (await c.query<InstanceRow>(`UPDATE meridian_instances SET ${sets.join(', ')} WHERE key = $${args.length} RETURNING *`, args)).rows[0];
      if (!row) throw new Error(`unknown instance record '${key}'`);
      return { value: recordFromRow(row), changes: [{ kind: 'instances', name: row.workload }] };
    });
  }

  async pruneGone(workload: string): Promise<void> {
    await this.tx(async (c) => {
      const n = (await c.query("DELETE FROM meridian_instances WHERE workload = $1 AND state = 'gone'", [workload])).rowCount ?? 0;
      return { value: undefined, changes: n > 0 ? [{ kind: 'instances', name: workload }] : [] };
    });
  }

  async journalBegin(e: Omit<JournalEntry, 'seq' | 'atMs' | 'outcome'>): Promise<number> {
    const c = await this.pool.connect();
    try {
      return await this.insertJournal(c, e);
    } finally {
      c.release();
    }
  }

  /**
   * One journal row. With a fence, the row is inserted only if the lease row says `e.token` is
   * current and unexpired, and that row is share-locked until the transaction ends, so the lease
   * cannot pass to another before this entry commits.
   */
  private async insertJournal(c: pg.ClientBase, e: Omit<JournalEntry, 'seq' | 'atMs' | 'outcome'>): Promise<number> {
    const values = [this.now(), e.operation, e.key, e.workload, e.cloud, e.region, e.instanceId ?? null, e.token ?? null];
    const res = await this.fencedInsert<{ seq: number }>(c, (from) => `INSERT INTO meridian_journal (at_ms, operation, key, workload, cloud, region, instance_id, outcome, token)
      SELECT $1, $2, $3, $4, $5, $6, $7, 'pending', $8 ${from} RETURNING seq`, values);
    return res.rows[0].seq;
  }

  /**
   * Runs an `INSERT … SELECT` whose source is `from`: nothing without a fence; with one, the lease
   * row (`FROM lease`), there only when the last of `values` is the current, unexpired token, and
   * share-locked until commit. A deposed leader's write so takes no row, and is refused with
   * `StaleLeaseTokenError` naming the token it had and the current one.
   */
  private async fencedInsert<R extends pg.QueryResultRow>(c: pg.ClientBase, sql: (from: string) => string, values: readonly unknown[]): Promise<pg.QueryResult<R>> {
    const fence = this.options.fence;
    if (!fence) return c.query<R>(sql(''), [...values]);
    const token = values[values.length - 1] as number | null;
    if (token === null) throw new StaleLeaseTokenError(fence.name, 0, undefined, false);
    const res = await c.query<R>(`WITH lease AS (
        SELECT token FROM ${this.leaseTable} WHERE name = $${values.length + 1} AND token = $${values.length} AND expires_at > now() FOR SHARE)
      ${sql('FROM lease')}`, [...values, fence.name]);
    if (res.rowCount === 1) return res;
    const now = (await c.query<{ token: number }>(`SELECT token FROM ${this.leaseTable} WHERE name = $1`, [fence.name])).rows[0];
    throw new StaleLeaseTokenError(fence.name, token, now?.token, now?.token === token);
  }

  async journalEnd(seq: number, outcome: string, instanceId?: string): Promise<void> {
    await this.pool.query('UPDATE meridian_journal SET outcome = $1, instance_id = COALESCE($2, instance_id) WHERE seq = $3', [outcome, instanceId ?? null, seq]);
  }

  async listJournal(workload?: string): Promise<readonly JournalEntry[]> {
    const res = workload === undefined
      ? await this.pool.query<JournalRow>('SELECT * FROM meridian_journal ORDER BY seq')
      : await this.pool.query<JournalRow>('SELECT * FROM meridian_journal WHERE workload = $1 ORDER BY seq', [workload]);
    return res.rows.map(journalFromRow);
  }

  async putConstraint(c: Constraint): Promise<void> {
    await this.pool.query(`INSERT INTO meridian_constraints (cloud, region, size, reason, until_ms) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (cloud, region, size) DO UPDATE SET reason = excluded.reason, until_ms = GREATEST(meridian_constraints.until_ms, excluded.until_ms)`,
    [c.cloud, c.region, c.size, c.reason, c.untilMs]);
  }

  async listConstraints(nowMs: number): Promise<readonly Constraint[]> {
    const rows = (await this.pool.query<{ cloud: string; region: string; size: string; reason: string; until_ms: number }>(
      'SELECT * FROM meridian_constraints WHERE until_ms > $1 ORDER BY cloud COLLATE "C", region COLLATE "C", size COLLATE "C"', [nowMs])).rows;
    return rows.map((r) => ({ cloud: r.cloud as CloudId, region: r.region, size: r.size, reason: r.reason, untilMs: r.until_ms }));
  }

  /**
   * With a fence, the row is written only if the lease row says `token` is current and unexpired
   * (share-locked until commit, as for journal entries); otherwise `StaleLeaseTokenError`.
   */
  async putRegionHealth(h: StoredRegionHealth, token?: number): Promise<void> {
    const values = [h.cloud, h.region, h.healthy, h.breaker, h.consecutiveFailures, h.lastError ?? null, h.sinceMs, token ?? null];
    await this.tx(async (c) => {
      await this.fencedInsert(c, (from) => `INSERT INTO meridian_region_health (cloud, region, healthy, breaker, consecutive_failures, last_error, since_ms, token)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8 ${from}
        ON CONFLICT (cloud, region) DO UPDATE SET healthy = excluded.healthy, breaker = excluded.breaker,
        consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error, since_ms = excluded.since_ms, token = excluded.token`, values);
      return { value: undefined, changes: [{ kind: 'health', name: `${h.cloud}/${h.region}` }] };
    });
  }

  async listRegionHealth(): Promise<readonly StoredRegionHealth[]> {
    return (await this.pool.query<RegionHealthRow>('SELECT * FROM meridian_region_health ORDER BY cloud COLLATE "C", region COLLATE "C"')).rows.map(regionHealthFromRow);
  }

  async nextRevision(count = 1): Promise<number> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`revision count must be a positive integer, got ${count}`);
    return (await this.one<{ v: number }>("UPDATE meridian_meta SET v = v + $1 WHERE k = 'revision' RETURNING v", [count])).v;
  }

  async currentRevision(): Promise<number> {
    return (await this.one<{ v: number }>("SELECT v FROM meridian_meta WHERE k = 'revision'")).v;
  }

  async stateId(): Promise<string> {
    return this.stateIdValue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    clearTimeout(this.reconnectTimer);
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
    await this.pool.end();
  }

  private async one<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T> {
    const row = (await this.pool.query<T>(text, values)).rows[0];
    if (!row) throw new Error(`state store ${this.options.where}: no row for ${text.slice(0, 60)}`);
    return row;
  }

  /** Runs `fn` in a transaction that also notifies other schedulers of its changes; tells local listeners after commit. */
  private async tx<T>(fn: (c: pg.ClientBase) => Promise<{ value: T; changes: StoreChange[] }>): Promise<T> {
    const c = await this.pool.connect();
    let out: { value: T; changes: StoreChange[] };
    try {
      await c.query('BEGIN');
      try {
        out = await fn(c);
        for (const ch of out.changes) {
          await c.query('SELECT pg_notify($1, $2)', [POSTGRES_CHANGE_CHANNEL, JSON.stringify({ k: ch.kind, n: ch.name, o: this.origin })]);
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      c.release();
    }
    for (const ch of out.changes) this.emit(ch);
    return out.value;
  }

  private emit(change: StoreChange): void {
    for (const l of this.listeners) l(change);
  }

  /** Opens the listening connection; after a lost one, tells listeners to resync once it is back. */
  private async listen(resync: boolean): Promise<void> {
    const client = new pg.Client({ ...this.options.connection });
    client.on('error', (err) => { this.log(`state store ${this.options.where}: change feed lost: ${err.message}`); });
    client.on('notification', (n) => {
      if (n.channel !== POSTGRES_CHANGE_CHANNEL || !n.payload) return;
      try {
        const p = JSON.parse(n.payload) as { k: StoreChange['kind']; n: string; o: string };
        if (p.o !== this.origin) this.emit({ kind: p.k, name: p.n });
      } catch {
        // Not one of ours.
      }
    });
    client.on('end', () => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      this.reconnect(500);
    });
    await client.connect();
    await client.query(`LISTEN ${POSTGRES_CHANGE_CHANNEL}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.listener = client;
    if (resync) this.emit({ kind: 'resync', name: '' });
  }

  private reconnect(delayMs: number): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.listen(true).catch((err: unknown) => {
        this.log(`state store ${this.options.where}: cannot listen for changes yet: ${err instanceof Error ? err.message : String(err)}`);
        this.reconnect(Math.min(5_000, delayMs * 2));
      });
    }, delayMs);
  }
}
