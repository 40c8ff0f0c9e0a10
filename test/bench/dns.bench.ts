// GeoDNS benchmark: dnsperf with a different random ECS /24 in every query, against Meridian's
// server and gdnsd 3 (geoip plugin, same regions) in the same run. Reports queries per server
// CPU-second and their ratio, average and p99 latency at a fixed rate, RSS, and how often the two
// servers pick the same region.
// Standalone: `node dist/test/bench/dns.bench.js [--seconds 10] [--qps 10000] [--rounds 3]
//   [--servers gdnsd,meridian,meridian-dgram] [--no-cluster]`. meridian-dgram is Meridian over node:dgram instead of batched UDP.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDnsperf, runningDnsperf, type DnsperfResult } from './dns/dnsperf';
import { extractMmdb, writeGdnsdConfig } from './dns/gdnsd';
import { probe, waitUntilAnswering } from './dns/probe';
import { cpuSeconds, memoryMiB, treeCpuSeconds, treeRssMiB } from './dns/proc';
import { randomSubnets, writeQueryFile } from './dns/queries';
import { benchRegions, BENCH_NAME, type BenchRegion } from './dns/regions';
import type { UdpTransport } from '../../dns';

/** Which servers to run. */
export type BenchServer = 'gdnsd' | 'meridian' | 'meridian-dgram';
const BENCH_SERVERS: readonly BenchServer[] = ['gdnsd', 'meridian', 'meridian-dgram'];

/** Options of `benchDns`. */
export interface DnsBenchOptions {
  /** Length of each measured dnsperf run, seconds (default 10). */
  readonly seconds?: number;
  /** Rate of the fixed-rate run (default 10,000 QPS). */
  readonly fixedQps?: number;
  /** Distinct queries in the input file (default 1,000,000; dnsperf loops over it). */
  readonly queries?: number;
  /** Rounds; each starts every server afresh and measures it, alternating the order (default 3). Figures are medians. */
  readonly rounds?: number;
  /** Subnets probed one by one on each server to compare their choices (default 2,000). */
  readonly agreementProbes?: number;
  readonly servers?: readonly BenchServer[];
  /** Also measure Meridian with 1 and 2 cluster workers, unpinned (default true). */
  readonly cluster?: boolean;
  readonly log?: (line: string) => void;
}

/** Meridian with N cluster workers, server and dnsperf unpinned on the machine's cores. */
export interface ClusterFigures {
  readonly workers: number;
  readonly error?: string;
  readonly qps?: number;
  readonly lost?: number;
  /** CPU of the primary and every worker. */
  readonly serverCpuSeconds?: number;
  readonly queriesPerCpuSecond?: number;
  readonly rssMiB?: number;
}

/** Figures for one server. */
export interface ServerFigures {
  readonly server: BenchServer;
  readonly error?: string;
  readonly startupMs?: number;
  readonly max?: DnsperfResult & { readonly serverCpuSeconds: number; readonly queriesPerCpuSecond: number };
  readonly fixed?: DnsperfResult & { readonly serverCpuSeconds: number };
  readonly rssMiB?: number;
  readonly peakRssMiB?: number;
  /** A record answered for each agreement probe ('' when none). */
  readonly answers?: readonly string[];
  /** Rounds these figures are the median of. */
  readonly rounds?: number;
}

/** The whole run. */
export interface DnsBenchResult {
  readonly servers: readonly ServerFigures[];
  /** Meridian's queries per CPU-second over gdnsd's: the median of the rounds' ratios. */
  readonly ratioPerCpuSecond?: number;
  /** Each round's ratio. */
  readonly roundRatios?: readonly number[];
  /** Share of probes where both servers answered the same region. */
  readonly agreement?: number;
  readonly goals: { readonly ratio: boolean | null; readonly p99: boolean | null; readonly rss: boolean | null };
  /** Meridian with 1 and 2 cluster workers, when measured. */
  readonly cluster?: readonly ClusterFigures[];
  readonly loadAverage: readonly number[];
}

const MERIDIAN_SCRIPT = join(__dirname, 'dns', 'meridian-server.js');
/** Prefixes in Meridian's hot-prefix cache when it starts answering. */
const CACHE_PREFIXES = 2_000_000;

// With two or more CPUs the server runs on CPU 0 and dnsperf on CPU 1 (taskset execs, so the pid
// stays the server's): the load generator does not steal the server's CPU or caches.
const PIN = availableParallelism() >= 2;
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

function pinned(cmd: string, args: readonly string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', String(SERVER_CPU), cmd, ...args]] : [cmd, [...args]];
}

/** A TCP port that was free for UDP too a moment ago (gdnsd takes its port from its config file). */
function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => {
        const udp = createSocket('udp4');
        udp.once('error', () => { udp.close(); freePort().then(resolve, reject); });
        udp.bind(port, '127.0.0.1', () => udp.close(() => resolve(port)));
      });
    });
  });
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function stop(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => { if (alive(child)) child.kill('SIGKILL'); }, 5_000);
  await exited;
  clearTimeout(timer);
}

function tail(buf: string[]): string {
  return buf.join('').split('\n').slice(-8).join('\n');
}

/** Attempts at starting gdnsd, each on another port, before giving up. */
const GDNSD_START_ATTEMPTS = 5;

// gdnsd cannot bind port 0 and report it: it gets a port that was free just before, and if that
// port is taken meanwhile (gdnsd exits without answering) it is started again on another.
async function startGdnsd(dir: string, regions: readonly BenchRegion[], log: (l: string) => void): Promise<{ child: ChildProcess; port: number; stderr: string[] }> {
  const mmdb = await extractMmdb(dir);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = writeGdnsdConfig(dir, port, mmdb, regions);
    const stderr: string[] = [];
    const [cmd, args] = pinned('/usr/sbin/gdnsd', ['-c', conf, 'start']);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c: Buffer) => stderr.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
    try {
      await waitUntilAnswering(port, BENCH_NAME, 60_000, () => alive(child));
    } catch (err) {
      await stop(child);
      if (attempt >= GDNSD_START_ATTEMPTS) throw new Error(`gdnsd did not start in ${attempt} attempts: ${(err as Error).message}\n${tail(stderr)}`);
      log(`  gdnsd on 127.0.0.1:${port} did not start (${(err as Error).message}); trying another port`);
      continue;
    }
    log(`  gdnsd pid ${child.pid} on 127.0.0.1:${port}`);
    return { child, port, stderr };
  }
}

// Meridian binds port 0 (one free port for UDP and TCP) and reports it in its "ready <port>" line.
async function startMeridian(log: (l: string) => void, workers = 1, udp: UdpTransport = 'batched'): Promise<{ child: ChildProcess; port: number; stderr: string[] }> {
  const stderr: string[] = [];
  // Hot-prefix recording on, the cache holding 2,000,000 prefixes from the start (its RSS counts).
  const script = [MERIDIAN_SCRIPT, '--port', '0', '--workers', String(workers), '--udp', udp, '--cache-prefixes', String(CACHE_PREFIXES)];
  // A cluster spreads over the cores: it is not pinned.
  const [cmd, args] = workers > 1 ? [process.execPath, script] : pinned(process.execPath, script);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`meridian-server not ready in 90 s: ${tail(stderr)}`)), 90_000);
      let out = '';
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const ready = /ready (\d+)\n/.exec(out);
        if (ready) { clearTimeout(timer); resolve(Number(ready[1])); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`meridian-server exited with ${code}: ${tail(stderr)}`)); });
    });
  } catch (err) {
    await stop(child);
    throw err;
  }
  log(`  meridian pid ${child.pid} on 127.0.0.1:${port}`);
  return { child, port, stderr };
}

async function measure(server: BenchServer, child: ChildProcess, port: number, o: Required<Omit<DnsBenchOptions, 'servers' | 'log' | 'cluster'>>,
  queryFile: string, probes: readonly number[], log: (l: string) => void): Promise<ServerFigures> {
  const pid = child.pid as number;
  // Warm-up (JIT, caches); not counted.
  const cpu = PIN ? CLIENT_CPU : undefined;
  await runDnsperf({ port, queryFile, seconds: 2, cpu });
  const cpu0 = cpuSeconds(pid);
  const max = await runDnsperf({ port, queryFile, seconds: o.seconds, cpu });
  const cpu1 = cpuSeconds(pid);
  const maxCpu = cpu1 - cpu0;
  log(`  ${server}: max rate ${Math.round(max.qps)} QPS, ${max.completed} answered, server CPU ${maxCpu.toFixed(2)} s`);
  const fixed = await runDnsperf({ port, queryFile, seconds: o.seconds, qps: o.fixedQps, perQuery: true, cpu });
  const cpu2 = cpuSeconds(pid);
  log(`  ${server}: at ${o.fixedQps} QPS avg ${fixed.avgLatencyMs.toFixed(3)} ms, p99 ${fixed.p99LatencyMs?.toFixed(3)} ms, lost ${fixed.lost}`);
  const mem = memoryMiB(pid);
  const answers: string[] = [];
  for (const subnet of probes) {
    try {
      answers.push((await probe(port, BENCH_NAME, subnet, 1000)).a ?? '');
    } catch {
      answers.push('');
    }
  }
  return {
    server,
    max: { ...max, serverCpuSeconds: maxCpu, queriesPerCpuSecond: max.completed / Math.max(maxCpu, 1e-9) },
    fixed: { ...fixed, serverCpuSeconds: cpu2 - cpu1 },
    rssMiB: mem.rss, peakRssMiB: mem.peak, answers,
  };
}

/** Runs the benchmark, prints a table and one JSON line, and stops every process it started. */
export async function benchDns(options: DnsBenchOptions = {}): Promise<DnsBenchResult> {
  const o = {
    seconds: options.seconds ?? 10, fixedQps: options.fixedQps ?? 10_000, queries: options.queries ?? 1_000_000,
    agreementProbes: options.agreementProbes ?? 2_000, rounds: Math.max(1, options.rounds ?? 3),
  };
  const withCluster = (options.cluster ?? true) && availableParallelism() >= 2;
  const clusterRuns: ClusterFigures[] = [];
  const servers = options.servers ?? ['gdnsd', 'meridian'];
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'meridian-dns-bench-'));
  const children: ChildProcess[] = [];
  const runs: Array<{ round: number; figures: ServerFigures }> = [];
  const regions = benchRegions();
  // Ctrl-C or a kill of the benchmark must not leave a server behind.
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const c of [...children, ...runningDnsperf]) if (alive(c)) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const queryFile = join(dir, 'queries.bin');
    await writeQueryFile(queryFile, BENCH_NAME, o.queries);
    const nextProbe = randomSubnets(0xa9ee);
    const probes = Array.from({ length: o.agreementProbes }, () => nextProbe());
    log(`DNS benchmark: ${regions.length} regions, ${o.queries} ECS queries (random /24 each), ${o.seconds} s per run, `
      + `${PIN ? `server on CPU ${SERVER_CPU}, dnsperf on CPU ${CLIENT_CPU}` : 'unpinned'}, load average ${loadavg()[0].toFixed(2)}`);
    for (let round = 1; round <= o.rounds; round++) {
      // Alternate the order so neither server always runs on a machine warmed by the other.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      log(`round ${round} of ${o.rounds}`);
      for (const server of order) {
        const started = Date.now();
        let proc: { child: ChildProcess; port: number; stderr: string[] } | undefined;
        try {
          proc = server === 'gdnsd' ? await startGdnsd(dir, regions, log) : await startMeridian(log, 1, server === 'meridian' ? 'batched' : 'dgram');
          children.push(proc.child);
          const p = proc;
          if (server !== 'gdnsd') await waitUntilAnswering(p.port, BENCH_NAME, 60_000, () => alive(p.child));
          const startupMs = Date.now() - started;
          runs.push({ round, figures: { ...(await measure(server, p.child, p.port, o, queryFile, round === 1 ? probes : [], log)), startupMs } });
        } catch (err) {
          const detail = proc ? `\n${tail(proc.stderr)}` : '';
          log(`  ${server}: FAILED: ${(err as Error).message}${detail}`);
          runs.push({ round, figures: { server, error: (err as Error).message } });
        } finally {
          if (proc) await stop(proc.child);
        }
      }
    }
    if (withCluster && servers.includes('meridian')) {
      log('cluster: Meridian with 1 and 2 workers, unpinned (the server and dnsperf share every core), 16 dnsperf sockets');
      for (const workers of [1, 2]) clusterRuns.push(await measureCluster(workers, o.seconds, queryFile, children, log));
    }
  } finally {
    await Promise.all(children.map((c) => stop(c)));
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  const figures = servers.map((server) => medianFigures(server, runs.filter((r) => r.figures.server === server).map((r) => r.figures)));
  const g = figures.find((f) => f.server === 'gdnsd' && f.max);
  const m = figures.find((f) => f.server === 'meridian' && f.max);
  const ratiosToGdnsd = (server: BenchServer): number[] => {
    const out: number[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const gq = runs.find((r) => r.round === round && r.figures.server === 'gdnsd')?.figures.max?.queriesPerCpuSecond;
      const mq = runs.find((r) => r.round === round && r.figures.server === server)?.figures.max?.queriesPerCpuSecond;
      if (gq && mq) out.push(mq / gq);
    }
    return out;
  };
  const roundRatios = ratiosToGdnsd('meridian');
  const ratio = roundRatios.length ? median(roundRatios) : undefined;
  const dgramRatios = ratiosToGdnsd('meridian-dgram');
  let agreement: number | undefined;
  if (g?.answers?.length && m?.answers?.length) {
    let same = 0;
    g.answers.forEach((a, i) => { if (a !== '' && a === m.answers?.[i]) same++; });
    agreement = same / g.answers.length;
  }
  const result: DnsBenchResult = {
    servers: figures, ratioPerCpuSecond: ratio, roundRatios, agreement,
    goals: {
      ratio: ratio === undefined ? null : ratio >= 0.75,
      p99: m?.fixed?.p99LatencyMs === undefined ? null : m.fixed.p99LatencyMs < 1,
      rss: m?.peakRssMiB === undefined ? null : m.peakRssMiB < 300,
    },
    cluster: clusterRuns.length ? clusterRuns : undefined,
    loadAverage: loadavg(),
  };

  const col = (s: string, w: number): string => s.padStart(w);
  log('');
  log(`  medians of ${o.rounds} round(s):`);
  log(`  ${'server'.padEnd(15)}${col('q/CPU-s', 10)}${col('max QPS', 10)}${col('CPU s', 7)}${col(`avg ms@${o.fixedQps / 1000}k`, 12)}`
    + `${col(`p99 ms@${o.fixedQps / 1000}k`, 12)}${col('lost', 6)}${col('RSS MiB', 9)}${col('peak MiB', 10)}`);
  for (const f of figures) {
    if (!f.max || !f.fixed) { log(`  ${f.server.padEnd(15)} failed: ${f.error ?? 'no figures'}`); continue; }
    log(`  ${f.server.padEnd(15)}${col(Math.round(f.max.queriesPerCpuSecond).toString(), 10)}${col(Math.round(f.max.qps).toString(), 10)}`
      + `${col(f.max.serverCpuSeconds.toFixed(2), 7)}${col(f.fixed.avgLatencyMs.toFixed(3), 12)}${col((f.fixed.p99LatencyMs ?? NaN).toFixed(3), 12)}`
      + `${col(String(f.fixed.lost + f.max.lost), 6)}${col((f.rssMiB ?? NaN).toFixed(1), 9)}${col((f.peakRssMiB ?? NaN).toFixed(1), 10)}`);
  }
  if (ratio !== undefined) {
    log(`  Meridian / gdnsd per CPU-second: ${ratio.toFixed(2)}x, median of rounds ${roundRatios.map((r) => r.toFixed(2)).join(', ')} `
      + `(goal >= 0.75x: ${result.goals.ratio ? 'met' : 'NOT met'})`);
  }
  if (dgramRatios.length) {
    log(`  Meridian over node:dgram / gdnsd per CPU-second: ${median(dgramRatios).toFixed(2)}x, rounds ${dgramRatios.map((r) => r.toFixed(2)).join(', ')}`);
  }
  if (result.goals.p99 !== null) log(`  Meridian p99 at ${o.fixedQps} QPS < 1 ms: ${result.goals.p99 ? 'met' : 'NOT met'}`);
  if (result.goals.rss !== null) log(`  Meridian peak RSS < 300 MiB: ${result.goals.rss ? 'met' : 'NOT met'}`);
  for (const c of clusterRuns) {
    if (c.error !== undefined || c.qps === undefined) { log(`  cluster ${c.workers} worker(s): failed: ${c.error ?? 'no figures'}`); continue; }
    log(`  cluster ${c.workers} worker(s): ${Math.round(c.qps)} QPS, ${Math.round(c.queriesPerCpuSecond ?? NaN)} q/CPU-s, `
      + `server CPU ${(c.serverCpuSeconds ?? NaN).toFixed(2)} s, RSS ${(c.rssMiB ?? NaN).toFixed(0)} MiB, lost ${c.lost}`);
  }
  if (agreement !== undefined) log(`  same region as gdnsd for ${(agreement * 100).toFixed(1)}% of ${o.agreementProbes} random /24s (different GeoIP data: geoip-lite vs GeoLite2 City)`);
  log(JSON.stringify({
    bench: 'dns', ...result,
    servers: figures.map(({ answers: _answers, ...rest }) => rest),
  }));
  return result;
}

/** Max-rate run against Meridian with `workers` cluster workers; the figures count every process of the cluster. */
async function measureCluster(workers: number, seconds: number, queryFile: string, children: ChildProcess[],
  log: (l: string) => void): Promise<ClusterFigures> {
  let proc: { child: ChildProcess; port: number; stderr: string[] } | undefined;
  try {
    proc = await startMeridian(log, workers);
    children.push(proc.child);
    const p = proc;
    await waitUntilAnswering(p.port, BENCH_NAME, 60_000, () => alive(p.child));
    const pid = p.child.pid as number;
    await runDnsperf({ port: p.port, queryFile, seconds: 2, clients: 16 });
    const cpu0 = treeCpuSeconds(pid);
    const max = await runDnsperf({ port: p.port, queryFile, seconds, clients: 16 });
    const cpu = treeCpuSeconds(pid) - cpu0;
    const figures = { workers, qps: max.qps, lost: max.lost, serverCpuSeconds: cpu, queriesPerCpuSecond: max.completed / Math.max(cpu, 1e-9), rssMiB: treeRssMiB(pid) };
    log(`  ${workers} worker(s): ${Math.round(max.qps)} QPS, server CPU ${cpu.toFixed(2)} s`);
    return figures;
  } catch (err) {
    log(`  ${workers} worker(s): FAILED: ${(err as Error).message}${proc ? `\n${tail(proc.stderr)}` : ''}`);
    return { workers, error: (err as Error).message };
  } finally {
    if (proc) await stop(proc.child);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One server's figures over its rounds: each number the median of the successful rounds. */
function medianFigures(server: BenchServer, all: readonly ServerFigures[]): ServerFigures {
  const ok = all.filter((f) => f.max && f.fixed);
  const first = ok[0];
  if (!first?.max || !first.fixed) return all[0] ?? { server, error: 'no round ran' };
  const med = (pick: (f: ServerFigures) => number | undefined): number =>
    median(ok.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x)));
  return {
    server, rounds: ok.length, startupMs: med((f) => f.startupMs),
    max: { ...first.max, qps: med((f) => f.max?.qps), completed: med((f) => f.max?.completed), lost: med((f) => f.max?.lost),
      serverCpuSeconds: med((f) => f.max?.serverCpuSeconds), queriesPerCpuSecond: med((f) => f.max?.queriesPerCpuSecond),
      avgLatencyMs: med((f) => f.max?.avgLatencyMs) },
    fixed: { ...first.fixed, avgLatencyMs: med((f) => f.fixed?.avgLatencyMs), p50LatencyMs: med((f) => f.fixed?.p50LatencyMs),
      p99LatencyMs: med((f) => f.fixed?.p99LatencyMs), lost: med((f) => f.fixed?.lost), serverCpuSeconds: med((f) => f.fixed?.serverCpuSeconds) },
    rssMiB: med((f) => f.rssMiB), peakRssMiB: Math.max(...ok.map((f) => f.peakRssMiB ?? 0)), answers: first.answers,
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const list = argValue('--servers') ?? argValue('--only');
  const servers = list?.split(',').map((x) => x.trim());
  const unknown = servers?.filter((x) => !BENCH_SERVERS.includes(x as BenchServer)) ?? [];
  if (unknown.length) {
    console.error(`--servers: unknown server ${unknown.map((x) => `'${x}'`).join(', ')}; known: ${BENCH_SERVERS.join(', ')}`);
    process.exit(2);
  }
  benchDns({
    seconds: argValue('--seconds') ? Number(argValue('--seconds')) : undefined,
    fixedQps: argValue('--qps') ? Number(argValue('--qps')) : undefined,
    queries: argValue('--queries') ? Number(argValue('--queries')) : undefined,
    rounds: argValue('--rounds') ? Number(argValue('--rounds')) : undefined,
    servers: servers as BenchServer[] | undefined,
    cluster: !process.argv.includes('--no-cluster'),
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
