import type Database from 'better-sqlite3';

/**
 * One step of the SQLite store's schema: `up` brings a file at `version - 1` to `version`. Steps
 * are never edited once released; a change of schema is a new step at the end of the list.
 */
export interface SqliteMigration {
  readonly version: number;
  /** What the step changes, for the log of an upgrade. */
  readonly description: string;
  readonly up: (db: Database.Database) => void;
}

/** The schema as it was before files carried a version; version 1 names it, so such files upgrade in place. */
const SCHEMA_V1 = `
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

/** Every step of the schema, oldest first. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = Object.freeze([
  {
    version: 1,
    description: 'workloads, policies (with generation), instances, journal, constraints and meta',
    up: (db: Database.Database) => {
      db.exec(SCHEMA_V1);
      // Files made before policies had a generation.
      const columns = db.prepare('PRAGMA table_info(policies)').all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === 'generation')) db.exec('ALTER TABLE policies ADD COLUMN generation INTEGER NOT NULL DEFAULT 1');
    },
  },
  {
    version: 2,
    description: 'index of the live workloads by DNS name, which every workload write looks up',
    up: (db: Database.Database) => {
      // Without it the lookup reads every workload's spec, so a write's cost grows with their number.
      db.exec("CREATE INDEX IF NOT EXISTS workloads_by_dns_name ON workloads (json_extract(spec, '$.dns.name')) WHERE deleted_at IS NULL");
    },
  },
  {
    version: 3,
    description: 'region health at its transitions, and the spec generation the reconciler last acted on per workload',
    up: (db: Database.Database) => {
      db.exec(`CREATE TABLE IF NOT EXISTS region_health (
  cloud TEXT NOT NULL, region TEXT NOT NULL, healthy INTEGER NOT NULL, breaker TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL, last_error TEXT, since_ms INTEGER NOT NULL, PRIMARY KEY (cloud, region))`);
      // Idempotent, as step 1 is: a file whose version number was set back keeps what it has.
      const columns = db.prepare('PRAGMA table_info(workloads)').all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === 'observed_generation')) db.exec('ALTER TABLE workloads ADD COLUMN observed_generation INTEGER NOT NULL DEFAULT 0');
    },
  },
]);

/** The schema version this code writes and reads: the last step's. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;

/** Raised when a state file was written by a newer meridian, whose schema this code does not know. */
export class StoreSchemaTooNewError extends Error {
  override readonly name = 'StoreSchemaTooNewError';
  readonly code = 'MERIDIAN_ERR_STORE_SCHEMA_TOO_NEW';
  constructor(readonly file: string, readonly found: number, readonly known: number) {
    super(`state database ${file} has schema version ${found}, newer than version ${known} that this meridian knows; `
      + 'run a meridian at least as new as the one that last wrote it (the file was left unchanged)');
  }
}

/** The file's schema version (`PRAGMA user_version`, 0 for a new file or one from before versions). */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the file to the last version of `migrations`: the missing steps, in order, and the new
 * version number, all in one immediate transaction, so a failed step leaves the file at its old
 * version and unchanged. Throws `StoreSchemaTooNewError`, writing nothing, when the file is newer.
 */
export function migrateSqlite(db: Database.Database, file: string, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`schema step ${i + 1} says version ${m.version}: steps must number 1, 2, 3, ... in order`);
  });
  const known = migrations.length;
  return db.transaction(() => {
    // Read inside the write transaction: another process may have upgraded the file meanwhile.
    const from = schemaVersion(db);
    if (from > known) throw new StoreSchemaTooNewError(file, from, known);
    for (const m of migrations.slice(from)) {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
    return { from, to: known };
  }).immediate();
}
