import { CloudError } from '../errors';
import type { CloudId } from '../types';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './breaker';
import { TokenBucket, type TokenBucketOptions } from './token-bucket';

/** API classes that clouds rate-limit separately (EC2 and ARM both bucket reads apart from writes). */
export type ApiClass = 'read' | 'write';

/** Retry bounds: attempts and total time both cap the work one call may cause. */
export interface RetryOptions {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No retry starts after this much time since the first attempt. */
  readonly maxTotalMs: number;
}

/** Everything the shared resilience layer does for one cloud. */
export interface ResilienceOptions {
  readonly retry: RetryOptions;
  readonly rateLimits: Readonly<Record<ApiClass, TokenBucketOptions>>;
  readonly breaker: BreakerOptions;
  /** One attempt is abandoned (and counts as `unavailable`) after this long. */
  readonly attemptTimeoutMs: number;
}

/** Defaults sized under the clouds' published limits (ARM writes refill at about 10/s). */
export const DEFAULT_RESILIENCE: ResilienceOptions = Object.freeze({
  retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000, maxTotalMs: 30_000 },
  rateLimits: { read: { ratePerSecond: 100, burst: 200 }, write: { ratePerSecond: 10, burst: 50 } },
  breaker: { failureThreshold: 5, coolDownMs: 10_000 },
  attemptTimeoutMs: 30_000,
});

/** Merges partial options over the defaults. */
export function resilienceOptions(partial: Partial<ResilienceOptions> = {}): ResilienceOptions {
  return {
    retry: { ...DEFAULT_RESILIENCE.retry, ...partial.retry },
    rateLimits: { ...DEFAULT_RESILIENCE.rateLimits, ...partial.rateLimits },
    breaker: { ...DEFAULT_RESILIENCE.breaker, ...partial.breaker },
    attemptTimeoutMs: partial.attemptTimeoutMs ?? DEFAULT_RESILIENCE.attemptTimeoutMs,
  };
}

/** Identifies one logical cloud call. */
export interface CallContext {
  readonly region: string;
  readonly apiClass: ApiClass;
  /** The cloud operation: `RunInstances`, `virtualMachines.createOrUpdate`, `RunInstances`. */
  readonly operation: string;
}

/** One finished attempt, for metrics and logs. */
export interface AttemptEvent extends CallContext {
  readonly cloud: CloudId;
  readonly attempt: number;
  /** `ok`, or the error kind. */
  readonly outcome: 'ok' | CloudError['kind'];
  readonly durationMs: number;
}

/** Turns anything an SDK throws into a `CloudError` (one function per driver). */
export type ErrorClassifier = (err: unknown, ctx: CallContext) => CloudError;

/** Seams for tests: time and randomness. */
export interface ResilienceClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

const realClock: ResilienceClock = {
  now: Date.now,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
};

/**
 * Retries, rate limiting and circuit breaking for every call one driver makes. This is the only
 * place that retries: drivers turn their SDK's own retries off so attempts never multiply.
 */
export class Resilience {
  readonly options: ResilienceOptions;
  private readonly buckets: Record<ApiClass, TokenBucket>;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly observers: Array<(e: AttemptEvent) => void> = [];

  constructor(
    readonly cloud: CloudId,
    private readonly classify: ErrorClassifier,
    options: Partial<ResilienceOptions> = {},
    private readonly clock: ResilienceClock = realClock,
  ) {
    this.options = resilienceOptions(options);
    this.buckets = {
      read: new TokenBucket(this.options.rateLimits.read, clock.now),
      write: new TokenBucket(this.options.rateLimits.write, clock.now),
    };
  }

  /** Registers a listener for every attempt's outcome. */
  onAttempt(listener: (e: AttemptEvent) => void): void {
    this.observers.push(listener);
  }

  /** The breaker state of a region. */
  breakerState(region: string): BreakerState {
    return this.breaker(region).state;
  }

  /**
   * Runs `fn` under rate limit, breaker and retry. `fn` receives an AbortSignal that fires when
   * the attempt times out; pass it to the SDK. Rejects with a `CloudError` only.
   */
  async call<T>(ctx: CallContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { retry } = this.options;
    const started = this.clock.now();
    const breaker = this.breaker(ctx.region);
    for (let attempt = 1; ; attempt++) {
      if (!breaker.tryAcquire()) {
        throw new CloudError(
          `${this.cloud} region ${ctx.region} is failing: circuit open, retry in ${Math.ceil(breaker.retryInMs / 1000)} s`,
          { kind: 'unavailable', cloud: this.cloud, region: ctx.region, code: 'CircuitOpen', retryAfterMs: breaker.retryInMs },
        );
      }
      await this.buckets[ctx.apiClass].take();
      const t0 = this.clock.now();
      let error: CloudError;
      try {
        const value = await this.attempt(ctx, fn);
        breaker.recordSuccess();
        this.emit({ ...ctx, cloud: this.cloud, attempt, outcome: 'ok', durationMs: this.clock.now() - t0 });
        return value;
      } catch (err) {
        error = err instanceof CloudError ? err : this.classify(err, ctx);
      }
      this.emit({ ...ctx, cloud: this.cloud, attempt, outcome: error.kind, durationMs: this.clock.now() - t0 });
      if (error.kind === 'unavailable') breaker.recordFailure();
      else if (error.kind === 'throttled' || error.kind === 'auth') breaker.recordNeutral();
      else breaker.recordSuccess(); // the region answered: capacity, quota, invalid, not-found

      if (!error.retryable || attempt >= retry.maxAttempts) throw error;
      // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"), but never sooner
      // than the server asked for with Retry-After.
      const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.max(this.clock.random() * cap, error.retryAfterMs ?? 0);
      if (this.clock.now() - started + delay > retry.maxTotalMs) throw error;
      await this.clock.sleep(delay);
    }
  }

  private async attempt<T>(ctx: CallContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new CloudError(`${this.cloud} ${ctx.operation} in ${ctx.region} timed out after ${this.options.attemptTimeoutMs} ms`,
          { kind: 'unavailable', cloud: this.cloud, region: ctx.region, code: 'Timeout' }));
      }, this.options.attemptTimeoutMs);
    });
    try {
      return await Promise.race([fn(controller.signal), timeout]);
    } catch (err) {
      throw err instanceof CloudError ? err : this.classify(err, ctx);
    } finally {
      clearTimeout(timer);
    }
  }

  private breaker(region: string): CircuitBreaker {
    let b = this.breakers.get(region);
    if (!b) {
      b = new CircuitBreaker(this.options.breaker, this.clock.now);
      this.breakers.set(region, b);
    }
    return b;
  }

  private emit(e: AttemptEvent): void {
    for (const o of this.observers) o(e);
  }
}
