export { NotLeaderError, Reconciler } from './reconciler';
export { RegionHealth, type RegionHealthState } from './health';
export { idempotencyKey } from './keys';
export { LaneLimiter } from './limiter';
export { STATUS_REASON_CODES, type InstanceCounts, type PlaceFn, type PolicyAdapter, type ReconcilerDeps, type Residency, type StatusReason, type WorkloadStatus } from './types';
