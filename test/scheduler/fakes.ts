import { CloudError, MERIDIAN_TAGS, type CloudId, type CloudProvider, type Instance, type InstanceSpec } from '../../providers';
import type { Exclusion, Placement, PlacementContext, PlacementResult, RegionAssignment, Workload } from '../../scheduler/placement/types';
import type { PolicyAdapter } from '../../scheduler/reconciler';

/** A fake in-memory cloud with idempotency keys, lifecycle and injectable faults. */
export class FakeCloud implements CloudProvider {
  readonly capabilities = { spot: false, maxTags: 50, maxPageSize: 100 };
  readonly instances = new Map<string, { inst: Instance; bornAt: number }>();
  private readonly byKey = new Map<string, string>();
  private seq = 0;
  /** Regions whose API fails as unavailable. */
  readonly outages = new Set<string>();
  /** Regions with no capacity left. */
  readonly noCapacity = new Set<string>();
  /** Regions where the account's instance quota is used up. */
  readonly noQuota = new Set<string>();
  /** Regions where instances never leave pending. */
  readonly stuck = new Set<string>();
  /** Called at the start of every create, with its spec (to check journalling). */
  onCreate?: (spec: InstanceSpec) => void;
  /** Called when a terminate reaches the cloud, before the instance goes (to sample what still serves). */
  onTerminate?: (region: string, id: string) => void;
  createCalls = 0;
  /** getInstance and listInstances calls: each reconcile pass that looks at a region makes some. */
  readCalls = 0;

  constructor(readonly cloud: CloudId, private readonly pendingMs = 10) {}

  async createInstance(spec: InstanceSpec): Promise<Instance> {
    this.createCalls++;
    this.onCreate?.(spec);
    await Promise.resolve();
    this.gate(spec.region);
    const existing = this.byKey.get(spec.idempotencyKey);
    if (existing) return this.view(existing) as Instance;
    if (this.noQuota.has(spec.region)) {
      throw new CloudError('instance quota exceeded', { kind: 'quota', cloud: this.cloud, region: spec.region, code: 'InstanceLimitExceeded' });
    }
    if (this.noCapacity.has(spec.region)) {
      throw new CloudError('no capacity', { kind: 'capacity', cloud: this.cloud, region: spec.region, code: 'InsufficientInstanceCapacity' });
    }
    const id = `i-${this.cloud}-${++this.seq}`;
    const inst: Instance = {
      cloud: this.cloud, region: spec.region, id, state: 'pending', size: spec.size, launchedAt: new Date().toISOString(),
      tags: { ...spec.tags, [MERIDIAN_TAGS.workload]: spec.workload, [MERIDIAN_TAGS.key]: spec.idempotencyKey },
    };
    this.instances.set(id, { inst, bornAt: Date.now() });
    this.byKey.set(spec.idempotencyKey, id);
    return this.view(id) as Instance;
  }

  async getInstance(region: string, id: string): Promise<Instance | undefined> {
    this.readCalls++;
    this.gate(region);
    return this.view(id);
  }

  async *listInstances(region: string, tags: Readonly<Record<string, string>> = {}): AsyncIterable<Instance> {
    this.readCalls++;
    this.gate(region);
    for (const id of [...this.instances.keys()]) {
      const i = this.view(id) as Instance;
      if (i.region !== region || i.state === 'terminated') continue;
      if (Object.entries(tags).every(([k, v]) => i.tags[k] === v)) yield i;
    }
  }

  async terminateInstance(region: string, id: string): Promise<void> {
    this.gate(region);
    this.onTerminate?.(region, id);
    const e = this.instances.get(id);
    if (e) e.inst = { ...e.inst, state: 'terminated' };
  }

  /** What `enabledRegions` answers; without it, the call fails as unavailable. */
  reportedRegions?: readonly string[];

  async enabledRegions(): Promise<readonly string[]> {
    if (!this.reportedRegions) throw new CloudError(`${this.cloud} cannot list regions`, { kind: 'unavailable', cloud: this.cloud, code: 'Unavailable' });
    return this.reportedRegions;
  }

  /** Instances not terminated, optionally of one region. */
  live(region?: string): Instance[] {
    return [...this.instances.keys()].map((id) => this.view(id) as Instance)
      .filter((i) => i.state !== 'terminated' && (region === undefined || i.region === region));
  }

  /** Instances in state running, optionally of one region. */
  running(region?: string): Instance[] {
    return this.live(region).filter((i) => i.state === 'running');
  }

  /** Adds an instance behind the scheduler's back. */
  plant(region: string, tags: Record<string, string>): Instance {
    const id = `i-${this.cloud}-${++this.seq}`;
    const inst: Instance = { cloud: this.cloud, region, id, state: 'running', size: 't', launchedAt: new Date().toISOString(), tags, publicIp: '192.0.2.1' };
    this.instances.set(id, { inst, bornAt: 0 });
    return inst;
  }

  private view(id: string): Instance | undefined {
    const e = this.instances.get(id);
    if (!e) return undefined;
    if (e.inst.state === 'pending' && !this.stuck.has(e.inst.region) && Date.now() - e.bornAt >= this.pendingMs) {
      const n = Number(id.split('-').pop());
      e.inst = { ...e.inst, state: 'running', publicIp: `198.51.${Math.floor(n / 250)}.${(n % 250) + 1}` };
    }
    return e.inst;
  }

  private gate(region: string): void {
    if (this.outages.has(region)) {
      throw new CloudError(`region ${region} is down`, { kind: 'unavailable', cloud: this.cloud, region, code: 'ServiceUnavailable' });
    }
  }
}

/** A test policy: candidate (cloud, region, size) in order of preference, at most `perRegion` replicas each. */
export interface FakePolicy {
  readonly candidates: ReadonlyArray<{ cloud: CloudId; region: string; size: string }>;
  readonly perRegion: number;
  readonly failback?: boolean;
  readonly provisionTimeoutSeconds?: number;
}

function excluded(ex: readonly Exclusion[] | undefined, c: { cloud: CloudId; region: string; size: string }): boolean {
  return (ex ?? []).some((e) => e.cloud === c.cloud && e.region === c.region && (e.size === undefined || e.size === c.size));
}

/** Fills candidates in order, skipping exclusions. */
export function fakePlace(workload: Workload, policy: FakePolicy, ctx: PlacementContext): PlacementResult {
  const assignments: RegionAssignment[] = [];
  let left = workload.replicas;
  for (const c of policy.candidates) {
    if (left <= 0) break;
    if (excluded(ctx.exclusions, c)) continue;
    const n = Math.min(left, policy.perRegion);
    assignments.push({ ...c, replicas: n, usdPerHour: 0.1 });
    left -= n;
  }
  if (left > 0) return { ok: false, constraint: 'capacity', reason: `${left} replicas do not fit`, rejected: [] };
  const placement: Placement = { workload: workload.name, assignments, usdPerHour: 0.1 * workload.replicas };
  return { ok: true, placement, rejected: [] };
}

/** Adapter for `FakePolicy` documents stored as plain JSON. */
export const fakePolicies: PolicyAdapter<FakePolicy> = {
  parse: (spec) => ({ ok: true, policy: spec as FakePolicy }),
  failback: (p) => p.failback ?? true,
  provisionTimeoutSeconds: (p) => p.provisionTimeoutSeconds,
  residency: () => null,
};

/** Polls a condition until it holds, with a deadline (re-exported from the test tools). */
export { waitFor } from '../tools/wait';
