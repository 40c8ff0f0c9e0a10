import type { Container } from 'inversify';
import { createProviderContainer, providerFor } from '../../../providers/drivers';
import type { ResilienceOptions } from '../../../providers/resilience';
import type { CloudProvider, InstanceSpec } from '../../../providers/types';
import { EmulatorAdmin, TEST_CREDENTIALS } from '../../../providers/emulator/core';
import { AlibabaEmulator, type AlibabaEmulatorOptions } from '../../../providers/emulator/alibaba';

/** Small delays so retries and breakers play out in milliseconds. */
export const TEST_RESILIENCE: Partial<ResilienceOptions> = {
  retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 10_000 },
  breaker: { failureThreshold: 3, coolDownMs: 300 },
  attemptTimeoutMs: 5_000,
  rateLimits: { read: { ratePerSecond: 10_000, burst: 10_000 }, write: { ratePerSecond: 10_000, burst: 10_000 } },
};

/** A running emulator with a driver pointed at it. */
export interface AlibabaFixture {
  readonly emu: AlibabaEmulator;
  readonly admin: EmulatorAdmin;
  readonly container: Container;
  readonly provider: CloudProvider;
  /** A driver with other keys, against the same emulator. */
  providerWith(keys: { accessKeyId: string; accessKeySecret: string }): CloudProvider;
  stop(): Promise<void>;
}

/** Starts an emulator on 127.0.0.1, port 0, and builds a container for it. */
export async function startAlibaba(options: AlibabaEmulatorOptions = {}, resilience: Partial<ResilienceOptions> = TEST_RESILIENCE): Promise<AlibabaFixture> {
  const emu = await new AlibabaEmulator({ pendingMs: 50, ...options }).start();
  const containerFor = (keys: { accessKeyId: string; accessKeySecret: string }) =>
    createProviderContainer({ alibaba: { endpoint: emu.url, ...keys }, resilience });
  const container = containerFor(TEST_CREDENTIALS.alibaba);
  return {
    emu,
    admin: new EmulatorAdmin(emu.url),
    container,
    provider: providerFor(container, 'alibaba'),
    providerWith: (keys) => providerFor(containerFor(keys), 'alibaba'),
    stop: () => emu.stop(),
  };
}

/** A valid spec in cn-hangzhou; override what a test is about. */
export function spec(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    workload: 'web', cloud: 'alibaba', region: 'cn-hangzhou', size: 'ecs.g7.large',
    image: 'aliyun_3_x64_20G_alibase_20240528.vhd', tags: { team: 'edge' }, idempotencyKey: `key-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  };
}

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Calls of one operation, by outcome. */
export function calls(emu: AlibabaEmulator, operation: string): Record<string, number> {
  return emu.callStats()[operation] ?? {};
}

/** Total calls of one operation. */
export function callCount(emu: AlibabaEmulator, operation: string): number {
  return Object.values(calls(emu, operation)).reduce((a, b) => a + b, 0);
}
