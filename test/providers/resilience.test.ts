import { strict as assert } from 'node:assert';
import { CloudError } from '../../providers/errors';
import { CircuitBreaker, Resilience, TokenBucket, type ResilienceClock } from '../../providers/resilience';

function fakeClock(): ResilienceClock & { t: number; slept: number[] } {
  const c = {
    t: 0, slept: [] as number[],
    now: () => c.t,
    sleep: (ms: number) => { c.slept.push(ms); c.t += ms; return Promise.resolve(); },
    random: () => 1,
  };
  return c;
}

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

  it('rejects a token bucket with a non-positive rate', () => {
    assert.throws(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), /ratePerSecond > 0/);
  });
});
