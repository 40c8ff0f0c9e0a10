import { SqliteStateStore, type SqliteStoreOptions } from './sqlite';
import type { StateStore, StoreChange, SyncStateStore } from './types';

/**
 * A synchronous store behind the asynchronous `StateStore` interface: each call runs at once and
 * its promise settles with the result (or the error it threw).
 */
export class PromisedStateStore implements StateStore {
  constructor(
    /** The store itself, for callers in the same process that want its answers synchronously (tests, tools). */
    readonly sync: SyncStateStore,
  ) {}

  onChange(listener: (change: StoreChange) => void): () => void { return this.sync.onChange(listener); }
  async putWorkload(...a: Parameters<SyncStateStore['putWorkload']>) { return this.sync.putWorkload(...a); }
  async getWorkload(...a: Parameters<SyncStateStore['getWorkload']>) { return this.sync.getWorkload(...a); }
  async listWorkloads() { return this.sync.listWorkloads(); }
  async listWorkloadNames() { return this.sync.listWorkloadNames(); }
  async listWorkloadsByDnsName(...a: Parameters<SyncStateStore['listWorkloadsByDnsName']>) { return this.sync.listWorkloadsByDnsName(...a); }
  async markWorkloadDeleted(...a: Parameters<SyncStateStore['markWorkloadDeleted']>) { return this.sync.markWorkloadDeleted(...a); }
  async purgeWorkload(...a: Parameters<SyncStateStore['purgeWorkload']>) { this.sync.purgeWorkload(...a); }
  async setPlacement(...a: Parameters<SyncStateStore['setPlacement']>) { this.sync.setPlacement(...a); }
  async putPolicy(...a: Parameters<SyncStateStore['putPolicy']>) { return this.sync.putPolicy(...a); }
  async getPolicy(...a: Parameters<SyncStateStore['getPolicy']>) { return this.sync.getPolicy(...a); }
  async listPolicies() { return this.sync.listPolicies(); }
  async deletePolicy(...a: Parameters<SyncStateStore['deletePolicy']>) { return this.sync.deletePolicy(...a); }
  async workloadsUsingPolicy(...a: Parameters<SyncStateStore['workloadsUsingPolicy']>) { return this.sync.workloadsUsingPolicy(...a); }
  async nextOrdinal(...a: Parameters<SyncStateStore['nextOrdinal']>) { return this.sync.nextOrdinal(...a); }
  async recordCreateIntent(...a: Parameters<SyncStateStore['recordCreateIntent']>) { return this.sync.recordCreateIntent(...a); }
  async insertRecord(...a: Parameters<SyncStateStore['insertRecord']>) { return this.sync.insertRecord(...a); }
  async getRecord(...a: Parameters<SyncStateStore['getRecord']>) { return this.sync.getRecord(...a); }
  async listRecords(...a: Parameters<SyncStateStore['listRecords']>) { return this.sync.listRecords(...a); }
  async updateRecord(...a: Parameters<SyncStateStore['updateRecord']>) { return this.sync.updateRecord(...a); }
  async pruneGone(...a: Parameters<SyncStateStore['pruneGone']>) { this.sync.pruneGone(...a); }
  async journalBegin(...a: Parameters<SyncStateStore['journalBegin']>) { return this.sync.journalBegin(...a); }
  async journalEnd(...a: Parameters<SyncStateStore['journalEnd']>) { this.sync.journalEnd(...a); }
  async listJournal(...a: Parameters<SyncStateStore['listJournal']>) { return this.sync.listJournal(...a); }
  async putConstraint(...a: Parameters<SyncStateStore['putConstraint']>) { this.sync.putConstraint(...a); }
  async listConstraints(...a: Parameters<SyncStateStore['listConstraints']>) { return this.sync.listConstraints(...a); }
  async putRegionHealth(...a: Parameters<SyncStateStore['putRegionHealth']>) { this.sync.putRegionHealth(...a); }
  async listRegionHealth() { return this.sync.listRegionHealth(); }
  async nextRevision(...a: Parameters<SyncStateStore['nextRevision']>) { return this.sync.nextRevision(...a); }
  async currentRevision() { return this.sync.currentRevision(); }
  async stateId() { return this.sync.stateId(); }
  async close() { this.sync.close(); }
}

/** The embedded store: SQLite in `options.dataDir`, behind the asynchronous interface. */
export function openSqliteStore(options: SqliteStoreOptions): PromisedStateStore {
  return new PromisedStateStore(new SqliteStateStore(options));
}
