import type { MessageLevel } from '../../common';
import { CloudError, MERIDIAN_TAGS, type CloudId, type Instance } from '../../providers';
import type { Exclusion, Placement, PlacementResult, RegionAssignment, Workload } from '../placement/types';
import type { InstanceRecord, StoredWorkload } from '../store';
import { RegionHealth, type RegionHealthState } from './health';
import { idempotencyKey } from './keys';
import { LaneLimiter } from './limiter';
import type { InstanceCounts, ReconcilerDeps, StatusReason, WorkloadStatus } from './types';

/** Desired replicas on one (cloud, region, size). */
interface Group {
  readonly cloud: CloudId;
  readonly region: string;
  readonly size: string;
  readonly image: string;
  readonly replicas: number;
}

const groupKey = (cloud: CloudId, region: string, size: string): string => `${cloud}|${region}|${size}`;
const regionKey = (cloud: CloudId, region: string): string => `${cloud}/${region}`;

function asCloudError(err: unknown, cloud: CloudId, region: string): CloudError {
  if (err instanceof CloudError) return err;
  return new CloudError(err instanceof Error ? err.message : String(err), { kind: 'unavailable', cloud, region, code: 'Unexpected', cause: err });
}

/** Longest stretch a pass keeps the event loop before letting I/O (API requests, watch streams) run. */
const SLICE_MS = 20;

function samePlacement(a: Placement | undefined, b: Placement | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Drives every workload's actual instances towards its placement.
 *
 * Crash safety: each instance is a store record keyed by its idempotency key, written (with a
 * journal entry) before the cloud call that creates it; a terminate is recorded the same way.
 * After a restart, records still `creating` are replayed with the same key (the cloud returns the
 * instance it already made) and every region the workload uses is listed by the workload tag:
 * instances under a known key are adopted, all others are terminated.
 *
 * Ordering: a pass is synchronous bookkeeping; cloud calls run in per-region lanes and never block
 * the pass or other regions, so an outage in one region does not stall a rollout elsewhere.
 *
 * Work per change: a change to a workload (its spec, its policy, one of its cloud calls ending)
 * queues that workload, and a triggered pass reconciles the queue only. A full pass over every
 * workload runs every `intervalMs` (drift, expired constraints, retries after backoff) and when
 * region health or constraints change; passes run in slices of `SLICE_MS` so the API stays responsive.
 */
export class Reconciler<P> {
  /** Region health learned from call outcomes. */
  readonly health: RegionHealth;
  private readonly now: () => number;
  private limiter: LaneLimiter;
  private starting = false;
  private stoppedOnce = false;
  /** Journal entries of the calls in flight (a restart leaves them pending). */
  private readonly inflightSeqs = new Set<number>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, { count: number; retryAtMs: number }>();
  private readonly lastRefresh = new Map<string, number>();
  private readonly listeners: Array<(workload: string) => void> = [];
  /** Parsed policies by name with the generation parsed, and the last placement inputs and result per workload. */
  private readonly parsedPolicies = new Map<string, { generation: number; parsed: ReturnType<ReconcilerDeps<P>['policies']['parse']> }>();
  private readonly placements = new Map<string, { inputs: string; result: PlacementResult }>();
  /** Region health writes, one after another so the store ends with the last. */
  private healthWrites: Promise<void> = Promise.resolve();
  /** A read of the stored health in progress (a follower), and whether another is wanted after it. */
  private healthReading: Promise<void> | undefined;
  private healthReadAgain = false;
  private timer?: NodeJS.Timeout;
  private nextPassAt = Infinity;
  private lastPassMs = 0;
  private running = false;
  /** Set once `stop()` gave up waiting: calls that finish later leave the store alone. */
  private halted = false;
  private passing = false;
  private again = false;
  /** Workloads changed since they were last reconciled, in arrival order. */
  private readonly queue = new Set<string>();
  /** The full pass in progress: every workload's name and how far it got. */
  private sweep: { readonly names: readonly string[]; next: number; seconds: number } | undefined;
  private fullWanted = true;
  /** When the next full pass is due (`performance.now()` time: a test's frozen clock must not stop the loop). */
  private nextFullAt = 0;

  constructor(private readonly deps: ReconcilerDeps<P>) {
    this.now = deps.now ?? Date.now;
    this.health = deps.health ?? new RegionHealth(deps.config.unhealthyAfterFailures, this.now);
    this.limiter = new LaneLimiter(deps.config.concurrencyPerRegion);
    // Specs and policies change from outside (the API); the reconciler's own writes need no pass.
    deps.store.onChange((c) => {
      if (c.kind === 'workload') this.enqueue(c.name);
      else if (c.kind === 'resync') { this.triggerFull(); this.followStoredHealth(); }
      else if (c.kind === 'health') this.followStoredHealth();
      else if (c.kind === 'policy') {
        deps.store.workloadsUsingPolicy(c.name).then((names) => { for (const name of names) this.enqueue(name); },
          (err: unknown) => { this.log(`cannot list the workloads of policy '${c.name}': ${String(err)}`); this.triggerFull(); });
      }
    });
    // What every workload may be placed on changed (readers of the flip itself listen to `health`).
    this.health.onChange(() => { this.triggerFull(); });
    // The leader's transitions go to the store, for the other schedulers and the next leader.
    this.health.onUpdate((s) => { this.storeHealth(s); });
  }

  /**
   * Takes region health as stored by the leading scheduler (call before serving, and on a
   * scheduler that does not reconcile). While this one reconciles, its own calls decide instead.
   */
  async loadStoredHealth(): Promise<void> {
    const states = await this.deps.store.listRegionHealth();
    if (this.running) return;
    this.health.adopt(states);
  }

  /** Reads the stored health again, unless this scheduler reconciles: reads run one at a time, the last change always read. */
  followStoredHealth(): void {
    if (this.running) return;
    if (this.healthReading) { this.healthReadAgain = true; return; }
    this.healthReading = this.loadStoredHealth()
      .catch((err: unknown) => { this.log(`cannot read the stored region health: ${err instanceof Error ? err.message : String(err)}`, 'warn'); })
      .finally(() => {
        this.healthReading = undefined;
        if (this.healthReadAgain) { this.healthReadAgain = false; this.followStoredHealth(); }
      });
  }

  /** Writes a transition of region health, fenced, in order; only while this scheduler reconciles. */
  private storeHealth(s: RegionHealthState): void {
    if (!this.running || this.halted || this.deposed()) return;
    const token = this.deps.fence?.();
    if (this.deps.fence && token === undefined) return;
    this.healthWrites = this.healthWrites
      .then(() => this.deps.store.putRegionHealth(s, token))
      .catch((err: unknown) => {
        if (!this.halted) this.log(`cannot store the health of ${s.cloud}/${s.region}: ${err instanceof Error ? err.message : String(err)}`, 'warn', { cloud: s.cloud, region: s.region });
      });
  }

  /** Registers a listener told (by name) whenever a workload's instances or placement changed (region health flips: `health.onChange`). */
  onChange(listener: (workload: string) => void): void {
    this.listeners.push(listener);
  }

  /** True between `start()` and `stop()`: interrupted journal entries are recovered and the loop runs. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Recovers interrupted journal entries and starts the loop. After `stop()` it may start again
   * (a scheduler that regains the leader lease): calls still in flight from before keep their
   * keys busy until they end, so none is made twice.
   */
  async start(): Promise<void> {
    if (this.running || this.starting) return;
    this.starting = true;
    try {
      // A new leader (or a restart) starts from the stored health: a failing region stays avoided until a call succeeds.
      this.health.adopt(await this.deps.store.listRegionHealth());
      // Calls that were in flight when the previous process (or leader) died: their records replay them.
      for (const e of await this.deps.store.listJournal()) if (e.outcome === 'pending' && !this.inflightSeqs.has(e.seq)) await this.deps.store.journalEnd(e.seq, 'interrupted');
    } finally {
      this.starting = false;
    }
    if (this.stoppedOnce) this.limiter = new LaneLimiter(this.deps.config.concurrencyPerRegion);
    this.halted = false;
    this.fullWanted = true;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops the loop at once (no new pass, and operations still queued for a lane are dropped:
   * their records replay them at the next start), then waits at most `graceMs` for the cloud calls
   * in flight and their journal writes. Resolves with the number of calls it stopped waiting for;
   * those leave the store untouched when they end (their journal entries stay pending and the next
   * start replays them under the same idempotency keys).
   */
  async stop(graceMs = 10_000): Promise<number> {
    this.running = false;
    this.stoppedOnce = true;
    // Operations still queued for a lane never start.
    this.limiter.close();
    clearTimeout(this.timer);
    this.timer = undefined;
    let t: NodeJS.Timeout | undefined;
    const all = Promise.allSettled([...this.inflight.values()]).then(() => this.healthWrites).then(() => true);
    const done = await Promise.race([all, new Promise<boolean>((resolve) => { t = setTimeout(() => resolve(false), graceMs); })]);
    clearTimeout(t);
    const left = done ? 0 : this.inflight.size;
    // Unless started again meanwhile (a leader lease regained).
    if (!this.running) this.halted = true;
    return left;
  }

  /** Queues a workload whose spec, policy or instances changed, and asks for a pass soon. */
  enqueue(name: string): void {
    this.queue.add(name);
    this.trigger();
  }

  /** Asks for a pass over every workload soon (what they are placed on changed: health, constraints). */
  triggerFull(): void {
    this.fullWanted = true;
    this.trigger();
  }

  /** Asks for a pass soon over the queued workloads. */
  trigger(): void {
    if (!this.running) return;
    if (this.passing) { this.again = true; return; }
    this.schedule(this.soonMs());
  }

  /** Delay of a triggered pass: short, but passes never take more than about a fifth of the time. */
  private soonMs(): number {
    return Math.min(this.deps.config.intervalMs, Math.max(20, this.lastPassMs * 4));
  }

  /** Runs one full pass now, in one go (tests use this; the loop runs passes in slices on its own). */
  async passOnce(): Promise<void> {
    const t0 = this.now();
    this.queue.clear();
    for (const w of await this.deps.store.listWorkloads()) await this.reconcileSafely(w.name, w);
    this.probeUnhealthy();
    this.passDone((this.now() - t0) / 1000);
  }

  /** Counts a finished pass and its duration (the time its slices took, not the pauses between them). */
  private passDone(seconds: number): void {
    this.deps.metrics?.inc('meridian_reconcile_passes_total', 'Reconcile passes run.');
    this.deps.metrics?.inc('meridian_reconcile_seconds_total', 'Time spent in reconcile passes, seconds.', {}, seconds);
    this.deps.metrics?.observe('meridian_reconcile_pass_duration_seconds', 'Duration of full reconcile passes, seconds (the time their slices took).', {}, seconds);
  }

  /** Workloads waiting in the queue (for metrics and tests). */
  queued(): number {
    return this.queue.size;
  }

  /** Reconciles what is queued, then the full pass in progress, until the slice's time is up; true when work is left. */
  private async passSlice(): Promise<boolean> {
    const t0 = performance.now();
    // A deposed leader (one that woke from a pause, say) writes nothing more.
    if (this.deposed()) return false;
    if (!this.sweep && (this.fullWanted || t0 >= this.nextFullAt)) {
      this.fullWanted = false;
      this.nextFullAt = t0 + this.deps.config.intervalMs;
      this.sweep = { names: await this.deps.store.listWorkloadNames(), next: 0, seconds: 0 };
    }
    let n = 0;
    // Checking the clock costs little next to a workload, but not nothing: every few workloads.
    while ((n++ & 7) !== 0 || performance.now() - t0 < SLICE_MS) {
      const first = this.queue.values().next();
      if (!first.done) {
        this.queue.delete(first.value);
        await this.reconcileSafely(first.value);
        continue;
      }
      const sweep = this.sweep;
      if (!sweep || sweep.next >= sweep.names.length) break;
      const name = sweep.names[sweep.next++];
      await this.reconcileSafely(name);
    }
    const sweep = this.sweep;
    if (sweep) sweep.seconds += (performance.now() - t0) / 1000;
    if (sweep && sweep.next >= sweep.names.length) {
      this.sweep = undefined;
      this.probeUnhealthy();
      this.deps.metrics?.inc('meridian_reconcile_passes_total', 'Reconcile passes run.');
      this.deps.metrics?.observe('meridian_reconcile_pass_duration_seconds', 'Duration of full reconcile passes, seconds (the time their slices took).', {}, sweep.seconds);
    }
    this.deps.metrics?.inc('meridian_reconcile_seconds_total', 'Time spent in reconcile passes, seconds.', {}, (performance.now() - t0) / 1000);
    return this.queue.size > 0 || this.sweep !== undefined;
  }

  private async reconcileSafely(name: string, stored?: StoredWorkload): Promise<void> {
    try {
      const w = stored ?? await this.deps.store.getWorkload(name);
      if (w) await this.reconcileWorkload(w);
    } catch (err) {
      this.log(`reconcile of workload '${name}' failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 'error', { workload: name });
    }
  }

  /** A workload's instance counts, from its records. */
  private counts(w: StoredWorkload, records: readonly InstanceRecord[]): InstanceCounts {
    let ready = 0;
    let terminating = 0;
    for (const r of records) {
      if (this.isServing(r)) ready++;
      else if (r.state === 'terminating') terminating++;
    }
    return { desired: w.deletedAt ? 0 : w.spec.replicas, ready, pending: records.length - ready - terminating, terminating };
  }

  /**
   * Every workload's instance counts, from two reads whatever the number of workloads (what a
   * metrics scrape needs; `status` adds convergence and its reasons, one workload at a time).
   */
  async allCounts(): Promise<ReadonlyMap<string, InstanceCounts>> {
    const [workloads, records] = await Promise.all([this.deps.store.listWorkloads(), this.deps.store.listRecords()]);
    const byWorkload = new Map<string, InstanceRecord[]>();
    for (const r of records) {
      const list = byWorkload.get(r.workload);
      if (list) list.push(r);
      else byWorkload.set(r.workload, [r]);
    }
    return new Map(workloads.map((w) => [w.name, this.counts(w, byWorkload.get(w.name) ?? [])]));
  }

  /** Counts of a workload's instances. */
  async status(name: string): Promise<WorkloadStatus | undefined> {
    const w = await this.deps.store.getWorkload(name);
    if (!w) return undefined;
    const records = await this.deps.store.listRecords(name);
    const { desired, ready, pending, terminating } = this.counts(w, records);
    const want = new Map((w.applied?.assignments ?? []).map((a) => [groupKey(a.cloud, a.region, a.size), a.replicas]));
    const have = new Map<string, number>();
    for (const r of records) if (this.isServing(r)) have.set(groupKey(r.cloud, r.region, r.size), (have.get(groupKey(r.cloud, r.region, r.size)) ?? 0) + 1);
    const placed = !w.deletedAt && w.applied !== undefined && [...want].every(([k, n]) => (have.get(k) ?? 0) === n);
    // Stored, so that every scheduler sharing the store reports the same.
    const observedGeneration = w.observedGeneration;
    // Counts that happen to match an older spec say nothing about the one just applied.
    const current = w.deletedAt !== undefined || observedGeneration >= w.generation;
    const converged = current && records.length === desired && ready === desired && (desired === 0 || placed);
    return {
      desired, ready, pending, terminating, converged, observedGeneration,
      // A placement error found for an older spec is not this one's.
      ...(w.placementError && current ? { placementError: w.placementError } : {}),
      reasons: converged ? [] : await this.reasons(w, records, current),
    };
  }

  /** Why a workload is not converged, region by region (see `StatusReason`). */
  private async reasons(w: StoredWorkload, records: readonly InstanceRecord[], current: boolean): Promise<StatusReason[]> {
    const out: StatusReason[] = [];
    if (w.deletedAt) {
      const left = records.length;
      if (left > 0) out.push({ code: 'deleting', message: `${left} instances still to terminate` });
      return out;
    }
    if (!current) return [{ code: 'pending-generation', message: `generation ${w.generation} not yet acted on` }];
    if (w.placementError) out.push({ code: 'unplaceable', message: w.placementError });
    const constraints = await this.deps.store.listConstraints(this.now());
    const inApplied = new Set((w.applied?.assignments ?? []).map((a) => regionKey(a.cloud, a.region)));
    const regions = new Map<string, { cloud: CloudId; region: string; want: number; sizes: Set<string> }>();
    const touch = (cloud: CloudId, region: string, size: string, want: number) => {
      const k = regionKey(cloud, region);
      const r = regions.get(k) ?? { cloud, region, want: 0, sizes: new Set<string>() };
      r.want += want;
      r.sizes.add(size);
      regions.set(k, r);
    };
    for (const a of w.applied?.assignments ?? []) touch(a.cloud, a.region, a.size, a.replicas);
    for (const a of w.preferred?.assignments ?? []) touch(a.cloud, a.region, a.size, 0);
    for (const r of records) touch(r.cloud, r.region, r.size, 0);
    for (const { cloud, region, want, sizes } of [...regions.values()].sort((a, b) => regionKey(a.cloud, a.region).localeCompare(regionKey(b.cloud, b.region)))) {
      const here = records.filter((r) => r.cloud === cloud && r.region === region);
      const serving = here.filter((r) => this.isServing(r)).length;
      const elsewhere = inApplied.has(regionKey(cloud, region)) ? '' : ', replicas placed elsewhere meanwhile';
      const h = this.health.state(cloud, region);
      if (!h.healthy) {
        out.push({ code: 'region-unavailable', cloud, region,
          message: `region API failing (${h.lastError ?? 'unavailable'}) since ${new Date(h.sinceMs).toISOString()}${elsewhere || (want > 0 ? '' : ', replacements pending elsewhere')}` });
        continue;
      }
      const limits = constraints.filter((c) => c.cloud === cloud && c.region === region && (c.size === '' || sizes.has(c.size)));
      for (const c of limits) {
        out.push({ code: c.size === '' ? 'quota' : 'capacity-cool-down', cloud, region, until: new Date(c.untilMs).toISOString(),
          message: `${c.reason}${c.size ? ` for ${c.size}` : ''}; cool-down until ${new Date(c.untilMs).toISOString()}${elsewhere}` });
      }
      if (limits.length) continue;
      const waiting = here.filter((r) => r.state !== 'terminating' && !this.isServing(r)).length;
      if (want > 0 && (serving < want || waiting > 0)) {
        out.push({ code: 'waiting-for-instances', cloud, region, message: `${serving} of ${want} running, ${waiting} starting` });
      }
      const leaving = here.filter((r) => r.state === 'terminating').length;
      if (leaving > 0) out.push({ code: 'terminating', cloud, region, message: `${leaving} instances terminating` });
    }
    return out;
  }

  /**
   * A dry run: the placement a workload would get under a policy document right now (exclusions
   * in force, today's placement kept where valid), with every left-out region and why.
   */
  async plan(workload: Workload, policySpec: unknown): Promise<PlacementResult> {
    const parsed = this.deps.policies.parse(policySpec);
    if (!parsed.ok) return { ok: false, constraint: 'policy', reason: parsed.error, rejected: [] };
    const stored = await this.deps.store.getWorkload(workload.name);
    const current = stored && !stored.deletedAt ? stored.applied : undefined;
    return this.place(workload, parsed.policy, { ...(current ? { current } : {}), exclusions: await this.exclusions() });
  }

  /** Exclusions in force: constrained (cloud, region, size) and unhealthy regions. */
  async exclusions(): Promise<readonly Exclusion[]> {
    const out: Exclusion[] = (await this.deps.store.listConstraints(this.now())).map((c) => ({
      cloud: c.cloud, region: c.region, ...(c.size ? { size: c.size } : {}), reason: c.reason,
    }));
    for (const s of this.health.unhealthy()) out.push({ cloud: s.cloud, region: s.region, reason: `region API failing (${s.lastError ?? 'unavailable'})` });
    return out;
  }

  /** True when an instance serves traffic: running, with an address, in a healthy region. */
  isServing(r: InstanceRecord): boolean {
    return r.state === 'active' && r.cloudState === 'running' && !!(r.publicIp ?? r.privateIp) && this.health.isHealthy(r.cloud, r.region);
  }

  // ---- the pass ----------------------------------------------------------------------------

  private async reconcileWorkload(w: StoredWorkload): Promise<void> {
    const records = await this.deps.store.listRecords(w.name);
    if (w.deletedAt) {
      await this.tearDown(w, records);
      return;
    }
    const applied = await this.decidePlacement(w, records);
    for (const r of records) this.ensureOp(r);
    if (applied) await this.converge(w, applied, records);
    this.refreshRegions(w.name, records, applied);
  }

  /** Computes (and saves) the preferred and applied placements; undefined when none can be made. */
  private async decidePlacement(w: StoredWorkload, records: readonly InstanceRecord[]): Promise<Placement | undefined> {
    const { policies } = this.deps;
    const parsed = await this.policyOf(w.spec.policy);
    if (!parsed.ok) {
      await this.savePlacement(w, { preferred: w.preferred, applied: w.applied, placementError: parsed.error });
      return undefined;
    }
    const policy = parsed.policy;
    const exclusions = await this.exclusions();
    // The preferred placement ignores exclusions: it is where replicas return to (failback).
    const preferredRes = this.placeCached(`${w.name}|preferred`, w.spec, policy, { ...(w.preferred ? { current: w.preferred } : {}), exclusions: [] });
    const preferred = preferredRes.ok ? preferredRes.placement : w.preferred;
    let result: PlacementResult = preferredRes;
    if (exclusions.length > 0) {
      const current = policies.failback(policy) ? preferred : (w.applied ?? currentFromRecords(w.name, records));
      result = this.placeCached(`${w.name}|applied`, w.spec, policy, { ...(current ? { current } : {}), exclusions });
    }
    if (!result.ok) {
      await this.savePlacement(w, { preferred, applied: w.applied, placementError: `${result.constraint}: ${result.reason}` });
      return undefined;
    }
    await this.savePlacement(w, { preferred, applied: result.placement });
    return result.placement;
  }

  /** The parsed policy of a name, parsed once per generation of the stored document. */
  private async policyOf(name: string): Promise<ReturnType<ReconcilerDeps<P>['policies']['parse']>> {
    const doc = await this.deps.store.getPolicy(name);
    if (!doc) return { ok: false, error: `policy '${name}' does not exist` };
    const hit = this.parsedPolicies.get(name);
    if (hit?.generation === doc.generation) return hit.parsed;
    const parsed = this.deps.policies.parse(doc.spec);
    this.parsedPolicies.set(name, { generation: doc.generation, parsed });
    return parsed;
  }

  /** Placement is pure: the same inputs give the same result, so passes reuse it. */
  private placeCached(slot: string, workload: Workload, policy: P, ctx: Parameters<ReconcilerDeps<P>['place']>[2]): PlacementResult {
    const inputs = JSON.stringify([workload, policy, ctx]);
    const hit = this.placements.get(slot);
    if (hit?.inputs === inputs) return hit.result;
    const result = this.place(workload, policy, ctx);
    this.placements.set(slot, { inputs, result });
    return result;
  }

  private place(workload: Workload, policy: P, ctx: Parameters<ReconcilerDeps<P>['place']>[2]): PlacementResult {
    try {
      return this.deps.place(workload, policy, ctx);
    } catch (err) {
      return { ok: false, constraint: 'placement', reason: err instanceof Error ? err.message : String(err), rejected: [] };
    }
  }

  /** Saves the placement, and the generation acted on, when either changed (one write). */
  private async savePlacement(w: StoredWorkload, p: { preferred?: Placement; applied?: Placement; placementError?: string }): Promise<void> {
    const observe = w.observedGeneration !== w.generation;
    if (!observe && samePlacement(w.preferred, p.preferred) && samePlacement(w.applied, p.applied) && w.placementError === p.placementError) return;
    if (this.deposed()) return;
    await this.deps.store.setPlacement(w.name, observe ? { ...p, observedGeneration: w.generation } : p);
    this.emit(w.name);
  }

  /** Creates what is missing and removes what is surplus, make-before-break. */
  private async converge(w: StoredWorkload, placement: Placement, records: readonly InstanceRecord[]): Promise<void> {
    const { config, policies } = this.deps;
    const now = this.now();
    const parsed = await this.policyOf(w.spec.policy);
    const timeoutMs = 1000 * ((parsed.ok ? policies.provisionTimeoutSeconds(parsed.policy) : undefined) ?? config.provisionTimeoutSeconds);

    const groups = new Map<string, Group>();
    for (const a of placement.assignments) {
      const image = w.spec.image[a.cloud];
      if (!image || a.replicas <= 0) continue;
      groups.set(groupKey(a.cloud, a.region, a.size), { cloud: a.cloud, region: a.region, size: a.size, image, replicas: a.replicas });
    }
    const kept = new Map<string, InstanceRecord[]>();
    const surplus: InstanceRecord[] = [];
    let timedOut = false;
    for (const r of records) {
      if (r.state !== 'creating' && r.state !== 'active') continue;
      const g = groups.get(groupKey(r.cloud, r.region, r.size));
      if (!g || g.image !== r.image) { surplus.push(r); continue; }
      // The clock starts when the cloud accepted the create (a record's last change while it is
      // pending), not when the intent was queued behind rate limits; a create that keeps failing
      // counts from its intent.
      const since = r.state === 'active' ? r.updatedAtMs : r.createdAtMs;
      if (r.cloudState !== 'running' && !this.inflight.has(r.key) && now - since > timeoutMs) {
        // The region did not deliver in time: give it up for a cool-down and place elsewhere.
        await this.constrain(r.cloud, r.region, r.size, `provisioning took longer than ${timeoutMs / 1000} s`);
        surplus.push(r);
        timedOut = true;
        continue;
      }
      const list = kept.get(groupKey(r.cloud, r.region, r.size)) ?? [];
      list.push(r);
      kept.set(groupKey(r.cloud, r.region, r.size), list);
    }
    for (const [gk, g] of groups) {
      const list = (kept.get(gk) ?? []).sort((a, b) => rank(this, a) - rank(this, b) || a.ordinal - b.ordinal);
      surplus.push(...list.slice(g.replicas));
      for (let i = list.length; i < g.replicas; i++) await this.create(w.name, g);
    }
    // Make-before-break: a serving instance goes only while the serving count stays at or above
    // the desired count, so new replicas must be running before old ones are removed.
    let serving = records.filter((r) => this.isServing(r)).length;
    surplus.sort((a, b) => Number(this.isServing(a)) - Number(this.isServing(b)) || b.ordinal - a.ordinal);
    for (const r of surplus) {
      if (this.isServing(r)) {
        if (serving - 1 < w.spec.replicas) continue;
        serving--;
      }
      await this.terminate(r);
    }
    if (timedOut) this.enqueue(w.name);
  }

  private async tearDown(w: StoredWorkload, records: readonly InstanceRecord[]): Promise<void> {
    for (const r of records) {
      if (r.state === 'creating' || r.state === 'active') await this.terminate(r);
      else this.ensureOp(r);
    }
    if (records.length > 0) {
      this.refreshRegions(w.name, records, undefined);
      return;
    }
    // Nothing left on record: one last listing of every region it used, then forget it.
    const regions = new Map<string, { cloud: CloudId; region: string }>();
    for (const r of await this.deps.store.listRecords(w.name, true)) regions.set(regionKey(r.cloud, r.region), { cloud: r.cloud, region: r.region });
    for (const a of w.applied?.assignments ?? []) regions.set(regionKey(a.cloud, a.region), { cloud: a.cloud, region: a.region });
    this.launch(`final:${w.name}`, `final/${w.name}`, w.name, async () => {
      for (const { cloud, region } of regions.values()) await this.refreshRegion(w.name, cloud, region, true);
      if (this.halted) return;
      if ((await this.deps.store.listRecords(w.name)).length === 0) {
        await this.deps.store.pruneGone(w.name);
        await this.deps.store.purgeWorkload(w.name);
        this.placements.delete(`${w.name}|preferred`);
        this.placements.delete(`${w.name}|applied`);
        this.emit(w.name);
      }
    });
  }

  /** Lists the workload's instances by tag in each region it uses, at a pace set by what is pending. */
  private refreshRegions(name: string, records: readonly InstanceRecord[], placement: Placement | undefined): void {
    const now = this.now();
    const regions = new Map<string, { cloud: CloudId; region: string; busy: boolean }>();
    for (const a of placement?.assignments ?? []) regions.set(regionKey(a.cloud, a.region), { cloud: a.cloud, region: a.region, busy: false });
    for (const r of records) {
      const k = regionKey(r.cloud, r.region);
      // A call in flight reports for itself; a listing helps only what waits on the cloud.
      const busy = r.state === 'active' ? r.cloudState !== 'running' : !this.inflight.has(r.key);
      regions.set(k, { cloud: r.cloud, region: r.region, busy: busy || (regions.get(k)?.busy ?? false) });
    }
    // Pending work is checked more often, but a listing of a busy region is not free (pages of
    // instances): at most once a second, and never more than every five pass intervals.
    const fastMs = Math.min(1000, this.deps.config.intervalMs * 5);
    for (const { cloud, region, busy } of regions.values()) {
      const k = `${name}|${regionKey(cloud, region)}`;
      const interval = busy ? fastMs : this.deps.config.refreshIntervalSeconds * 1000;
      if (now - (this.lastRefresh.get(k) ?? -Infinity) < interval) continue;
      this.launch(`refresh:${k}`, `${regionKey(cloud, region)}/read`, name, async () => {
        this.lastRefresh.set(k, this.now());
        await this.refreshRegion(name, cloud, region, false);
      });
    }
  }

  /** Probes each unhealthy region with a cheap listing so that recovery is noticed (and failback follows). */
  private probeUnhealthy(): void {
    for (const s of this.health.unhealthy()) {
      const k = `probe|${regionKey(s.cloud, s.region)}`;
      if (this.now() - (this.lastRefresh.get(k) ?? -Infinity) < this.deps.config.refreshIntervalSeconds * 1000) continue;
      this.launch(k, `${regionKey(s.cloud, s.region)}/read`, undefined, async () => {
        this.lastRefresh.set(k, this.now());
        await this.cloudCall(s.cloud, s.region, 'list', async () => {
          for await (const _ of this.deps.provider(s.cloud).listInstances(s.region, { [MERIDIAN_TAGS.workload]: '-' })) break;
        });
      });
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  private async create(workload: string, g: Group): Promise<void> {
    const { store } = this.deps;
    const token = this.deps.fence?.();
    if (this.deps.fence && token === undefined) return;
    const ordinal = await store.nextOrdinal(workload);
    const key = idempotencyKey(workload, g.cloud, g.region, ordinal);
    // The intent and its journal entry are durable before the call is made.
    const { record, seq } = await store.recordCreateIntent({ key, workload, cloud: g.cloud, region: g.region, size: g.size, image: g.image, ordinal }, token);
    this.launch(key, regionKey(g.cloud, g.region), workload, () => this.createOp(record, seq));
    this.emit(workload);
  }

  private async terminate(r: InstanceRecord): Promise<void> {
    if (this.deposed()) return;
    if (r.state !== 'terminating') await this.deps.store.updateRecord(r.key, { state: 'terminating' });
    this.launch(r.key, regionKey(r.cloud, r.region), r.workload, () => this.terminateOp(r.key));
    this.emit(r.workload);
  }

  /** Replays the call a record still waits for (after a restart, or a failed attempt). */
  private ensureOp(r: InstanceRecord): void {
    if (r.state === 'creating') this.launch(r.key, regionKey(r.cloud, r.region), r.workload, () => this.createOp(r));
    else if (r.state === 'terminating') this.launch(r.key, regionKey(r.cloud, r.region), r.workload, () => this.terminateOp(r.key));
  }

  private async createOp(r: InstanceRecord, journalSeq?: number): Promise<void> {
    const { store } = this.deps;
    if (journalSeq === undefined) {
      // A replay starts from a pass's listing, which may predate the create it replays finishing:
      // the record as it is now decides, so a finished create is not made again.
      const now = await store.getRecord(r.key);
      if (!now || now.state !== 'creating' || now.instanceId) return;
    }
    const seq = journalSeq ?? await store.journalBegin({ operation: 'create', key: r.key, workload: r.workload, cloud: r.cloud, region: r.region, ...this.fenceToken() });
    this.inflightSeqs.add(seq);
    try {
      await this.createCall(r, seq);
    } finally {
      this.inflightSeqs.delete(seq);
    }
  }

  private async createCall(r: InstanceRecord, seq: number): Promise<void> {
    const { store } = this.deps;
    let inst: Instance;
    try {
      inst = await this.cloudCall(r.cloud, r.region, 'create', () => this.deps.provider(r.cloud).createInstance({
        workload: r.workload, cloud: r.cloud, region: r.region, size: r.size, image: r.image, idempotencyKey: r.key,
        // The driver writes the workload and key tags itself (MERIDIAN_TAGS) from these fields.
        tags: {},
      }), { key: r.key, workload: r.workload });
    } catch (err) {
      if (this.halted) return;
      if (err instanceof NotLeaderError) throw err;
      const e = asCloudError(err, r.cloud, r.region);
      await store.journalEnd(seq, e.kind);
      if (e.kind === 'capacity' || e.kind === 'quota' || e.kind === 'invalid') {
        if (e.kind === 'invalid') this.log(`${r.cloud} ${r.region} refused to create ${r.key} as invalid: ${e.message}`, 'warn', { cloud: r.cloud, region: r.region, idempotencyKey: r.key });
        // Non-retryable refusals created nothing: drop the record and place elsewhere.
        await this.constrain(r.cloud, r.region, e.kind === 'quota' ? '' : r.size, `${e.kind}: ${e.code ?? e.message}`);
        await store.updateRecord(r.key, { state: 'gone' });
        return;
      }
      throw e;
    }
    if (this.halted) return;
    await store.journalEnd(seq, 'ok', inst.id);
    const current = await store.getRecord(r.key);
    await store.updateRecord(r.key, {
      instanceId: inst.id, cloudState: inst.state, publicIp: inst.publicIp, privateIp: inst.privateIp,
      ...(current?.state === 'creating' ? { state: 'active' as const } : {}),
    });
  }

  private async terminateOp(key: string): Promise<void> {
    const { store } = this.deps;
    const r = await store.getRecord(key);
    if (!r || r.state !== 'terminating') return;
    const provider = this.deps.provider(r.cloud);
    const seq = await store.journalBegin({ operation: 'terminate', key, workload: r.workload, cloud: r.cloud, region: r.region,
      ...(r.instanceId ? { instanceId: r.instanceId } : {}), ...this.fenceToken() });
    this.inflightSeqs.add(seq);
    try {
      if (r.instanceId) {
        const id = r.instanceId;
        await this.cloudCall(r.cloud, r.region, 'terminate', () => provider.terminateInstance(r.region, id), { key, workload: r.workload, instanceId: id });
      } else {
        // The create's outcome is unknown: find the instance by its key tag, if it exists at all.
        const found = await this.cloudCall(r.cloud, r.region, 'list', async () => {
          const out: Instance[] = [];
          for await (const i of provider.listInstances(r.region, { [MERIDIAN_TAGS.workload]: r.workload })) {
            if (i.tags[MERIDIAN_TAGS.key] === key && i.state !== 'terminated') out.push(i);
          }
          return out;
        }, { key, workload: r.workload });
        for (const i of found) {
          await this.cloudCall(r.cloud, r.region, 'terminate', () => provider.terminateInstance(r.region, i.id), { key, workload: r.workload, instanceId: i.id });
        }
      }
    } catch (err) {
      if (this.halted) return;
      if (err instanceof NotLeaderError) throw err;
      await store.journalEnd(seq, asCloudError(err, r.cloud, r.region).kind);
      throw err;
    } finally {
      this.inflightSeqs.delete(seq);
    }
    if (this.halted) return;
    await store.journalEnd(seq, 'ok');
    await store.updateRecord(key, { state: 'gone', cloudState: 'terminated' });
  }

  /**
   * True when this scheduler shares its store and does not hold the leader lease (any more): it
   * then writes no decision of its own, which a stale view of the state could have made.
   */
  private deposed(): boolean {
    return this.deps.fence !== undefined && this.deps.fence() === undefined;
  }

  /** The journal entry's fencing token, when this scheduler shares its store. */
  private fenceToken(): { token?: number } {
    if (!this.deps.fence) return {};
    const token = this.deps.fence();
    if (token === undefined) throw new NotLeaderError();
    return { token };
  }

  /** Reconciles records of one region with what the cloud lists under the workload tag. */
  private async refreshRegion(name: string, cloud: CloudId, region: string, deleted: boolean): Promise<void> {
    const { store } = this.deps;
    const started = this.now();
    const found = await this.cloudCall(cloud, region, 'list', async () => {
      const out: Instance[] = [];
      for await (const i of this.deps.provider(cloud).listInstances(region, { [MERIDIAN_TAGS.workload]: name })) out.push(i);
      return out;
    }, { workload: name });
    if (this.halted || this.deposed()) return;
    const records = (await store.listRecords(name, true)).filter((r) => r.cloud === cloud && r.region === region);
    const byKey = new Map(records.map((r) => [r.key, r]));
    const byId = new Map(records.filter((r) => r.instanceId).map((r) => [r.instanceId as string, r]));
    const seen = new Set<string>();
    let changed = false;
    for (const inst of found) {
      const tagKey = inst.tags[MERIDIAN_TAGS.key];
      const r = (tagKey !== undefined ? byKey.get(tagKey) : undefined) ?? byId.get(inst.id);
      const dead = inst.state === 'terminated' || inst.state === 'terminating';
      if (!r) {
        if (dead) continue;
        // Unknown to the journal: nothing of ours may run untracked. Record it, then remove it.
        const key = `orphan:${cloud}:${region}:${inst.id}`;
        if (!await store.getRecord(key)) {
          await store.insertRecord({ key, workload: name, cloud, region, size: inst.size, image: '', ordinal: -1, state: 'terminating', instanceId: inst.id, cloudState: inst.state });
          this.log(`terminating instance ${inst.id} in ${cloud}/${region}: tagged for workload '${name}' under an unknown key`);
        }
        changed = true;
        continue;
      }
      seen.add(r.key);
      if (this.inflight.has(r.key)) continue;
      if (dead) {
        if (r.state !== 'gone') { await store.updateRecord(r.key, { state: 'gone', cloudState: inst.state }); changed = true; }
        continue;
      }
      if (r.state === 'gone' || (deleted && r.state !== 'terminating')) {
        // Known key, but no longer desired: it goes.
        await store.updateRecord(r.key, { state: 'terminating', instanceId: inst.id, cloudState: inst.state });
        changed = true;
        continue;
      }
      const patch = {
        instanceId: inst.id, cloudState: inst.state, publicIp: inst.publicIp, privateIp: inst.privateIp,
        ...(r.state === 'creating' ? { state: 'active' as const } : {}),
      };
      if (r.instanceId !== patch.instanceId || r.cloudState !== patch.cloudState || r.publicIp !== patch.publicIp || r.privateIp !== patch.privateIp || patch.state) {
        await store.updateRecord(r.key, patch);
        changed = true;
      }
    }
    for (const r of records) {
      if (seen.has(r.key) || this.inflight.has(r.key) || !r.instanceId || r.updatedAtMs >= started) continue;
      // The cloud no longer lists it: it was terminated (by us, or behind our back).
      if (r.state === 'active' || r.state === 'terminating') {
        await store.updateRecord(r.key, { state: 'gone', cloudState: 'terminated' });
        changed = true;
      }
    }
    if (changed) this.emit(name);
  }

  private async constrain(cloud: CloudId, region: string, size: string, reason: string): Promise<void> {
    if (this.halted || this.deposed()) return;
    await this.deps.store.putConstraint({ cloud, region, size, reason, untilMs: this.now() + this.deps.config.capacityCoolDownSeconds * 1000 });
    // Exclusions changed: any workload may now be placed differently.
    this.triggerFull();
  }

  /**
   * Makes one cloud call, feeding region health, metrics and the log: the one place every driver
   * call of the reconciler goes through (the drivers' retries happen inside `fn`).
   */
  private async cloudCall<T>(cloud: CloudId, region: string, operation: string, fn: () => Promise<T>, call: CloudCallContext = {}): Promise<T> {
    // Checked at the moment of the call on the monotonic clock: a leader that was paused past its
    // lease's renewal deadline finds out here, before any request leaves.
    if (this.deposed()) throw new NotLeaderError();
    const t0 = performance.now();
    const labels = { cloud, region, operation };
    let outcome = 'ok';
    let error: CloudError | undefined;
    try {
      const out = await fn();
      // A call that ends after a stop no longer speaks for this scheduler, which follows the stored health then.
      if (this.running) this.health.record(cloud, region, 'ok');
      return out;
    } catch (err) {
      if (this.deposed()) {
        // The lease ended during the call (its request may have been stopped unsent): the failure
        // says nothing about the region.
        outcome = 'not-leader';
        throw new NotLeaderError();
      }
      error = asCloudError(err, cloud, region);
      outcome = error.kind;
      if (this.running) this.health.record(cloud, region, error.kind, error.code);
      throw error;
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      const m = this.deps.metrics;
      m?.inc('meridian_cloud_calls_total', 'Cloud calls made by the reconciler, by outcome.', { ...labels, outcome });
      m?.inc('meridian_cloud_call_seconds_total', 'Time spent in cloud calls, seconds.', labels, seconds);
      m?.observe('meridian_cloud_call_duration_seconds', 'Latency of cloud calls (retries included), seconds, by cloud, operation and outcome.',
        { cloud, operation, outcome }, seconds);
      if (this.deps.logCloudCalls) {
        // Listings repeat every refresh interval per region: their successes are debug lines.
        const level = outcome !== 'ok' ? 'warn' : operation === 'list' ? 'debug' : 'info';
        this.log('cloud call', level, {
          cloud, region, operation, outcome, latencyMs: Math.round(seconds * 1e6) / 1000,
          ...(call.key ? { idempotencyKey: call.key } : {}), ...(call.workload ? { workload: call.workload } : {}),
          ...(call.instanceId ? { instanceId: call.instanceId } : {}),
          ...(error ? { requestId: error.requestId, code: error.code, error: error.message } : {}),
        });
      }
    }
  }

  /** Starts an operation unless one with the same key is in flight or backing off; its end queues `workload`. */
  private launch(opKey: string, lane: string, workload: string | undefined, fn: () => Promise<void>): void {
    if (this.inflight.has(opKey) || !this.running) return;
    const f = this.failures.get(opKey);
    if (f && f.retryAtMs > this.now()) return;
    const p = this.limiter.run(lane, fn).then(
      () => { this.failures.delete(opKey); },
      (err: unknown) => {
        const count = (f?.count ?? 0) + 1;
        // Exponential backoff between replays, capped by the refresh interval.
        const delay = Math.min(this.deps.config.refreshIntervalSeconds * 1000, this.deps.config.intervalMs * 2 ** Math.min(count, 10));
        this.failures.set(opKey, { count, retryAtMs: this.now() + delay });
        if (!(err instanceof CloudError) && !(err instanceof NotLeaderError) && !this.halted) this.log(`operation ${opKey} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 'error');
      },
    ).finally(() => {
      this.inflight.delete(opKey);
      if (this.halted) return;
      if (workload === undefined) {
        this.trigger();
        return;
      }
      if (opKey.startsWith('mrd:')) this.emit(workload);
      this.enqueue(workload);
    });
    this.inflight.set(opKey, p);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    const at = this.now() + delayMs;
    if (this.timer && at >= this.nextPassAt) return;
    clearTimeout(this.timer);
    this.nextPassAt = at;
    this.timer = setTimeout(() => { void this.loop(); }, delayMs);
  }

  private async loop(): Promise<void> {
    this.timer = undefined;
    this.nextPassAt = Infinity;
    if (!this.running || this.passing) return;
    this.passing = true;
    const t0 = performance.now();
    let more = false;
    try {
      more = await this.passSlice();
    } catch (err) {
      this.log(`reconcile pass failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.passing = false;
      this.lastPassMs = performance.now() - t0;
    }
    const again = this.again;
    this.again = false;
    // Work left over continues after I/O had its turn; otherwise wait for a change or the next full pass.
    if (more) this.schedule(0);
    else if (again) this.schedule(this.soonMs());
    else this.schedule(this.fullWanted ? this.soonMs() : Math.max(0, this.nextFullAt - performance.now()));
  }

  private emit(workload: string): void {
    for (const l of this.listeners) l(workload);
  }

  private log(message: string, level?: MessageLevel, fields?: Readonly<Record<string, unknown>>): void {
    if (this.deps.log) this.deps.log(message, level, fields);
    else process.stderr.write(`${message}\n`);
  }
}

/** What a cloud call's log line names besides cloud, region and operation. */
interface CloudCallContext {
  readonly key?: string;
  readonly workload?: string;
  readonly instanceId?: string;
}

/** Raised instead of a cloud call by a scheduler that does not hold the leader lease (any more). */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  readonly code = 'MERIDIAN_ERR_NOT_LEADER';
  constructor() {
    super('this scheduler does not hold the leader lease: no cloud call is made');
  }
}

/** Orders records inside a group: serving first, then active, then the rest. */
function rank<P>(rec: Reconciler<P>, r: InstanceRecord): number {
  if (rec.isServing(r)) return 0;
  return r.state === 'active' ? 1 : 2;
}

/** Today's placement as the records show it, for minimal movement when none was saved. */
function currentFromRecords(workload: string, records: readonly InstanceRecord[]): Placement | undefined {
  const by = new Map<string, RegionAssignment>();
  for (const r of records) {
    if (r.state !== 'creating' && r.state !== 'active') continue;
    const k = groupKey(r.cloud, r.region, r.size);
    const prev = by.get(k);
    by.set(k, { cloud: r.cloud, region: r.region, size: r.size, replicas: (prev?.replicas ?? 0) + 1, usdPerHour: 0 });
  }
  if (by.size === 0) return undefined;
  return { workload, assignments: [...by.values()], usdPerHour: 0 };
}
