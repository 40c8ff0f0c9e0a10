import 'reflect-metadata';
import { AwsProvider } from '../../../providers/aws/provider';
import type { AwsDriverConfig } from '../../../providers/config';
import { createProviderContainer, providerFor } from '../../../providers/drivers';
import { AwsEmulator, type AwsEmulatorOptions } from '../../../providers/emulator/aws';
import { TEST_CREDENTIALS } from '../../../providers/emulator/core';
import type { ResilienceOptions } from '../../../providers/resilience';
import type { CloudProvider, InstanceSpec } from '../../../providers/types';

/** Small delays and generous rate limits, so tests run fast and only the faults under test bite. */
export const TEST_RESILIENCE: Partial<ResilienceOptions> = {
  retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 10_000 },
  breaker: { failureThreshold: 3, coolDownMs: 300 },
  attemptTimeoutMs: 5_000,
  rateLimits: { read: { ratePerSecond: 10_000, burst: 10_000 }, write: { ratePerSecond: 10_000, burst: 10_000 } },
};

/** A running emulator and a driver built through the container, pointed at it. */
export interface AwsFixture {
  readonly emu: AwsEmulator;
  readonly provider: CloudProvider;
  stop(): Promise<void>;
}

/** Starts an emulator on 127.0.0.1:0 and builds the 'aws' driver for it through the container. */
export async function startAws(
  options: AwsEmulatorOptions = {},
  driver: Partial<AwsDriverConfig> = {},
  resilience: Partial<ResilienceOptions> = TEST_RESILIENCE,
): Promise<AwsFixture> {
  const emu = await new AwsEmulator({ pendingMs: 50, ...options }).start();
  const container = createProviderContainer({
    aws: { endpoint: emu.url, credentials: { ...TEST_CREDENTIALS.aws }, ...driver },
    resilience,
  });
  const provider = providerFor(container, 'aws');
  return {
    emu, provider,
    stop: async () => {
      if (provider instanceof AwsProvider) provider.destroy();
      await emu.stop();
    },
  };
}

/** A valid spec in us-east-1; override what the test is about. */
export function spec(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't3.micro', image: 'ami-0abcdef1234567890',
    tags: { team: 'blue' }, idempotencyKey: `key-${Math.random().toString(36).slice(2)}`, ...overrides,
  };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
