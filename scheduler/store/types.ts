import type { CloudId, InstanceState } from '../../providers';
import type { Placement, Workload } from '../placement/types';

/** A workload as stored: its spec, a generation bumped on every change, and deletion mark. */
export interface StoredWorkload {
  readonly name: string;
  readonly spec: Workload;
  /** Increases by one each time the spec changes. */
  readonly generation: number;
  readonly updatedAt: string;
  /** Set when the workload was deleted and its instances are being removed. */
  readonly deletedAt?: string;
  /** The placement chosen with no exclusions, the target of failback. */
  readonly preferred?: Placement;
  /** The placement last applied (may differ from `preferred` while regions are excluded). */
  readonly applied?: Placement;
  /** Why no placement could be made, when none could. */
  readonly placementError?: string;
  /** The spec generation the (leading) reconciler last acted on; 0 before it acted on any. */
  readonly observedGeneration: number;
}

/** A region policy as stored (the document is validated by `policies` before it gets here). */
export interface StoredPolicy {
  readonly name: string;
  readonly spec: unknown;
  /** Increases by one each time the document changes: caches of parsed policies key on it. */
  readonly generation: number;
  readonly updatedAt: string;
}

/** What a store write can change, each named by the workload (or, for `policy`, the policy) it concerns. */
export const STORE_CHANGE_KINDS = ['workload', 'placement', 'instances', 'policy', 'health', 'resync'] as const;

/**
 * One change a write made: `workload` a spec put, deleted or forgotten; `placement` the saved
 * placements (or the generation acted on); `instances` a workload's instance records; `policy` a
 * policy document; `health` a region's stored health (named `cloud/region`). `resync`
 * (name empty) says changes may have been missed (a networked store's change feed reconnected):
 * listeners redo everything.
 */
export interface StoreChange {
  readonly kind: typeof STORE_CHANGE_KINDS[number];
  /** The workload's name, the policy's for `policy`, `cloud/region` for `health`. */
  readonly name: string;
}

/**
 * Where one instance stands in its life. `creating`: the create intent is journalled, the call may
 * or may not have happened. `active`: the cloud returned an id. `terminating`: the terminate intent
 * is journalled. `gone`: nothing exists any more (kept until pruned, for the journal's sake).
 */
export type RecordState = 'creating' | 'active' | 'terminating' | 'gone';

/** One instance the scheduler owns, keyed by its idempotency key. */
export interface InstanceRecord {
  /** The idempotency key: deterministic per (workload, cloud, region, ordinal). */
  readonly key: string;
  readonly workload: string;
  readonly cloud: CloudId;
  readonly region: string;
  readonly size: string;
  readonly image: string;
  /** Per-workload ordinal that made the key; never reused. */
  readonly ordinal: number;
  readonly state: RecordState;
  readonly instanceId?: string;
  /** The cloud's last reported lifecycle state. */
  readonly cloudState?: InstanceState;
  readonly publicIp?: string;
  readonly privateIp?: string;
  /** Epoch ms when the create intent was recorded. */
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** Fields a record update may change. */
export type InstanceRecordPatch = Partial<Pick<InstanceRecord, 'state' | 'instanceId' | 'cloudState' | 'publicIp' | 'privateIp'>>;

/** A cloud call, written before it is made and completed after. */
export interface JournalEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly operation: 'create' | 'terminate' | 'adopt';
  readonly key: string;
  readonly workload: string;
  readonly cloud: CloudId;
  readonly region: string;
  readonly instanceId?: string;
  /** `pending` until the call returned; then `ok` or the CloudError kind. */
  readonly outcome: string;
  /**
   * The fencing token of the leader lease the call was made under (stores shared by several
   * schedulers); absent on a store only one scheduler uses.
   */
  readonly token?: number;
}

/** A (cloud, region[, size]) kept out of placement until `untilMs`. */
export interface Constraint {
  readonly cloud: CloudId;
  readonly region: string;
  /** Empty string means the whole region. */
  readonly size: string;
  readonly reason: string;
  readonly untilMs: number;
}

/**
 * A region's health as the leading scheduler last wrote it: written when it turns healthy or
 * unhealthy, or when an unhealthy region fails with another error; never once per cloud call.
 */
export interface StoredRegionHealth {
  readonly cloud: CloudId;
  readonly region: string;
  readonly healthy: boolean;
  readonly breaker: 'closed' | 'open';
  /** Consecutive `unavailable` outcomes when it was written. */
  readonly consecutiveFailures: number;
  readonly lastError?: string;
  /** Epoch ms since which it has been healthy (or unhealthy). */
  readonly sinceMs: number;
}

/**
 * The scheduler's persistent state, synchronously: what an embedded store (SQLite) implements.
 * `StateStore` is the same with every method returning a promise, which is what callers use.
 * Every write is durable when the method returns: the reconciler relies on that to journal a
 * cloud call before making it.
 */
export interface SyncStateStore {
  /**
   * Registers a listener told of every change once its write is durable, so that readers redo
   * only what a write touched; returns its removal. Listeners run synchronously inside the write
   * call: they must not throw, and should defer their own work.
   */
  onChange(listener: (change: StoreChange) => void): () => void;
  /** Creates or updates a workload; bumps its generation when the spec changed. Undeletes it. */
  putWorkload(spec: Workload): { readonly workload: StoredWorkload; readonly created: boolean; readonly changed: boolean };
  /** The workload (including one being deleted), or undefined. */
  getWorkload(name: string): StoredWorkload | undefined;
  /** Every workload, including those being deleted, by name. */
  listWorkloads(): readonly StoredWorkload[];
  /** Every workload's name (deleted ones included), sorted: a full pass without reading every spec. */
  listWorkloadNames(): readonly string[];
  /** Workloads not being deleted whose spec serves `dnsName` (lowercase, no trailing dot), by name. */
  listWorkloadsByDnsName(dnsName: string): readonly StoredWorkload[];
  /** Marks a workload deleted; false when unknown or already deleted. */
  markWorkloadDeleted(name: string): boolean;
  /** Removes a deleted workload's row once nothing of it is left. */
  purgeWorkload(name: string): void;
  /**
   * Saves the placements and placement error computed by the reconciler and, when given, the spec
   * generation it acted on (`observedGeneration`), which every scheduler's status reports.
   */
  setPlacement(name: string, placement: { preferred?: Placement; applied?: Placement; placementError?: string; observedGeneration?: number }): void;

  /** Creates or replaces a policy; `changed` is false when the document is identical. */
  putPolicy(name: string, spec: unknown): { readonly policy: StoredPolicy; readonly created: boolean; readonly changed: boolean };
  getPolicy(name: string): StoredPolicy | undefined;
  listPolicies(): readonly StoredPolicy[];
  /** Removes a policy; false when there was none of that name. Callers check `workloadsUsingPolicy` first. */
  deletePolicy(name: string): boolean;
  /** Names of the workloads (deleted ones included) whose spec names a policy. */
  workloadsUsingPolicy(policy: string): readonly string[];

  /** Allocates the next never-used ordinal of a workload (for idempotency keys). */
  nextOrdinal(workload: string): number;
  /**
   * Records a create intent and its journal entry in one transaction; returns the journal seq.
   * `token` is the journal entry's (see `journalBegin`): when refused, neither is written.
   */
  recordCreateIntent(record: Omit<InstanceRecord, 'state' | 'createdAtMs' | 'updatedAtMs'>, token?: number): { readonly record: InstanceRecord; readonly seq: number };
  /** Adds a record for an instance found in the cloud under a known key or adopted by rule. */
  insertRecord(record: Omit<InstanceRecord, 'createdAtMs' | 'updatedAtMs'>): InstanceRecord;
  getRecord(key: string): InstanceRecord | undefined;
  /** Records of a workload (or all), `gone` ones left out unless asked for. */
  listRecords(workload?: string, includeGone?: boolean): readonly InstanceRecord[];
  updateRecord(key: string, patch: InstanceRecordPatch): InstanceRecord;
  /** Deletes `gone` records of a workload. */
  pruneGone(workload: string): void;

  /**
   * Appends a journal entry with outcome `pending`; returns its seq. A store shared by several
   * schedulers refuses (`StaleLeaseTokenError`, nothing written) an entry whose `token` is not
   * the current, unexpired lease's.
   */
  journalBegin(entry: Omit<JournalEntry, 'seq' | 'atMs' | 'outcome'>): number;
  /** Sets a journal entry's outcome. */
  journalEnd(seq: number, outcome: string, instanceId?: string): void;
  /** Journal entries, oldest first, optionally of one workload. */
  listJournal(workload?: string): readonly JournalEntry[];

  /** Adds or extends a constraint. */
  putConstraint(c: Constraint): void;
  /** Constraints still in force at `nowMs`. */
  listConstraints(nowMs: number): readonly Constraint[];

  /**
   * Writes a region's health (replacing what was stored for it) and tells every scheduler
   * (`health`). A store shared by several schedulers refuses (`StaleLeaseTokenError`, nothing
   * written) a write whose `token` is not the current, unexpired lease's.
   */
  putRegionHealth(state: StoredRegionHealth, token?: number): void;
  /** Every region's stored health, by cloud and region (regions never written are healthy). */
  listRegionHealth(): readonly StoredRegionHealth[];

  /**
   * Reads and increments the watch revision (persisted so it never goes backwards); `count`
   * revisions at once in one write, returning the last (the first is `last - count + 1`).
   */
  nextRevision(count?: number): number;
  /** The last revision handed out. */
  currentRevision(): number;
  /** This state's identity, fixed when it was created; a store recreated or restored from elsewhere has another. */
  stateId(): string;

  close(): void;
}

/** `T`'s methods, each returning a promise of what it returned. */
type Promised<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K] };

/**
 * The scheduler's persistent state as its callers use it: `SyncStateStore` with every method but
 * `onChange` asynchronous, so a networked store (PostgreSQL, several schedulers with a leader
 * lease) can stand in for SQLite. A write's promise resolves once it is durable.
 */
export interface StateStore extends Promised<Omit<SyncStateStore, 'onChange'>> {
  /**
   * Registers a listener told of every change once its write is durable, so that readers redo
   * only what a write touched; returns its removal. Listeners run synchronously when told: they
   * must not throw, and should defer their own work. A shared store also tells them of other
   * schedulers' writes, and says `resync` when it may have missed some.
   */
  onChange(listener: (change: StoreChange) => void): () => void;
}
