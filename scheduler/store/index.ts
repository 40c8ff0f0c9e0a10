export * from './types';
export { SqliteStateStore, type SqliteStoreOptions } from './sqlite';
