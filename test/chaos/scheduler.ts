/**
 * The scheduler of the chaos run: the three cloud emulators in this process, the scheduler as a
 * child (`meridian serve`) over them, SIGKILLed and started again on the same port and data
 * folder. The world's workloads are applied through its API with a policy each that allows
 * exactly the workload's regions, one replica per region, so the placement is the world's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulators, type RunningEmulators } from '../../providers/emulator';
import { regionsOf, WORKLOAD_NAMES } from './world';

/** A region of a workload as the GeoDNS serves it: the addresses its instances answer with. */
export interface ServedRegion {
  readonly region: string;
  readonly addresses: readonly string[];
}

/** The emulators and the scheduler process. */
export class ChaosScheduler {
  port = 0;
  readonly token = randomBytes(24).toString('base64url');
  private emulators: RunningEmulators | undefined;
  private proc: ChildProcess | undefined;
  private output = '';
  private configFile = '';

  constructor(private readonly stateDir: string) {}

  /** The scheduler's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the emulators (instances running 200 ms after creation) and the scheduler. */
  async start(): Promise<void> {
    this.emulators = await startEmulators({ host: '127.0.0.1', ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 200, stateDir: join(this.stateDir, 'emulators') });
    this.configFile = join(this.stateDir, 'scheduler.json');
    writeFileSync(this.configFile, JSON.stringify({
      scheduler: { dataDir: join(this.stateDir, 'scheduler'), dnsZones: ['meridian.test'], reconciler: { intervalMs: 200, refreshIntervalSeconds: 1 } },
      providers: this.emulators.providersConfig,
    }));
    await this.spawn();
  }

  /** Starts the scheduler process (on the port of the previous one after a kill) and resolves once it listens. */
  async spawn(timeoutMs = 60_000): Promise<void> {
    const entry = resolve(__dirname, '..', '..', 'scheduler', 'cli', 'main.js');
    const proc = spawn(process.execPath, [entry, 'serve', '--config', this.configFile, '--host', '127.0.0.1', '--port', String(this.port), '--token', this.token, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.output = '';
    proc.stderr!.on('data', (b: Buffer) => { this.output = (this.output + b.toString()).slice(-20_000); });
    const ready = await new Promise<{ port: number }>((res, rej) => {
      let line = '';
      const timer = setTimeout(() => rej(new Error(`the scheduler did not listen within ${timeoutMs} ms: ${this.output}`)), timeoutMs);
      proc.stdout!.on('data', (b: Buffer) => {
        line += b.toString();
        const nl = line.indexOf('\n');
        if (nl >= 0) { clearTimeout(timer); res(JSON.parse(line.slice(0, nl)) as { port: number }); }
      });
      proc.once('exit', (code) => { clearTimeout(timer); rej(new Error(`the scheduler exited with ${code}: ${this.output}`)); });
    });
    this.port = ready.port;
  }

  /** Applies a policy and a workload per world workload. */
  async apply(): Promise<void> {
    for (const [w, name] of WORKLOAD_NAMES.entries()) {
      const regions = regionsOf(w);
      const clouds = [...new Set(regions.map((r) => r.cloud))];
      const policy = {
        apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: `chaos-${name}` },
        spec: {
          clouds: { allow: clouds }, regions: { allow: regions.map((r) => r.region) },
          spread: { minRegions: regions.length, maxPerRegion: `${Math.ceil(100 / regions.length)}%` },
          objective: 'latency', demand: regions.map((r) => ({ country: r.country, share: 1 / regions.length })),
        },
      };
      await this.call('PUT', `/v1/policies/chaos-${name}`, policy);
      const workload = {
        apiVersion: 'meridian/v1', kind: 'Workload', metadata: { name },
        spec: {
          replicas: regions.length, size: { vcpu: 2, memoryGiB: 4 },
          image: { aws: 'ami-0a1b2c3d4e5f60718', azure: 'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest' },
          policy: `chaos-${name}`, dns: { name: `${name}.meridian.test`, ttl: 30 },
        },
      };
      await this.call('PUT', `/v1/workloads/${name}`, workload);
    }
  }

  private async call(method: string, path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, {
      method, headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  }

  /** SIGKILL: the scheduler is gone without a word to its watchers. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }

  /** The last lines it printed (for errors). */
  log(): string {
    return this.output;
  }

  /** SIGTERM the scheduler (SIGKILL after 5 s), then stop the emulators. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    await this.emulators?.stop();
  }
}
