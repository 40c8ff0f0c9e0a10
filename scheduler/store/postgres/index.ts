/**
 * The PostgreSQL state store, for several schedulers sharing one state. Not re-exported by
 * `scheduler/store` (it loads `pg`); the service imports it only when a store URL says so.
 */
export { POSTGRES_CHANGE_CHANNEL, PostgresStateStore, type PostgresStoreOptions } from './store';
export { migratePostgres, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, type PostgresMigration } from './schema';
