import type { CloudErrorKind, CloudId } from '../../providers';

/** What the scheduler knows about one region's API right now. */
export interface RegionHealthState {
  readonly cloud: CloudId;
  readonly region: string;
  readonly healthy: boolean;
  /** `closed` when calls succeed, `open` when the region fails as unavailable (or the driver's breaker is open). */
  readonly breaker: 'closed' | 'open';
  readonly consecutiveFailures: number;
  readonly lastError?: string;
  readonly sinceMs: number;
}

/**
 * Tracks region health from the outcome of every cloud call the scheduler makes. A region turns
 * unhealthy after N consecutive `unavailable` outcomes or at once when the driver's breaker reports
 * `CircuitOpen`; any answer from the region (even a capacity refusal) makes it healthy again.
 */
export class RegionHealth {
  private readonly states = new Map<string, RegionHealthState>();
  private readonly listeners: Array<(s: RegionHealthState) => void> = [];

  constructor(private readonly unhealthyAfterFailures: number, private readonly now: () => number = Date.now) {}

  /** Registers a listener called when a region flips between healthy and unhealthy. */
  onChange(listener: (s: RegionHealthState) => void): void {
    this.listeners.push(listener);
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
    if ((prev?.healthy ?? true) !== next.healthy) for (const l of this.listeners) l(next);
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
