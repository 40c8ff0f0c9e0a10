import type { LineLog } from '../../common';
import type { CloudId, CloudProvider } from '../../providers';
import type { SchedulerConfig } from '../config';
import type { Metrics } from '../metrics';
import type { PlacementContext, PlacementResult, Workload } from '../placement/types';
import type { StateStore } from '../store';
import type { RegionHealth } from './health';

/** Residency as the watch stream carries it. */
export interface Residency {
  readonly countries?: readonly string[];
  readonly continents?: readonly string[];
}

/** What the reconciler needs to know about a policy, whatever its concrete type. */
export interface PolicyAdapter<P> {
  /** The stored document as the placement engine takes it, or an error message. */
  parse(spec: unknown): { readonly ok: true; readonly policy: P } | { readonly ok: false; readonly error: string };
  /** Whether replicas return to the preferred regions once those recover. */
  failback(policy: P): boolean;
  /** Seconds an instance may take to reach running before its region is given up on. */
  provisionTimeoutSeconds(policy: P): number | undefined;
  /** Residency rules, for the watch stream. */
  residency(policy: P): Residency | null;
}

/** The placement engine's entry point. */
export type PlaceFn<P> = (workload: Workload, policy: P, ctx: PlacementContext) => PlacementResult;

/** Everything the reconciler works with. */
export interface ReconcilerDeps<P> {
  readonly store: StateStore;
  /** The driver of a cloud (from the provider container). */
  readonly provider: (cloud: CloudId) => CloudProvider;
  readonly place: PlaceFn<P>;
  readonly policies: PolicyAdapter<P>;
  readonly config: SchedulerConfig['reconciler'];
  readonly health?: RegionHealth;
  readonly metrics?: Metrics;
  /** Where to report failures of the loop itself (defaults to stderr). */
  readonly log?: LineLog;
  /** Also write one `log` line per cloud call (cloud, region, operation, outcome, latency, keys). */
  readonly logCloudCalls?: boolean;
  readonly now?: () => number;
  /**
   * With several schedulers on one store: the fencing token of the leader lease while this one
   * holds it, else undefined. The reconciler makes no cloud call without one, and journals each
   * call under it, so a store that checks tokens refuses a deposed leader's intents.
   */
  readonly fence?: () => number | undefined;
}

/** Counts of one workload's instances, for the API and CLI progress. */
/** A workload's instances, counted by where they are. */
export interface InstanceCounts {
  readonly desired: number;
  /** Running with an address in a healthy region. */
  readonly ready: number;
  readonly pending: number;
  readonly terminating: number;
}

export interface WorkloadStatus extends InstanceCounts {
  /** True when exactly the desired instances run where the placement of the current spec wants them. */
  readonly converged: boolean;
  /** The spec generation the reconciler last acted on (0 before its first pass over the workload). */
  readonly observedGeneration: number;
  readonly placementError?: string;
  /** Why it is not converged, per region where it applies; empty when converged. */
  readonly reasons: readonly StatusReason[];
}

/** The kinds of reason a workload is not converged, each with a stable code. */
export const STATUS_REASON_CODES = [
  /** The spec was just applied and no pass has acted on it yet. */
  'pending-generation',
  /** No placement satisfies the policy (the message says which constraint). */
  'unplaceable',
  /** Instances created and not yet running with an address. */
  'waiting-for-instances',
  /** The region's API fails; its replicas are replaced elsewhere until it recovers. */
  'region-unavailable',
  /** The cloud ran out of capacity for a size here; the region is skipped until `until`. */
  'capacity-cool-down',
  /** The account's instance quota is used up here; the region is skipped until `until`. */
  'quota',
  /** Instances on their way out (a move, a scale-in or a deletion). */
  'terminating',
  /** The workload is being deleted. */
  'deleting',
] as const;

/** One reason a workload is not converged. */
export interface StatusReason {
  readonly code: typeof STATUS_REASON_CODES[number];
  readonly cloud?: CloudId;
  readonly region?: string;
  readonly message: string;
  /** When a cool-down or quota exclusion ends (ISO 8601). */
  readonly until?: string;
}
