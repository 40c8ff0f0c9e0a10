export { Reconciler } from './reconciler';
export { RegionHealth, type RegionHealthState } from './health';
export { idempotencyKey } from './keys';
export { LaneLimiter } from './limiter';
export type { PlaceFn, PolicyAdapter, ReconcilerDeps, Residency, WorkloadStatus } from './types';
