import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MERIDIAN_TAGS, type CloudId, type ResilienceOptions } from '../../../providers';
import { EmulatorAdmin, type RunningEmulators } from '../../../providers/emulator';

/**
 * Resilience settings that keep emulator tests fast. The per-attempt timeout is the driver's
 * default (30 s): these tests inject region failures as the clouds' own error answers, and an
 * attempt that is slow only because the machine is busy (the emulators share the test's process)
 * must not make a healthy region look down, or replicas move away from it and the work grows.
 */
export const FAST_RESILIENCE: Partial<ResilienceOptions> = {
  retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2_000 },
  breaker: { failureThreshold: 3, coolDownMs: 500 },
  attemptTimeoutMs: 30_000,
  rateLimits: { read: { ratePerSecond: 10_000, burst: 10_000 }, write: { ratePerSecond: 10_000, burst: 10_000 } },
};

/** A fresh temporary data directory. */
export function tempDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `meridian-${prefix}-`));
}

/** One live (not terminated) instance an emulator holds. */
export interface LiveInstance {
  readonly cloud: CloudId;
  readonly id: string;
  readonly region: string;
  readonly type: string;
  readonly state: string;
  readonly tags: Record<string, string>;
  readonly publicIp?: string;
}

/** Admin clients of the three emulators. */
export function admins(emus: RunningEmulators): Record<CloudId, EmulatorAdmin> {
  return { aws: new EmulatorAdmin(emus.aws.url), azure: new EmulatorAdmin(emus.azure.url), alibaba: new EmulatorAdmin(emus.alibaba.url) };
}

/** Every live instance of a workload across the three emulators, read through their admin APIs. */
export async function liveInstances(emus: RunningEmulators, workload?: string): Promise<LiveInstance[]> {
  const out: LiveInstance[] = [];
  for (const [cloud, admin] of Object.entries(admins(emus)) as Array<[CloudId, EmulatorAdmin]>) {
    for (const i of await admin.instances()) {
      if (i.state === 'terminated' || i.state === 'shutting-down') continue;
      if (workload !== undefined && i.tags[MERIDIAN_TAGS.workload] !== workload) continue;
      out.push({ cloud, id: i.id, region: i.region, type: i.type, state: i.state, tags: i.tags, publicIp: i.publicIp });
    }
  }
  return out;
}

/** Counts by `cloud/region`. */
export function countByRegion(instances: readonly LiveInstance[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of instances) out[`${i.cloud}/${i.region}`] = (out[`${i.cloud}/${i.region}`] ?? 0) + 1;
  return out;
}

/** A policy over two regions of each cloud, at most `maxPerRegion` replicas in any. */
export function threeCloudPolicy(name: string, maxPerRegion: number) {
  return {
    apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name },
    spec: {
      regions: { allow: ['aws:us-east-1', 'aws:eu-central-1', 'azure:eastus', 'azure:westeurope', 'alibaba:cn-hangzhou', 'alibaba:eu-central-1'] },
      spread: { minClouds: 3, maxPerRegion },
      objective: 'cost',
      failover: { order: [['aws:us-east-1', 'azure:eastus', 'alibaba:eu-central-1']], failback: true, provisionTimeoutSeconds: 30 },
    },
  };
}

/** A workload with one small instance type per cloud. */
export function smallWorkload(name: string, replicas: number, policy: string, image = 'v1') {
  return {
    name, replicas, policy,
    size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
    image: { aws: `ami-0000000000000${image === 'v1' ? '0001' : '0002'}`, azure: `Canonical:ubuntu:22_04-lts:${image}`, alibaba: `ubuntu_22_04_x64_${image}` },
    dns: { name: `${name}.meridian.test`, ttl: 30 },
  };
}

/** A `meridian serve` process a test starts, stops and starts again. */
export interface ServeProcess {
  readonly name: string;
  proc?: ChildProcess;
  /** Its API's URL, once it has printed it. */
  url?: string;
  /** Resolves when the process has exited. */
  exited?: Promise<void>;
  /** The last 6,000 characters of its stderr (its log), for failure messages. */
  err: string;
}

const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');

/** Starts `meridian serve --config FILE --json` for `r`, resolving once it has printed its URL (within 60 s). */
export async function launchServe(r: ServeProcess, configFile: string): Promise<void> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--config', configFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  r.proc = proc;
  r.err = '';
  r.url = undefined;
  proc.stderr?.on('data', (c: Buffer) => { r.err = (r.err + c.toString()).slice(-6000); });
  r.exited = new Promise<void>((res) => proc.once('exit', () => res()));
  r.url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${r.name} did not start within 60 s: ${r.err}`)), 60_000);
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); res((JSON.parse(out.slice(0, nl)) as { url: string }).url); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); rej(new Error(`${r.name} exited with ${code}: ${r.err}`)); });
  });
}
