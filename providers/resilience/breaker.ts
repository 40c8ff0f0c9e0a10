/** Breaker states: closed (calls flow), open (calls fail fast), half-open (one probe at a time). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** When a breaker opens and how long it stays open. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** Time the breaker stays open before it lets one probe through. */
  readonly coolDownMs: number;
}

/**
 * A circuit breaker for one (cloud, region). Only failures that say the region is unwell
 * (`unavailable`, timeouts) count; a `capacity` or `invalid` answer proves the region is up.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: BreakerState = 'closed';

  constructor(private readonly options: BreakerOptions, private readonly now: () => number = Date.now) {}

  /** The state, moving open -> half-open once the cool-down has passed. */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.coolDownMs) {
      this.current = 'half-open';
      this.probing = false;
    }
    return this.current;
  }

  /** Milliseconds until an open breaker half-opens; 0 when not open. */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.options.coolDownMs - (this.now() - this.openedAt)) : 0;
  }

  /** Whether a call may go out now. In half-open, only one probe at a time is admitted. */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'half-open' && !this.probing) { this.probing = true; return true; }
    return false;
  }

  /** Records a call that reached a healthy region. */
  recordSuccess(): void {
    this.failures = 0;
    this.probing = false;
    this.current = 'closed';
  }

  /** Records a call that found the region unwell. */
  recordFailure(): void {
    this.probing = false;
    this.failures += 1;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }

  /** Records a call whose outcome says nothing about region health (aborted, invalid input). */
  recordNeutral(): void {
    this.probing = false;
  }
}
