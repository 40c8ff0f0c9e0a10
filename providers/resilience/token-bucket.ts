/** Options of a token bucket: `ratePerSecond` tokens refill continuously up to `burst`. */
export interface TokenBucketOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/**
 * A client-side token bucket, so we stay under a cloud's own request-rate limit instead of
 * discovering it through throttling errors. Waiters are served in arrival order.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenBucketOptions, private readonly now: () => number = Date.now) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(`token bucket needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(options)}`);
    }
    this.tokens = options.burst;
    this.last = now();
  }

  /** Takes one token if one is available now. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) { this.tokens -= 1; return true; }
    return false;
  }

  /** Resolves once a token is taken. FIFO: a later caller never overtakes an earlier one. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.waitForToken());
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      if (this.tryTake()) return;
      const waitMs = Math.ceil(((1 - this.tokens) / this.options.ratePerSecond) * 1000);
      await new Promise((r) => setTimeout(r, Math.max(1, waitMs)));
    }
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last) / 1000;
    this.last = t;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed * this.options.ratePerSecond);
  }
}
