import { strict as assert } from 'node:assert';
import { CloudError } from '../../providers/errors';
import { CircuitBreaker, Resilience, TokenBucket, type ResilienceClock } from '../../providers/resilience';

function fakeClock(random: () => number = () => 1): ResilienceClock & { t: number; slept: number[] } {
  const c = {
    t: 0, slept: [] as number[],
    now: () => c.t,
    sleep: (ms: number) => { c.slept.push(ms); c.t += ms; return Promise.resolve(); },
    random,
  };
  return c;
}

/** Real time, milliseconds since `t0`. */
const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

const classify = (err: unknown) => new CloudError(String(err), { kind: 'unavailable', cloud: 'aws' });
const ctx = { region: 'eu-central-1', apiClass: 'write' as const, operation: 'RunInstances' };
const throttled = (retryAfterMs?: number) => new CloudError('slow down', { kind: 'throttled', cloud: 'aws', retryAfterMs });

describe('providers/resilience', () => {
  it('retries a throttled call with capped exponential backoff and honours Retry-After', async () => {
    const clock = fakeClock();
    const r = new Resilience('aws', classify, { retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxTotalMs: 60_000 } }, clock);
    let calls = 0;
    const out = await r.call(ctx, () => {
      calls++;
      if (calls === 1) return Promise.reject(throttled(2500));
      if (calls < 4) return Promise.reject(throttled());
      return Promise.resolve('done');
    });
    assert.equal(out, 'done');
    assert.equal(calls, 4);
    assert.deepEqual(clock.slept, [2500, 200, 400]);
  });

  it('draws each backoff uniformly from zero up to the capped exponential (full jitter), and never below Retry-After', async () => {
    const draws = [0.5, 0, 0.25, 0.999, 0.1, 0.75];
    const clock = fakeClock(() => draws.shift() ?? 0);
    const r = new Resilience('aws', classify, { retry: { maxAttempts: 7, baseDelayMs: 100, maxDelayMs: 1000, maxTotalMs: 60_000 } }, clock);
    let calls = 0;
    await r.call(ctx, () => {
      calls++;
      if (calls === 5) return Promise.reject(throttled(300));
      return calls < 7 ? Promise.reject(throttled()) : Promise.resolve('done');
    });
    // caps 100, 200, 400, 800, 1000 (capped), 1000; the fifth retry's 0.1 * 1000 yields to Retry-After 300.
    assert.deepEqual(clock.slept, [50, 0, 100, 799.2, 300, 750]);
  });

  it('spreads the backoffs of concurrent callers that fail together, instead of retrying in lockstep', async () => {
    // Seeded, so a failure replays; 200 callers whose first attempt is throttled at the same moment.
    let seed = 42;
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    const clock = fakeClock(random);
    const r = new Resilience('aws', classify, {
      retry: { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000, maxTotalMs: 1e9 },
      rateLimits: { read: { ratePerSecond: 1, burst: 1000 }, write: { ratePerSecond: 1, burst: 1000 } },
    }, clock);
    await Promise.all(Array.from({ length: 200 }, () => {
      let first = true;
      return r.call(ctx, () => (first ? ((first = false), Promise.reject(throttled())) : Promise.resolve(1)));
    }));
    assert.equal(clock.slept.length, 200);
    assert.ok(clock.slept.every((d) => d >= 0 && d < 1000));
    // Uniform over [0, 1000): each tenth of the range holds some, none holds most.
    const deciles = Array.from({ length: 10 }, (_, i) => clock.slept.filter((d) => Math.floor(d / 100) === i).length);
    assert.ok(deciles.every((n) => n >= 5 && n <= 45), `deciles ${deciles.join(',')}`);
    assert.ok(new Set(clock.slept).size >= 190, 'delays are distinct');
  });

  it('abandons an attempt that outlives attemptTimeoutMs, aborts its signal, and retries it as unavailable', async () => {
    const clock = fakeClock();
    const r = new Resilience('aws', classify, {
      attemptTimeoutMs: 50, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 60_000 },
    }, clock);
    const aborted: boolean[] = [];
    const t0 = process.hrtime.bigint();
    const out = await r.call(ctx, (signal) => {
      if (aborted.length === 2) return Promise.resolve('third attempt');
      const i = aborted.push(false) - 1;
      // A call that hangs until it is aborted, as an SDK request does when given the signal.
      return new Promise<string>((_, reject) => signal.addEventListener('abort', () => { aborted[i] = true; reject(new Error('aborted')); }));
    });
    assert.equal(out, 'third attempt');
    assert.deepEqual(aborted, [true, true]);
    assert.ok(since(t0) >= 95, `two attempts of at least 50 ms each, took ${since(t0).toFixed(0)} ms`);

    const once = new Resilience('aws', classify, { attemptTimeoutMs: 30, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1 } }, fakeClock());
    await assert.rejects(once.call(ctx, () => new Promise(() => undefined)),
      (e: CloudError) => e.kind === 'unavailable' && e.code === 'Timeout' && e.retryable && /RunInstances in eu-central-1 timed out after 30 ms/.test(e.message));
  });

  it('gives up after maxAttempts and rethrows the last CloudError', async () => {
    const clock = fakeClock();
    const r = new Resilience('aws', classify, { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10, maxTotalMs: 60_000 } }, clock);
    let calls = 0;
    await assert.rejects(r.call(ctx, () => { calls++; return Promise.reject(throttled()); }), (e: CloudError) => e.kind === 'throttled');
    assert.equal(calls, 3);
  });

  it('does not retry capacity errors', async () => {
    const r = new Resilience('aws', classify, {}, fakeClock());
    let calls = 0;
    await assert.rejects(
      r.call(ctx, () => { calls++; return Promise.reject(new CloudError('full', { kind: 'capacity', cloud: 'aws' })); }),
      (e: CloudError) => e.kind === 'capacity' && !e.retryable,
    );
    assert.equal(calls, 1);
  });

  it('stops retrying when the total time budget would be exceeded', async () => {
    const clock = fakeClock();
    const r = new Resilience('aws', classify, { retry: { maxAttempts: 50, baseDelayMs: 1000, maxDelayMs: 1000, maxTotalMs: 3500 } }, clock);
    let calls = 0;
    await assert.rejects(r.call(ctx, () => { calls++; return Promise.reject(throttled()); }));
    assert.equal(calls, 4);
  });

  it('opens the breaker after repeated unavailable errors and fails fast until the cool-down ends', async () => {
    const clock = fakeClock();
    const r = new Resilience('aws', classify, {
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1 }, breaker: { failureThreshold: 2, coolDownMs: 1000 },
    }, clock);
    let calls = 0;
    const down = () => { calls++; return Promise.reject(new Error('ECONNREFUSED')); };
    await assert.rejects(r.call(ctx, down));
    await assert.rejects(r.call(ctx, down));
    assert.equal(r.breakerState('eu-central-1'), 'open');
    await assert.rejects(r.call(ctx, down), (e: CloudError) => e.code === 'CircuitOpen' && e.kind === 'unavailable');
    assert.equal(calls, 2);
    assert.equal(r.breakerState('us-east-1'), 'closed');
    clock.t += 1000;
    assert.equal(r.breakerState('eu-central-1'), 'half-open');
    assert.equal(await r.call(ctx, () => Promise.resolve(7)), 7);
    assert.equal(r.breakerState('eu-central-1'), 'closed');
  });

  it('admits one probe in half-open and reopens when it fails', () => {
    let t = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, coolDownMs: 10 }, () => t);
    b.recordFailure();
    assert.equal(b.tryAcquire(), false);
    t = 10;
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
    b.recordFailure();
    assert.equal(b.state, 'open');
  });

  it('token bucket refills at its rate and never exceeds its burst', () => {
    let t = 0;
    const b = new TokenBucket({ ratePerSecond: 10, burst: 2 }, () => t);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    t = 100;
    assert.equal(b.tryTake(), true);
    t = 10_000;
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
  });

  it('token bucket take() waits for a refill and serves waiters in arrival order', async () => {
    const b = new TokenBucket({ ratePerSecond: 20, burst: 2 });
    const t0 = process.hrtime.bigint();
    const order: number[] = [];
    const at: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => b.take().then(() => { order.push(i); at.push(since(t0)); })));
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    // Two from the burst at once, then one every 50 ms: the last no sooner than 4 refills later.
    assert.ok(at[1]! < 40, `the burst is served without waiting (${at[1]!.toFixed(0)} ms)`);
    assert.ok(at[5]! >= 190, `six tokens at 20/s with a burst of 2 took only ${at[5]!.toFixed(0)} ms`);
    // Two takes apart need more than one refill (a fraction of a token may be left over).
    for (let i = 4; i < 6; i++) assert.ok(at[i]! - at[i - 2]! >= 45, `tokens ${i - 2} and ${i} came ${(at[i]! - at[i - 2]!).toFixed(0)} ms apart`);
  });

  it('holds calls to the configured rate per API class, so writes queue while reads pass', async () => {
    const r = new Resilience('aws', classify, {
      rateLimits: { read: { ratePerSecond: 1000, burst: 100 }, write: { ratePerSecond: 20, burst: 2 } },
    });
    const t0 = process.hrtime.bigint();
    const started: Array<{ cls: string; ms: number }> = [];
    const call = (apiClass: 'read' | 'write') => r.call({ ...ctx, apiClass }, () => { started.push({ cls: apiClass, ms: since(t0) }); return Promise.resolve(); });
    const writes = Array.from({ length: 8 }, () => call('write'));
    const reads = Array.from({ length: 8 }, () => call('read'));
    await Promise.all(reads);
    const readsDoneMs = since(t0);
    await Promise.all(writes);
    const w = started.filter((s) => s.cls === 'write').map((s) => s.ms);
    assert.equal(w.length, 8);
    // 8 writes at 20/s with a burst of 2: the last starts after six refills of 50 ms.
    assert.ok(w[7]! >= 290, `the eighth write started after only ${w[7]!.toFixed(0)} ms`);
    // Four writes apart need more than three refills (a fraction of a token may be left over).
    for (let i = 4; i < 8; i++) assert.ok(w[i]! - w[i - 4]! >= 95, `writes ${i - 4}..${i} started within ${(w[i]! - w[i - 4]!).toFixed(0)} ms`);
    assert.ok(readsDoneMs < w[7]!, 'reads do not wait behind the write queue');
  });

  it('rejects a token bucket with a non-positive rate', () => {
    assert.throws(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), /ratePerSecond > 0/);
  });
});
