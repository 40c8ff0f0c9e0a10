import type { TSchema } from '@sinclair/typebox';
import type { RegionAccount } from '../../providers';
import type { Logger } from '../../common';
import type { LeaseView, Metrics } from '../metrics';
import type { PlacementResult, Workload } from '../placement/types';
import type { RegionHealth, WorkloadStatus } from '../reconciler';
import type { Exclusion } from '../placement/types';
import type { StateStore } from '../store';
import type { WatchHub } from '../watch';
import type { Issue } from './errors';

/** The outcome of validating a document: the value, or every problem with its path. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly Issue[] };

/** Schemas and validators of the documents the API accepts (from `policies`). */
export interface DocumentValidation {
  readonly workloadSchema: TSchema;
  readonly policySchema: TSchema;
  parseWorkload(input: unknown): Parsed<Workload>;
  /** Validates a RegionPolicy document; its name is `metadata.name`. */
  parsePolicy(input: unknown): Parsed<{ readonly metadata: { readonly name: string } }>;
}

/** What the API drives: the reconciler, seen through the few calls it needs. */
export interface SchedulerControl {
  readonly health: RegionHealth;
  status(name: string): Promise<WorkloadStatus | undefined>;
  exclusions(): Promise<readonly Exclusion[]>;
  plan(workload: Workload, policySpec: unknown): Promise<PlacementResult>;
  trigger(): void;
  /** Why the scheduler cannot do its work yet (or any more), one line each; empty when it can. */
  notReady(): readonly string[];
  /** The leader lease, when several schedulers share the state (undefined otherwise). */
  lease?(): Promise<LeaseView | undefined>;
}

/** Everything `buildApi` needs. */
export interface ApiDeps {
  readonly store: StateStore;
  readonly scheduler: SchedulerControl;
  readonly watch: WatchHub;
  readonly metrics: Metrics;
  readonly validation: DocumentValidation;
  /** The bearer token every route but /healthz, /readyz, /metrics and /docs requires. */
  readonly token: string;
  readonly watchPingSeconds: number;
  /** Zones a workload's `dns.name` must lie in; empty leaves names unchecked. */
  readonly dnsZones: readonly string[];
  /** Where the API writes one line per request (and fastify its own messages); none by default. */
  readonly logger?: Logger;
  /** The cloud accounts placement uses (`regions` settings); public partitions, nothing enabled, by default. */
  readonly account?: RegionAccount;
}
