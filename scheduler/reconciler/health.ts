import type { CloudErrorKind, CloudId } from '../../providers';
import type { StoredRegionHealth } from '../store';

/**
 * What the scheduler knows about one region's API right now: the shape the store keeps it in.
 * `breaker` is `closed` when calls succeed, `open` when the region fails as unavailable (or the
 * driver's breaker is open).
 */
export type RegionHealthState = StoredRegionHealth;

/**
 * Tracks region health from the outcome of every cloud call the scheduler makes. A region turns
 * unhealthy after N consecutive `unavailable` outcomes or at once when the driver's breaker reports
 * `CircuitOpen`; any answer from the region (even a capacity refusal) makes it healthy again.
 * A scheduler that makes no calls (a follower) takes the leader's view instead, through `adopt`.
 */
export class RegionHealth {
  private readonly states = new Map<string, RegionHealthState>();
  private readonly listeners: Array<(s: RegionHealthState) => void> = [];
  private readonly updates: Array<(s: RegionHealthState) => void> = [];
  /** The error each unhealthy region was last told to `onUpdate` listeners with. */
  private readonly toldErrors = new Map<string, string | undefined>();

  constructor(private readonly unhealthyAfterFailures: number, private readonly now: () => number = Date.now) {}

  /** Registers a listener called when a region flips between healthy and unhealthy (recorded or adopted). */
  onChange(listener: (s: RegionHealthState) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Registers a listener called when a recorded outcome changed what others should know: the
   * region flipped, or it stays unhealthy with another error than the one last told (the driver's
   * own `CircuitOpen` refusals between real failures are not another error). Adopted states are
   * not told.
   */
  onUpdate(listener: (s: RegionHealthState) => void): void {
    this.updates.push(listener);
  }

  /**
   * Replaces every region's state with `states` (another scheduler's view, as stored): regions
   * not named are healthy with no history. Tells the `onChange` listeners of each region that flipped.
   */
  adopt(states: readonly RegionHealthState[]): void {
    const before = new Map(this.states);
    this.states.clear();
    this.toldErrors.clear();
    for (const s of states) {
      this.states.set(`${s.cloud}/${s.region}`, s);
      if (!s.healthy) this.toldErrors.set(`${s.cloud}/${s.region}`, s.lastError);
    }
    const flipped: RegionHealthState[] = [];
    for (const s of states) if ((before.get(`${s.cloud}/${s.region}`)?.healthy ?? true) !== s.healthy) flipped.push(s);
    for (const [k, prev] of before) {
      if (!prev.healthy && !this.states.has(k)) flipped.push({ ...this.state(prev.cloud, prev.region), sinceMs: this.now() });
    }
    for (const s of flipped) for (const l of this.listeners) l(s);
  }

  /** Records one call outcome: `ok`, or the error kind and code. */
  record(cloud: CloudId, region: string, outcome: 'ok' | CloudErrorKind, code?: string): void {
    const key = `${cloud}/${region}`;
    const prev = this.states.get(key);
    let next: RegionHealthState;
    if (outcome === 'unavailable') {
      const failures = (prev?.consecutiveFailures ?? 0) + 1;
      const healthy = code !== 'CircuitOpen' && failures < this.unhealthyAfterFailures && (prev?.healthy ?? true);
      next = {
        cloud, region, healthy, breaker: healthy ? 'closed' : 'open', consecutiveFailures: failures,
        lastError: code ?? 'unavailable', sinceMs: prev && prev.healthy === healthy ? prev.sinceMs : this.now(),
      };
    } else if (outcome === 'throttled' || outcome === 'auth') {
      // Says nothing about the region itself.
      return;
    } else {
      next = { cloud, region, healthy: true, breaker: 'closed', consecutiveFailures: 0, sinceMs: prev?.healthy === false ? this.now() : prev?.sinceMs ?? this.now() };
    }
    this.states.set(key, next);
    const flipped = (prev?.healthy ?? true) !== next.healthy;
    if (flipped) for (const l of this.listeners) l(next);
    const news = flipped || (!next.healthy && next.lastError !== 'CircuitOpen' && this.toldErrors.get(key) !== next.lastError);
    if (!news) return;
    this.toldErrors.set(key, next.lastError);
    for (const l of this.updates) l(next);
  }

  /** True unless the region is known to be failing. */
  isHealthy(cloud: CloudId, region: string): boolean {
    return this.states.get(`${cloud}/${region}`)?.healthy ?? true;
  }

  /** The region's state (healthy with no history when never called). */
  state(cloud: CloudId, region: string): RegionHealthState {
    return this.states.get(`${cloud}/${region}`) ?? { cloud, region, healthy: true, breaker: 'closed', consecutiveFailures: 0, sinceMs: 0 };
  }

  /** Every region currently unhealthy. */
  unhealthy(): readonly RegionHealthState[] {
    return [...this.states.values()].filter((s) => !s.healthy);
  }
}
