import type { CloudId, InstanceState } from '../../providers';
import type { Placement, Workload } from '../placement/types';
import type { InstanceRecord, JournalEntry, RecordState, StoredPolicy, StoredRegionHealth, StoredWorkload } from './types';

/* Rows as both stores hold them (same columns in SQLite and PostgreSQL), and the values they mean. */

export interface WorkloadRow {
  name: string; spec: string; generation: number; updated_at: string; deleted_at: string | null;
  preferred: string | null; applied: string | null; placement_error: string | null; next_ordinal: number;
  observed_generation: number;
}
export interface InstanceRow {
  key: string; workload: string; cloud: string; region: string; size: string; image: string; ordinal: number;
  state: string; instance_id: string | null; cloud_state: string | null; public_ip: string | null;
  private_ip: string | null; created_at_ms: number; updated_at_ms: number;
}
export interface RegionHealthRow {
  cloud: string; region: string; healthy: boolean | number; breaker: string; consecutive_failures: number;
  last_error: string | null; since_ms: number;
}
export interface PolicyRow { name: string; spec: string; updated_at: string; generation: number }
export interface JournalRow {
  seq: number; at_ms: number; operation: string; key: string; workload: string; cloud: string; region: string;
  instance_id: string | null; outcome: string;
  /** Absent from SQLite's journal, which has one writer. */
  token?: number | null;
}

export function workloadFromRow(r: WorkloadRow): StoredWorkload {
  return {
    name: r.name, spec: JSON.parse(r.spec) as Workload, generation: r.generation, updatedAt: r.updated_at, observedGeneration: r.observed_generation,
    ...(r.deleted_at ? { deletedAt: r.deleted_at } : {}),
    ...(r.preferred ? { preferred: JSON.parse(r.preferred) as Placement } : {}),
    ...(r.applied ? { applied: JSON.parse(r.applied) as Placement } : {}),
    ...(r.placement_error ? { placementError: r.placement_error } : {}),
  };
}

export function policyFromRow(r: PolicyRow): StoredPolicy {
  return { name: r.name, spec: JSON.parse(r.spec) as unknown, generation: r.generation, updatedAt: r.updated_at };
}

export function recordFromRow(r: InstanceRow): InstanceRecord {
  return {
    key: r.key, workload: r.workload, cloud: r.cloud as CloudId, region: r.region, size: r.size, image: r.image,
    ordinal: r.ordinal, state: r.state as RecordState, createdAtMs: r.created_at_ms, updatedAtMs: r.updated_at_ms,
    ...(r.instance_id ? { instanceId: r.instance_id } : {}),
    ...(r.cloud_state ? { cloudState: r.cloud_state as InstanceState } : {}),
    ...(r.public_ip ? { publicIp: r.public_ip } : {}),
    ...(r.private_ip ? { privateIp: r.private_ip } : {}),
  };
}

export function journalFromRow(r: JournalRow): JournalEntry {
  return {
    seq: r.seq, atMs: r.at_ms, operation: r.operation as JournalEntry['operation'], key: r.key, workload: r.workload,
    cloud: r.cloud as CloudId, region: r.region, outcome: r.outcome, ...(r.instance_id ? { instanceId: r.instance_id } : {}),
    ...(r.token !== undefined && r.token !== null ? { token: r.token } : {}),
  };
}

/** SQLite keeps `healthy` as 0/1, PostgreSQL as a boolean. */
export function regionHealthFromRow(r: RegionHealthRow): StoredRegionHealth {
  return {
    cloud: r.cloud as CloudId, region: r.region, healthy: r.healthy === true || r.healthy === 1,
    breaker: r.breaker === 'open' ? 'open' : 'closed', consecutiveFailures: r.consecutive_failures, sinceMs: r.since_ms,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  };
}
