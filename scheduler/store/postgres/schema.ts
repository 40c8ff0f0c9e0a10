import type pg from 'pg';
import { StoreSchemaTooNewError } from '../sqlite-schema';

/**
 * One step of the PostgreSQL store's schema: `up` brings a database at `version - 1` to
 * `version`. Steps are never edited once released; a change of schema is a new step at the end.
 */
export interface PostgresMigration {
  readonly version: number;
  /** What the step changes, for the log of an upgrade. */
  readonly description: string;
  readonly sql: string;
}

/** Every step of the schema, oldest first. Tables carry a `meridian_` prefix: the database may hold others. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([
  {
    version: 1,
    description: 'workloads, policies, instances, journal (with fencing tokens), constraints and meta',
    sql: `
CREATE TABLE meridian_meta (k text PRIMARY KEY, v bigint NOT NULL);
CREATE TABLE meridian_workloads (
  name text PRIMARY KEY, spec text NOT NULL, generation integer NOT NULL, updated_at text NOT NULL,
  deleted_at text, preferred text, applied text, placement_error text, next_ordinal integer NOT NULL DEFAULT 0);
CREATE INDEX meridian_workloads_by_dns_name ON meridian_workloads (((spec::jsonb) -> 'dns' ->> 'name')) WHERE deleted_at IS NULL;
CREATE TABLE meridian_policies (name text PRIMARY KEY, spec text NOT NULL, updated_at text NOT NULL, generation integer NOT NULL DEFAULT 1);
CREATE TABLE meridian_instances (
  key text PRIMARY KEY, workload text NOT NULL, cloud text NOT NULL, region text NOT NULL, size text NOT NULL,
  image text NOT NULL, ordinal integer NOT NULL, state text NOT NULL, instance_id text, cloud_state text,
  public_ip text, private_ip text, created_at_ms bigint NOT NULL, updated_at_ms bigint NOT NULL);
CREATE INDEX meridian_instances_by_workload ON meridian_instances (workload, state);
CREATE TABLE meridian_journal (
  seq bigserial PRIMARY KEY, at_ms bigint NOT NULL, operation text NOT NULL, key text NOT NULL,
  workload text NOT NULL, cloud text NOT NULL, region text NOT NULL, instance_id text, outcome text NOT NULL, token bigint);
CREATE INDEX meridian_journal_by_workload ON meridian_journal (workload, seq);
CREATE TABLE meridian_constraints (
  cloud text NOT NULL, region text NOT NULL, size text NOT NULL, reason text NOT NULL, until_ms bigint NOT NULL,
  PRIMARY KEY (cloud, region, size));
INSERT INTO meridian_meta (k, v) VALUES ('state_id', floor(random() * 140737488355327)::bigint + 1), ('revision', 0);
`,
  },
  {
    version: 2,
    description: 'region health at its transitions, and the spec generation the reconciler last acted on per workload',
    sql: `
CREATE TABLE meridian_region_health (
  cloud text NOT NULL, region text NOT NULL, healthy boolean NOT NULL, breaker text NOT NULL,
  consecutive_failures integer NOT NULL, last_error text, since_ms bigint NOT NULL, token bigint, PRIMARY KEY (cloud, region));
ALTER TABLE meridian_workloads ADD COLUMN observed_generation integer NOT NULL DEFAULT 0;
`,
  },
]);

/** The schema version this code writes and reads: the last step's. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;

/**
 * Brings the database to the last version of `migrations`, in one transaction under an advisory
 * lock (schedulers starting together upgrade once). Throws `StoreSchemaTooNewError`, changing
 * nothing, when the database was written by a newer meridian. `where` names the database in errors.
 */
export async function migratePostgres(client: pg.ClientBase, where: string, migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS): Promise<{ from: number; to: number }> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`schema step ${i + 1} says version ${m.version}: steps must number 1, 2, 3, ... in order`);
  });
  const known = migrations.length;
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('meridian schema'))");
    await client.query('CREATE TABLE IF NOT EXISTS meridian_schema (version integer NOT NULL)');
    const res = await client.query<{ version: number }>('SELECT max(version) AS version FROM meridian_schema');
    const from = res.rows[0]?.version ?? 0;
    if (from > known) throw new StoreSchemaTooNewError(where, from, known);
    for (const m of migrations.slice(from)) {
      await client.query(m.sql);
      await client.query('DELETE FROM meridian_schema');
      await client.query('INSERT INTO meridian_schema (version) VALUES ($1)', [m.version]);
    }
    await client.query('COMMIT');
    return { from, to: known };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
