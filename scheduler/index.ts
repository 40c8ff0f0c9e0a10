/** The scheduler: placement, reconciler, state store, HTTP API, sandbox and CLI entry points. */
export { DEFAULT_ACCOUNT, place, PLACEMENT_CONSTRAINTS, RegionSettingsSchema, regionSettingsIssues, type PlaceOptions, type RegionSettings, type RegionSettingsIssue } from './placement';
export type { Exclusion, Placement, PlacementContext, PlacementResult, RegionAssignment, Rejection, Workload } from './placement';
export { loadSchedulerConfig, SchedulerConfigError, SchedulerConfigSchema, type ConfigIssue, type SchedulerConfig } from './config';
export { openSqliteStore, PromisedStateStore, SqliteStateStore, type Constraint, type InstanceRecord, type JournalEntry, type StateStore, type StoredPolicy, type StoredWorkload } from './store';
export { DataDirLockedError, lockDataDir, SQLITE_SCHEMA_VERSION, StoreSchemaTooNewError, type DataDirLock } from './store';
export { Reconciler, RegionHealth, STATUS_REASON_CODES, idempotencyKey, type PolicyAdapter, type ReconcilerDeps, type StatusReason, type WorkloadStatus } from './reconciler';
export { buildApi, API_ERRORS, ApiError, type ApiDeps, type DocumentValidation, type SchedulerControl } from './api';
export { computeEndpoints, encodeSse, WatchHub, type EndpointInstance, type EndpointRegion, type WatchEvent, type WorkloadEndpoints } from './watch';
export { Metrics } from './metrics';
export { createScheduler, startScheduler, type SchedulerService, type SchedulerServiceOptions } from './service';
export { defaultSandboxDocuments, startSandbox, type Sandbox, type SandboxOptions } from './sandbox';
export { documentValidation, regionPolicyAdapter } from './wiring';
