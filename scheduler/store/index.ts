export * from './types';
export { SqliteStateStore, type SqliteStoreOptions } from './sqlite';
export { DATA_DIR_LOCK_FILE, DATA_DIR_PID_FILE, DataDirLockedError, lockDataDir, type DataDirLock } from './lock';
export { migrateSqlite, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, StoreSchemaTooNewError, type SqliteMigration } from './sqlite-schema';
export { openSqliteStore, PromisedStateStore } from './promised';
