/**
 * Driver + emulator throughput: per cloud, start that cloud's emulator, create N instances through
 * the driver with bounded concurrency, then terminate them all, and report operations per second
 * and per-operation latency. Standalone:
 *
 *   node dist/test/bench/providers.bench.js [--instances 1000] [--clouds aws,azure,alibaba] [--concurrency 32]
 *
 * The resilience layer's client-side rate limits are raised far above their defaults (which keep
 * real clouds happy at about 10 writes/s) so the figures measure the driver, SDK and emulator.
 */
import 'reflect-metadata';
import type { ProvidersConfig } from '../../providers/config';
import { createProviderContainer, providerFor } from '../../providers/drivers';
import { AlibabaEmulator } from '../../providers/emulator/alibaba';
import { AwsEmulator } from '../../providers/emulator/aws';
import { AzureEmulator } from '../../providers/emulator/azure';
import { TEST_CREDENTIALS, type CloudEmulator, type EmulatorOptions } from '../../providers/emulator/core';
import { DEFAULT_RESILIENCE, type ResilienceOptions } from '../../providers/resilience';
import { CLOUD_IDS, type CloudId, type InstanceSpec } from '../../providers/types';

/** Latency summary of one operation, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** One cloud's figures. */
export interface Result {
  readonly cloud: CloudId;
  readonly instances: number;
  readonly concurrency: number;
  /** Wall time of the create phase plus the terminate phase. */
  readonly elapsedMs: number;
  /** Successful creates plus terminates per second of wall time. */
  readonly opsPerSecond: number;
  readonly create: LatencySummary;
  readonly terminate: LatencySummary;
  /** First error message seen, if any operation failed. */
  readonly firstError?: string;
}

/** Options of one benchmark run. */
export interface BenchOptions {
  readonly instances: number;
  readonly clouds: readonly CloudId[];
  /** Operations in flight at once (default 32). */
  readonly concurrency?: number;
}

/** Client-side rate limits high enough never to be the bottleneck. */
export const BENCH_RESILIENCE: Partial<ResilienceOptions> = {
  ...DEFAULT_RESILIENCE,
  rateLimits: { read: { ratePerSecond: 1_000_000, burst: 1_000_000 }, write: { ratePerSecond: 1_000_000, burst: 1_000_000 } },
};

/** What the bench needs of each cloud: its emulator, the driver settings for it, and a valid spec. */
interface CloudSetup {
  emulator(options: EmulatorOptions): CloudEmulator;
  config(url: string): ProvidersConfig;
  spec(n: number): InstanceSpec;
}

const base = (cloud: CloudId, region: string, size: string, image: string, n: number): InstanceSpec => ({
  workload: 'bench', cloud, region, size, image, tags: { purpose: 'bench' }, idempotencyKey: `bench-${cloud}-${n}`,
});

const SETUPS: Readonly<Record<CloudId, CloudSetup>> = {
  aws: {
    emulator: (o) => new AwsEmulator(o),
    config: (url) => ({ aws: { endpoint: url, credentials: { ...TEST_CREDENTIALS.aws } } }),
    spec: (n) => base('aws', 'us-east-1', 't3.micro', 'ami-0abcdef1234567890', n),
  },
  azure: {
    emulator: (o) => new AzureEmulator(o),
    config: (url) => ({ azure: { endpoint: url, ...TEST_CREDENTIALS.azure } }),
    spec: (n) => base('azure', 'eastus', 'Standard_B1s', 'Canonical:ubuntu-24_04-lts:server:latest', n),
  },
  alibaba: {
    emulator: (o) => new AlibabaEmulator(o),
    config: (url) => ({ alibaba: { endpoint: url, ...TEST_CREDENTIALS.alibaba } }),
    spec: (n) => base('alibaba', 'cn-hangzhou', 'ecs.t6-c1m1.large', 'aliyun_3_x64_20G_alibase_20240528.vhd', n),
  },
};

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  // Nearest-rank percentile.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

function summarize(latencies: number[], failed: number): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { count: sorted.length, failed, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0) };
}

/** Runs `fn` for 0..count-1 with at most `limit` in flight; returns the latencies of the successes. */
async function timed(count: number, limit: number, fn: (i: number) => Promise<unknown>, onError: (err: unknown) => void): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        await fn(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        failed++;
        onError(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  return { latencies, failed };
}

async function benchCloud(cloud: CloudId, instances: number, concurrency: number): Promise<Result> {
  const setup = SETUPS[cloud];
  const emulator = await setup.emulator({ pendingMs: 50 }).start();
  const container = createProviderContainer({ ...setup.config(emulator.url), resilience: BENCH_RESILIENCE });
  const provider = providerFor(container, cloud);
  let firstError: string | undefined;
  const onError = (err: unknown) => { firstError ??= err instanceof Error ? err.message : String(err); };
  try {
    const ids: string[] = new Array<string>(instances);
    const t0 = performance.now();
    const created = await timed(instances, concurrency, async (i) => { ids[i] = (await provider.createInstance(setup.spec(i))).id; }, onError);
    const terminated = await timed(instances, concurrency, async (i) => {
      if (ids[i] === undefined) throw new Error(`instance ${i} was not created`);
      await provider.terminateInstance(setup.spec(i).region, ids[i]);
    }, onError);
    const elapsedMs = performance.now() - t0;
    const ok = created.latencies.length + terminated.latencies.length;
    return {
      cloud, instances, concurrency, elapsedMs: Math.round(elapsedMs),
      opsPerSecond: Math.round((ok / (elapsedMs / 1000)) * 10) / 10,
      create: summarize(created.latencies, created.failed),
      terminate: summarize(terminated.latencies, terminated.failed),
      ...(firstError !== undefined ? { firstError } : {}),
    };
  } finally {
    // Drivers that cache SDK clients expose destroy() to close their sockets.
    const closable = provider as unknown as { destroy?: () => void };
    if (typeof closable.destroy === 'function') closable.destroy();
    await emulator.stop();
  }
}

/** Benchmarks each cloud in turn (never in parallel, so they do not compete for the CPU). */
export async function benchProviders(opts: BenchOptions): Promise<Result[]> {
  if (!Number.isInteger(opts.instances) || opts.instances < 1) throw new RangeError(`instances must be a positive integer, got ${opts.instances}`);
  const concurrency = opts.concurrency ?? 32;
  const results: Result[] = [];
  for (const cloud of opts.clouds) results.push(await benchCloud(cloud, opts.instances, concurrency));
  return results;
}

/** Renders results as a fixed-width table. */
export function formatTable(results: readonly Result[]): string {
  const header = ['cloud', 'instances', 'conc', 'ops/s', 'create p50', 'create p99', 'term p50', 'term p99', 'failed', 'wall ms'];
  const rows = results.map((r) => [
    r.cloud, String(r.instances), String(r.concurrency), r.opsPerSecond.toFixed(1),
    r.create.p50.toFixed(1), r.create.p99.toFixed(1), r.terminate.p50.toFixed(1), r.terminate.p99.toFixed(1),
    String(r.create.failed + r.terminate.failed), String(r.elapsedMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function parseArgs(argv: readonly string[]): BenchOptions {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const instances = Number(value('--instances') ?? 1000);
  const concurrency = Number(value('--concurrency') ?? 32);
  const clouds = (value('--clouds') ?? CLOUD_IDS.join(',')).split(',').map((c) => c.trim()).filter(Boolean);
  const unknown = clouds.filter((c) => !(CLOUD_IDS as readonly string[]).includes(c));
  if (unknown.length) throw new Error(`--clouds: unknown cloud(s) ${unknown.join(', ')}; expected some of ${CLOUD_IDS.join(', ')}`);
  if (!Number.isInteger(instances) || instances < 1) throw new Error('--instances: expected a positive integer');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency: expected a positive integer');
  return { instances, concurrency, clouds: clouds as CloudId[] };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  process.stdout.write(`providers bench: ${opts.instances} creates + ${opts.instances} terminates per cloud, concurrency ${opts.concurrency ?? 32}; ` +
    'client-side rate limits raised to 1e6/s so the driver, SDK and emulator are measured, not the token bucket\n');
  const results = await benchProviders(opts);
  process.stdout.write(`${formatTable(results)}\n`);
  for (const r of results) if (r.firstError) process.stdout.write(`${r.cloud}: first error: ${r.firstError}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'providers', node: process.version, results })}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`providers bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
