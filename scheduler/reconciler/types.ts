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
  readonly log?: (message: string) => void;
  readonly now?: () => number;
}

/** Counts of one workload's instances, for the API and CLI progress. */
export interface WorkloadStatus {
  readonly desired: number;
  /** Running with an address in a healthy region. */
  readonly ready: number;
  readonly pending: number;
  readonly terminating: number;
  /** True when exactly the desired instances run where the placement wants them. */
  readonly converged: boolean;
  readonly placementError?: string;
}
