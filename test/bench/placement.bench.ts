// Placement benchmark: place 10,000 workloads over the whole provider catalog (every region of
// the three clouds), under the example policies plus generated ones, and report workloads placed
// per second (median of the runs). Standalone: `node dist/test/bench/placement.bench.js [--workloads N] [--runs N]`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOUD_IDS, listRegions, type Arch } from '../../providers';
import { loadDocuments, parsePolicy, type RegionPolicy } from '../../policies';
import { place, providerCatalog, type Placement, type Workload } from '../../scheduler/placement';

/** Options: workload count and number of timed runs. */
export interface PlacementBenchOptions {
  readonly workloads?: number;
  readonly runs?: number;
  readonly log?: (line: string) => void;
}

/** What `benchPlacement` measured. */
export interface PlacementBenchResult {
  readonly workloads: number;
  readonly regions: number;
  readonly policies: number;
  /** Median over the runs of workloads placed per wall-clock second. */
  readonly workloadsPerSecond: number;
  /** Median over the runs of workloads placed per CPU-second of this process (steadier on a shared machine). */
  readonly workloadsPerCpuSecond: number;
  readonly runs: readonly number[];
  /** Placements that succeeded / that named an unmet constraint (both are valid outcomes). */
  readonly placed: number;
  readonly unsatisfiable: number;
  /** Workloads re-placed with their current placement (the reconciler's steady-state call), per second. */
  readonly replacementsPerSecond: number;
}

// A small deterministic generator, so every run places the same workloads.
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function examplePolicies(): RegionPolicy[] {
  const dir = join(__dirname, '..', '..', '..', 'policies', 'examples');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => {
    const r = loadDocuments(readFileSync(join(dir, f), 'utf8'));
    if (!r.ok) throw new Error(`${f}: ${JSON.stringify(r.errors)}`);
    return r.value.policies;
  });
}

function generatedPolicies(): RegionPolicy[] {
  const specs: unknown[] = [
    { objective: 'cost' },
    { objective: 'latency', demand: [{ country: 'US', share: 0.6 }, { country: 'BR', share: 0.4 }], spread: { minRegions: 2 } },
    { residency: { continents: ['AS', 'OC'] }, spread: { minClouds: 2, maxPerRegion: '50%' }, objective: 'balanced' },
    { clouds: { allow: ['aws', 'azure'] }, regions: { deny: ['*gov*', 'cn-*', 'china*'] }, spread: { minClouds: 2, minRegions: 4, maxPerRegion: 5 }, weights: [{ by: 'cloud', aws: 3, azure: 1 }] },
  ];
  return specs.map((spec, i) => {
    const r = parsePolicy({ apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: `bench-${i}` }, spec });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.value;
  });
}

function workloads(n: number, policies: readonly RegionPolicy[]): { w: Workload; p: RegionPolicy }[] {
  const rnd = xorshift(20261123);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  return Array.from({ length: n }, (_, i) => {
    const clouds = rnd() < 0.7 ? CLOUD_IDS : CLOUD_IDS.filter(() => rnd() < 0.6);
    const arch: Arch | undefined = rnd() < 0.8 ? undefined : pick(['x86_64', 'arm64'] as const);
    const p = policies[i % policies.length];
    const w: Workload = {
      name: `w${i}`, replicas: pick([1, 2, 3, 5, 8, 12, 20, 40, 100]), policy: p.metadata.name,
      size: { vcpu: pick([1, 2, 2, 4, 8, 16]), memoryGiB: pick([1, 2, 4, 8, 16, 32, 64]), ...(arch ? { arch } : {}) },
      image: Object.fromEntries((clouds.length > 0 ? clouds : CLOUD_IDS).map((c) => [c, `img-${c}`])),
    };
    return { w, p };
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Places `workloads` workloads (10,000 by default) over the whole catalog, `runs` times (5 by default). */
export async function benchPlacement(options: PlacementBenchOptions = {}): Promise<PlacementBenchResult> {
  const n = options.workloads ?? 10_000;
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => undefined);
  const policies = [...examplePolicies(), ...generatedPolicies()];
  const jobs = workloads(n, policies);
  const catalog = providerCatalog();
  // Warm-up: size tables per region are read once per process, as in the scheduler.
  for (const { w, p } of jobs.slice(0, 200)) place(w, p, {}, { catalog });

  const wall: number[] = [];
  const cpu: number[] = [];
  let placed = 0;
  let unsatisfiable = 0;
  const current: (Placement | undefined)[] = new Array(n);
  for (let run = 0; run < runs; run++) {
    placed = 0;
    unsatisfiable = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const r = place(jobs[i].w, jobs[i].p, {}, { catalog });
      if (r.ok) { placed++; current[i] = r.placement; } else unsatisfiable++;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(cpu0);
    wall.push(n / seconds);
    cpu.push(n / ((c.user + c.system) / 1e6));
    log(`run ${run + 1}: ${Math.round(n / seconds)} workloads/s (${seconds.toFixed(2)} s)`);
    // Yield between runs so a caller's timers and I/O are not starved.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) place(jobs[i].w, jobs[i].p, { current: current[i] }, { catalog });
  const replacementsPerSecond = n / (Number(process.hrtime.bigint() - t1) / 1e9);
  return {
    workloads: n, regions: listRegions().length, policies: policies.length,
    workloadsPerSecond: Math.round(median(wall)), workloadsPerCpuSecond: Math.round(median(cpu)), runs: wall.map(Math.round),
    placed, unsatisfiable, replacementsPerSecond: Math.round(replacementsPerSecond),
  };
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (require.main === module) {
  benchPlacement({ workloads: arg('workloads'), runs: arg('runs'), log: (l) => console.log(l) }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => { console.error(err); process.exitCode = 1; },
  );
}
