import type { CloudId, SizeRequest } from '../../providers';

/** A workload: what to run, how many, under which region policy, and its DNS name. */
export interface Workload {
  readonly name: string;
  readonly replicas: number;
  /** A cloud-neutral size, or an explicit instance type per cloud. */
  readonly size: SizeRequest | Readonly<Partial<Record<CloudId, string>>>;
  /** Image per cloud (AMI id, Azure image URN, Alibaba image id). A cloud without one is not used. */
  readonly image: Readonly<Partial<Record<CloudId, string>>>;
  /** Name of the RegionPolicy that governs placement. */
  readonly policy: string;
  readonly dns?: { readonly name: string; readonly ttl: number };
}

/** Replicas of a workload in one region on one instance type. */
export interface RegionAssignment {
  readonly cloud: CloudId;
  readonly region: string;
  /** The cloud's instance type. */
  readonly size: string;
  readonly replicas: number;
  /** On-demand price of one replica. */
  readonly usdPerHour: number;
}

/** Where a workload's replicas go. */
export interface Placement {
  readonly workload: string;
  readonly assignments: readonly RegionAssignment[];
  /** Sum over assignments of replicas x price. */
  readonly usdPerHour: number;
}

/** Why a region was left out: one entry per rule that rejected it. */
export interface Rejection {
  readonly cloud: CloudId;
  readonly region: string;
  readonly rule: string;
  readonly reason: string;
}

/** A (cloud, region[, size]) the scheduler must avoid right now, with why. */
export interface Exclusion {
  readonly cloud: CloudId;
  readonly region: string;
  /** When set, only this instance type is excluded there (a capacity shortage). */
  readonly size?: string;
  readonly reason: string;
}

/** Inputs beyond workload and policy. */
export interface PlacementContext {
  /** Today's placement: kept wherever still valid (minimal movement). */
  readonly current?: Placement;
  /** Constrained capacity, quota, open breakers, unhealthy regions. */
  readonly exclusions?: readonly Exclusion[];
}

/** The outcome: a placement that meets every hard constraint, or the reason none exists. */
export type PlacementResult =
  | { readonly ok: true; readonly placement: Placement; readonly rejected: readonly Rejection[] }
  | { readonly ok: false; readonly constraint: string; readonly reason: string; readonly rejected: readonly Rejection[] };
