import { tryFindRegion, type CloudId } from '../providers';
import type { Reconciler, Residency } from './reconciler';
import type { StateStore } from './store';

/** One instance of a workload as GeoDNS servers see it. */
export interface EndpointInstance {
  readonly id: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** Running with an address. */
  readonly healthy: boolean;
}

/** One region of a workload, located from the catalog. */
export interface EndpointRegion {
  readonly cloud: CloudId;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
  readonly country: string;
  readonly continent: string;
  /** Region usable: its API answers (breaker closed) and it is not in an outage. */
  readonly healthy: boolean;
  readonly instances: readonly EndpointInstance[];
}

/** Placements and addresses of one workload: the record of the watch protocol. */
export interface WorkloadEndpoints {
  readonly name: string;
  readonly dns: { readonly name: string; readonly ttl: number } | null;
  readonly residency: Residency | null;
  readonly regions: readonly EndpointRegion[];
}

/** An event of the watch stream (`GET /v1/watch`). */
export type WatchEvent =
  | { readonly type: 'snapshot'; readonly revision: number; readonly stateId: string; readonly workloads: readonly WorkloadEndpoints[] }
  | { readonly type: 'upsert'; readonly revision: number; readonly workload: WorkloadEndpoints }
  | { readonly type: 'delete'; readonly revision: number; readonly name: string };

/** Computes the endpoints of a workload from the store, or undefined when it does not exist (or is being deleted). */
export function computeEndpoints<P>(store: StateStore, reconciler: Reconciler<P>, residencyOf: (policy: unknown) => Residency | null, name: string): WorkloadEndpoints | undefined {
  const w = store.getWorkload(name);
  if (!w || w.deletedAt) return undefined;
  const regions = new Map<string, { cloud: CloudId; region: string; instances: EndpointInstance[] }>();
  const touch = (cloud: CloudId, region: string) => {
    const k = `${cloud}/${region}`;
    let r = regions.get(k);
    if (!r) { r = { cloud, region, instances: [] }; regions.set(k, r); }
    return r;
  };
  for (const a of w.applied?.assignments ?? []) touch(a.cloud, a.region);
  for (const r of store.listRecords(name)) {
    // Instances on their way out are no longer offered to clients.
    if (r.state !== 'active' || !r.instanceId) continue;
    const healthy = r.cloudState === 'running' && !!r.publicIp;
    touch(r.cloud, r.region).instances.push({ id: r.instanceId, ...(r.publicIp ? { ipv4: r.publicIp } : {}), healthy });
  }
  const policy = store.getPolicy(w.spec.policy);
  const out: EndpointRegion[] = [];
  for (const r of [...regions.values()].sort((a, b) => `${a.cloud}/${a.region}`.localeCompare(`${b.cloud}/${b.region}`))) {
    const info = tryFindRegion(r.cloud, r.region);
    if (!info) continue;
    out.push({
      cloud: r.cloud, region: r.region, lat: info.lat, lon: info.lon, country: info.country, continent: info.continent,
      healthy: reconciler.health.isHealthy(r.cloud, r.region),
      instances: r.instances.sort((a, b) => a.id.localeCompare(b.id)),
    });
  }
  return { name, dns: w.spec.dns ? { name: w.spec.dns.name, ttl: w.spec.dns.ttl } : null, residency: policy ? residencyOf(policy.spec) : null, regions: out };
}

/**
 * Keeps the last published endpoints of every workload and turns invalidations into watch
 * events: coalesced for `debounceMs`, published only when something a client sees changed, each
 * with the next persisted revision.
 */
export class WatchHub {
  private readonly published = new Map<string, { json: string; value: WorkloadEndpoints }>();
  private readonly dirty = new Set<string>();
  private readonly subscribers = new Set<(e: WatchEvent) => void>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: StateStore,
    private readonly compute: (name: string) => WorkloadEndpoints | undefined,
    private readonly debounceMs = 250,
  ) {
    for (const w of store.listWorkloads()) {
      const value = compute(w.name);
      if (value) this.published.set(w.name, { json: JSON.stringify(value), value });
    }
  }

  /** Marks a workload for re-computation. */
  invalidate(name: string): void {
    // A reconcile pass that outlived the service's stop must not start a flush against a closed store.
    if (this.closed) return;
    this.dirty.add(name);
    this.timer ??= setTimeout(() => this.flush(), this.debounceMs);
  }

  /** Publishes pending changes now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const names = [...this.dirty].sort();
    this.dirty.clear();
    for (const name of names) {
      const value = this.compute(name);
      const prev = this.published.get(name);
      if (!value) {
        if (!prev) continue;
        this.published.delete(name);
        this.publish({ type: 'delete', revision: this.store.nextRevision(), name });
        continue;
      }
      const json = JSON.stringify(value);
      if (prev?.json === json) continue;
      this.published.set(name, { json, value });
      this.publish({ type: 'upsert', revision: this.store.nextRevision(), workload: value });
    }
  }

  /** The full state with its revision. */
  snapshot(): Extract<WatchEvent, { type: 'snapshot' }> {
    return { type: 'snapshot', revision: this.store.currentRevision(), stateId: this.store.stateId(),
      workloads: [...this.published.values()].map((p) => p.value) };
  }

  /** Subscribes to changes; the snapshot is taken in the same tick so no change falls between. */
  subscribe(listener: (e: WatchEvent) => void): { readonly snapshot: Extract<WatchEvent, { type: 'snapshot' }>; readonly unsubscribe: () => void } {
    this.subscribers.add(listener);
    return { snapshot: this.snapshot(), unsubscribe: () => { this.subscribers.delete(listener); } };
  }

  /** Stops pending timers; later invalidations are ignored. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
  }

  private publish(e: WatchEvent): void {
    for (const s of this.subscribers) s(e);
  }
}

/** Encodes one event as a Server-Sent Events frame (one `data:` line of JSON). */
export function encodeSse(e: WatchEvent): string {
  const { type, ...data } = e;
  return `event: ${type}\nid: ${e.revision}\ndata: ${JSON.stringify(data)}\n\n`;
}
