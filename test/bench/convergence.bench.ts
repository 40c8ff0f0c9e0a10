// Convergence benchmark: time for the scheduler to bring N instances (3,000 by default) to running
// across the three emulators, with the drivers' default rate limits, against the lower bound those
// limits set: each cloud's creates pass its write token bucket (burst, then `ratePerSecond`), and
// the last instance then needs the emulators' pending time to reach running.
// Standalone: `node dist/test/bench/convergence.bench.js [--instances 3000]`.
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { ResilienceOptions } from '../../providers';
import { DEFAULT_RESILIENCE } from '../../providers/resilience';
import { startEmulators } from '../../providers/emulator';
import { loadSchedulerConfig } from '../../scheduler/config';
import type { Workload } from '../../scheduler/placement/types';
import { createScheduler } from '../../scheduler/service';
import { documentValidation } from '../../scheduler/wiring';
import { smallWorkload, tempDataDir, threeCloudPolicy } from '../scheduler/e2e/helpers';

/** Options of `benchConvergence`. */
export interface ConvergenceBenchOptions {
  /** Instances to converge (default 3,000), spread over two regions of each cloud. */
  readonly instances?: number;
  /** Emulators' create-to-running time (default 2,000 ms, their default). */
  readonly pendingMs?: number;
  /** Give up after this long (default 600 s). */
  readonly timeoutSeconds?: number;
  readonly log?: (line: string) => void;
  /** A PostgreSQL store URL (`scheduler.store.url`) instead of SQLite in a temporary directory. */
  readonly storeUrl?: string;
  /** Driver resilience settings instead of the defaults (the bound is then not computed from them). */
  readonly resilience?: Partial<ResilienceOptions>;
}

/** What `benchConvergence` measured. */
export interface ConvergenceBenchResult {
  readonly instances: number;
  /** From apply to every instance running and the workload converged. */
  readonly seconds: number;
  /** The bound the write rate limits set (slowest cloud), plus the pending time. */
  readonly boundSeconds: number;
  /** seconds / boundSeconds: 1.0 means the scheduler adds nothing to what the limits allow. */
  readonly ratioToBound: number;
  /** Instances per second over the whole run. */
  readonly instancesPerSecond: number;
  /** Cloud calls the reconciler made, by `cloud operation outcome`. */
  readonly calls: Readonly<Record<string, number>>;
  readonly loadAverage: number;
}

/** Runs the benchmark once. */
export async function benchConvergence(opts: ConvergenceBenchOptions = {}): Promise<ConvergenceBenchResult> {
  const instances = opts.instances ?? 3_000;
  const pendingMs = opts.pendingMs ?? 2_000;
  const log = opts.log ?? (() => undefined);
  const emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs, ...(opts.resilience ? { resilience: opts.resilience } : {}) });
  const dataDir = tempDataDir('bench');
  const config = loadSchedulerConfig({
    dataDir, api: { token: 'bench-token-0123456789', port: 0 },
    reconciler: { intervalMs: 250, refreshIntervalSeconds: 5, concurrencyPerRegion: 32 },
    ...(opts.storeUrl ? { store: { url: opts.storeUrl } } : {}),
  });
  const svc = await createScheduler({ config, providers: emus.providersConfig, log });
  try {
    const perRegion = Math.ceil(instances / 6);
    const policy = documentValidation.parsePolicy(threeCloudPolicy('bench', perRegion));
    const workload = documentValidation.parseWorkload(smallWorkload('bench', instances, 'bench'));
    if (!policy.ok || !workload.ok) throw new Error('benchmark documents are invalid');
    await svc.store.putPolicy('bench', policy.value);
    const t0 = Date.now();
    await svc.store.putWorkload(workload.value as Workload);
    const { lease } = svc;
    if (lease) {
      // A shared store: the reconciler runs while this scheduler holds the lease.
      lease.onAcquired(() => { void svc.reconciler.start(); });
      await lease.start();
    } else {
      await svc.reconciler.start();
    }
    const until = t0 + (opts.timeoutSeconds ?? 600) * 1000;
    let lastLog = 0;
    for (;;) {
      const s = await svc.reconciler.status('bench');
      if (s?.converged) break;
      if (Date.now() > until) throw new Error(`not converged after ${opts.timeoutSeconds ?? 600} s: ${JSON.stringify(s)}`);
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        const byCloud: Record<string, string> = {};
        for (const c of ['aws', 'azure', 'alibaba']) {
          const recs = (await svc.store.listRecords('bench')).filter((r) => r.cloud === c);
          byCloud[c] = `${recs.filter((r) => r.cloudState === 'running').length}/${recs.filter((r) => r.instanceId).length}/${recs.length}`;
        }
        log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: ${s?.ready ?? 0}/${instances} ready, ${s?.pending ?? 0} pending; running/created/recorded by cloud ${JSON.stringify(byCloud)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const seconds = (Date.now() - t0) / 1000;
    // The slowest cloud holds the most replicas; its writes drain at the bucket's rate after the burst.
    const perCloud = new Map<string, number>();
    for (const a of (await svc.store.getWorkload('bench'))?.applied?.assignments ?? []) perCloud.set(a.cloud, (perCloud.get(a.cloud) ?? 0) + a.replicas);
    const { ratePerSecond, burst } = DEFAULT_RESILIENCE.rateLimits.write;
    const boundSeconds = Math.max(...[...perCloud.values()].map((n) => Math.max(0, n - burst) / ratePerSecond)) + pendingMs / 1000;
    const calls: Record<string, number> = {};
    for (const line of (await svc.metrics.expose()).split('\n')) {
      const m = /^meridian_cloud_calls_total\{cloud="([^"]+)",region="[^"]+",operation="([^"]+)",outcome="([^"]+)"\} (\d+)/.exec(line);
      if (m) calls[`${m[1]} ${m[2]} ${m[3]}`] = (calls[`${m[1]} ${m[2]} ${m[3]}`] ?? 0) + Number(m[4]);
    }
    return {
      instances, seconds, boundSeconds, ratioToBound: seconds / boundSeconds, instancesPerSecond: instances / seconds,
      calls, loadAverage: loadavg()[0],
    };
  } finally {
    await svc.stop();
    await emus.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--instances');
  const instances = i > 0 ? Number(process.argv[i + 1]) : undefined;
  benchConvergence({ instances, log: (l) => process.stdout.write(`${l}\n`) }).then((r) => {
    process.stdout.write(`convergence of ${r.instances} instances over 3 emulators: ${r.seconds.toFixed(1)} s ` +
      `(bound set by the write rate limits: ${r.boundSeconds.toFixed(1)} s, ratio ${r.ratioToBound.toFixed(2)}), ` +
      `${r.instancesPerSecond.toFixed(1)} instances/s, calls ${JSON.stringify(r.calls)}, load average ${r.loadAverage.toFixed(1)}\n`);
  }, (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
