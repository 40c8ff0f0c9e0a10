// Scale benchmark: N workloads (10,000 by default) applied through the scheduler's HTTP API by 32
// parallel clients, while a GeoDNS server (meridian-dns, following the watch stream) and 100 other
// watchers are attached. Reports writes per second, p50/p99 write latency over the 500 writes
// before the count reaches 1,000 and N, the scheduler's and the GeoDNS's RSS once both hold N
// workloads, how long every watcher took to catch up, and how long a new watcher's snapshot takes.
// The scheduler's CPU time per write is reported too: on a shared machine it moves less with the
// load than writes per second do.
// The scheduler, the GeoDNS and the watchers each run in a process of their own, so each RSS is
// its own and the clients' timings are not slowed by the watchers' parsing.
// Where the machine's CPU went over the writes is reported per process (scheduler, GeoDNS, watchers,
// this process's clients) and for everything else on the machine, in CPU-seconds per second.
// `--profile DIR` writes a V8 CPU profile of the writes from the scheduler, the watchers and the clients.
// Standalone: `node dist/test/bench/scale.bench.js [--workloads 10000] [--clients 32] [--watchers 100] [--catch-up-seconds 600] [--profile DIR]`.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { ProvidersConfig } from '../../providers';
import { startEmulators } from '../../providers/emulator';
import { loadSchedulerConfig } from '../../scheduler/config';
import { startSandboxDns } from '../../scheduler/sandbox-dns';
import { startScheduler } from '../../scheduler/service';
import { smallWorkload, tempDataDir, threeCloudPolicy } from '../scheduler/e2e/helpers';

const TOKEN = 'scale-bench-token-0123456789';

/** Options of `benchScale`. */
export interface ScaleBenchOptions {
  readonly workloads?: number;
  readonly clients?: number;
  readonly watchers?: number;
  /** Replicas of each workload (default 0: the control plane alone, no cloud calls). */
  readonly replicas?: number;
  /** How long to wait for the GeoDNS and the watchers to hold the last revision (default 600 s). */
  readonly catchUpSeconds?: number;
  /** Directory to write CPU profiles of the writes to (scheduler, watchers, clients), when set. */
  readonly profileDir?: string;
  readonly log?: (line: string) => void;
}

/** CPU-seconds per second of the writes, by who spent them. */
export interface CpuShare {
  readonly scheduler: number;
  readonly geoDns: number;
  readonly watchers: number;
  /** This process: the clients (and the idle emulators). */
  readonly clients: number;
  /** Everything else on the machine. */
  readonly others: number;
  /** Cores of the machine. */
  readonly cores: number;
}

/** Latency percentiles of a window of writes, milliseconds. */
export interface LatencyWindow {
  /** The workload count the window ends at. */
  readonly at: number;
  readonly p50: number;
  readonly p99: number;
}

/** What `benchScale` measured. */
export interface ScaleBenchResult {
  readonly workloads: number;
  readonly clients: number;
  readonly watchers: number;
  readonly writesPerSecond: number;
  /** The scheduler's CPU time (user + system) over the writes, divided by their number, milliseconds. */
  readonly schedulerCpuMsPerWrite: number;
  readonly cpu: CpuShare;
  readonly latency: readonly LatencyWindow[];
  /** p99 at N divided by p99 at 1,000 (the goal: at most 2). */
  readonly p99Ratio: number;
  /** From the last write's answer to the GeoDNS and every watcher holding the last revision (or giving up). */
  readonly catchUpSeconds: number;
  /** Revisions the GeoDNS and the slowest watcher were behind when the wait ended (0: caught up). */
  readonly dnsBehind: number;
  readonly watchersBehind: number;
  /** Resident set sizes once both hold N workloads, in MiB (2^20 bytes, as are the snapshot's). */
  readonly schedulerRssMB: number;
  readonly dnsRssMB: number;
  /** A new watcher: first byte, and the whole snapshot, milliseconds; its size. */
  readonly snapshotFirstByteMs: number;
  readonly snapshotMs: number;
  readonly snapshotMB: number;
  readonly loadAverage: number;
  /** The 1-minute load average when the writes started. */
  readonly loadAverageAtStart: number;
}

function rssMB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time a process has used (user + system), seconds, from `/proc/<pid>/stat`; NaN when unknown. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Busy CPU time of the whole machine (every core), seconds, and its core count, from `/proc/stat`. */
function machineCpu(): { busy: number; cores: number } {
  try {
    const text = readFileSync('/proc/stat', 'utf8');
    const all = /^cpu +(.*)$/m.exec(text)?.[1].split(/ +/).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    const busy = all.slice(0, 8).reduce((a, v, i) => (i === 3 || i === 4 ? a : a + v), 0);
    return { busy: busy / CLOCK_TICKS, cores: (text.match(/^cpu\d+ /gm) ?? []).length };
  } catch {
    return { busy: NaN, cores: NaN };
  }
}

/** USER_HZ: Linux reports `/proc` CPU times in hundredths of a second on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Starts a V8 CPU profile of this process; the returned function stops it and writes it to `file`. */
function startProfile(file: string): () => Promise<void> {
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => {
    session.post(method, (err, res) => (err ? reject(err) : resolve(res)));
  });
  const started = post('Profiler.enable').then(() => post('Profiler.start'));
  return async () => {
    await started;
    const { profile } = await post('Profiler.stop') as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function request(agent: http.Agent | false, url: string, method: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, {
      method, agent,
      headers: { authorization: `Bearer ${TOKEN}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Next message from a child that satisfies `pick`, within `timeoutMs`. */
function message<T>(child: ChildProcess, pick: (m: unknown) => T | undefined, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = (fn: () => void) => { clearTimeout(timer); child.off('message', on); child.off('exit', onExit); fn(); };
    const timer = setTimeout(() => settle(() => reject(new Error(`no answer from child ${String(child.pid)} within ${timeoutMs} ms`))), timeoutMs);
    const on = (m: unknown) => {
      const v = pick(m);
      if (v !== undefined) settle(() => resolve(v));
    };
    const onExit = (code: number | null) => settle(() => reject(new Error(`child ${String(child.pid)} exited (${String(code)})`)));
    child.on('message', on);
    child.once('exit', onExit);
  });
}

async function ask<T>(child: ChildProcess, what: string, key: string): Promise<T> {
  const answer = message(child, (m) => (m && typeof m === 'object' && key in m ? (m as Record<string, T>)[key] : undefined));
  child.send(what);
  return answer;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Opens a watch stream and times its snapshot: first byte and the blank line that ends the snapshot event. */
function timeSnapshot(url: string): Promise<{ firstByteMs: number; ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstByteMs = -1;
    let bytes = 0;
    let tail = '';
    const req = http.get(`${url}/v1/watch`, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - t0;
        bytes += Buffer.byteLength(chunk);
        const seen = tail + chunk;
        if (seen.includes('\n\n')) {
          resolve({ firstByteMs, ms: performance.now() - t0, bytes });
          req.destroy();
          return;
        }
        tail = seen.slice(-1);
      });
    });
    req.on('error', (e) => { if (firstByteMs < 0 || bytes === 0) reject(e); });
  });
}

/** Runs the benchmark once. */
export async function benchScale(opts: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const n = opts.workloads ?? 10_000;
  const clients = opts.clients ?? 32;
  const watcherCount = opts.watchers ?? 100;
  const log = opts.log ?? (() => undefined);
  const early = Math.min(1_000, Math.max(1, Math.floor(n / 10)));
  const emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 } });
  const dataDir = tempDataDir('scale-bench');
  const children: ChildProcess[] = [];
  let dns: Awaited<ReturnType<typeof startSandboxDns>> | undefined;
  try {
    const scheduler = fork(__filename, ['--role', 'scheduler'], {
      env: { ...process.env, MERIDIAN_SCALE_BENCH: JSON.stringify({ dataDir: join(dataDir, 'scheduler'), providers: emus.providersConfig }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(scheduler);
    const url = await message(scheduler, (m) => (m && typeof m === 'object' && 'url' in m ? String((m as { url: string }).url) : undefined));
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    const policy = await request(agent, `${url}/v1/policies/scale`, 'PUT', threeCloudPolicy('scale', 100));
    if (policy.status >= 300) throw new Error(`policy refused: HTTP ${policy.status} ${policy.text}`);

    mkdirSync(join(dataDir, 'dns'), { recursive: true });
    dns = await startSandboxDns({ host: '127.0.0.1', port: 0, adminPort: 0, schedulerUrl: url, token: TOKEN, snapshotPath: join(dataDir, 'dns', 'snapshot.json') });
    const dnsAdmin = `http://127.0.0.1:${String(dns.adminPort)}`;
    const watchers = fork(__filename, ['--role', 'watchers', url, String(watcherCount)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(watchers);
    await message(watchers, (m) => (m && typeof m === 'object' && 'connected' in m ? true : undefined));
    log(`  scheduler ${url} (pid ${String(scheduler.pid)}), GeoDNS pid ${String(dns.pid())} admin ${dnsAdmin}, ${watcherCount} watchers attached`);

    const loadAverageAtStart = loadavg()[0];
    let stopProfiles: Array<() => Promise<void>> = [];
    if (opts.profileDir) {
      const dir = opts.profileDir;
      mkdirSync(dir, { recursive: true });
      await Promise.all([scheduler, watchers].map((c) => ask<boolean>(c, `profile ${dir}`, 'profiling')));
      stopProfiles = [
        startProfile(join(dir, 'clients.cpuprofile')),
        ...[scheduler, watchers].map((c) => async () => { await ask<boolean>(c, 'profile-stop', 'profiled'); }),
      ];
    }
    const cpuAtStart = await ask<number>(scheduler, 'cpu', 'cpuMs');
    const pids = { scheduler: scheduler.pid, geoDns: dns.pid(), watchers: watchers.pid, clients: process.pid };
    const cpuOf = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuSeconds(pid)])) as Record<keyof typeof pids, number>;
    const procStart = cpuOf();
    const machineStart = machineCpu();
    const latencies = new Array<number>(n);
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const name = `w${String(i).padStart(6, '0')}`;
        const s = performance.now();
        const res = await request(agent, `${url}/v1/workloads/${name}`, 'PUT', smallWorkload(name, opts.replicas ?? 0, 'scale'));
        if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${name}: HTTP ${res.status} ${res.text}`);
        latencies[i] = performance.now() - s;
        if (++done % 1000 === 0) log(`  ${done} workloads, ${(done / ((performance.now() - t0) / 1000)).toFixed(0)} writes/s`);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const tDone = performance.now();
    const procEnd = cpuOf();
    const machineEnd = machineCpu();
    const schedulerCpuMsPerWrite = (await ask<number>(scheduler, 'cpu', 'cpuMs') - cpuAtStart) / n;
    await Promise.all(stopProfiles.map((stop) => stop()));
    const share = (k: keyof typeof pids) => (procEnd[k] - procStart[k]) / seconds;
    const ours = (['scheduler', 'geoDns', 'watchers', 'clients'] as const).reduce((a, k) => a + share(k), 0);
    const cpu: CpuShare = {
      scheduler: share('scheduler'), geoDns: share('geoDns'), watchers: share('watchers'), clients: share('clients'),
      others: Math.max(0, (machineEnd.busy - machineStart.busy) / seconds - ours), cores: machineEnd.cores,
    };

    // Caught up: the GeoDNS and every watcher hold the scheduler's revision, and it stopped moving.
    // A GeoDNS too busy to answer its admin API within 5 s counts as not caught up.
    const revisionOf = async () => {
      const r = await Promise.race([request(false, `${dnsAdmin}/state`, 'GET'), new Promise<undefined>((resolve) => { setTimeout(() => resolve(undefined), 5000).unref(); })]);
      return r ? (JSON.parse(r.text) as { revision: number }).revision : -1;
    };
    let stable = 0;
    let last = -1;
    let behind = { dns: 0, watchers: 0 };
    for (;;) {
      const target = await ask<number>(scheduler, 'revision', 'revision');
      const [dnsRev, watcherRev] = await Promise.all([revisionOf(), ask<number>(watchers, 'revision', 'revision')]);
      behind = { dns: Math.max(0, target - dnsRev), watchers: Math.max(0, target - watcherRev) };
      stable = target === last && behind.dns === 0 && behind.watchers === 0 ? stable + 1 : 0;
      last = target;
      if (stable >= 2) break;
      if (performance.now() - tDone > (opts.catchUpSeconds ?? 600) * 1000) break;
      if (Math.round((performance.now() - tDone) / 250) % 40 === 0) log(`  catching up: GeoDNS ${behind.dns} and watchers ${behind.watchers} revisions behind ${target}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const catchUpSeconds = (performance.now() - tDone) / 1000;
    const windows = [early, n].map((at) => {
      const sorted = latencies.slice(Math.max(0, at - 500), at).sort((a, b) => a - b);
      return { at, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    });
    const schedulerRssMB = rssMB(scheduler.pid);
    const dnsRssMB = rssMB(dns.pid());
    const snap = await timeSnapshot(url);
    agent.destroy();
    return {
      workloads: n, clients, watchers: watcherCount, writesPerSecond: n / seconds, schedulerCpuMsPerWrite, cpu, latency: windows,
      p99Ratio: windows[1].p99 / windows[0].p99, catchUpSeconds, dnsBehind: behind.dns, watchersBehind: behind.watchers, schedulerRssMB, dnsRssMB,
      snapshotFirstByteMs: snap.firstByteMs, snapshotMs: snap.ms, snapshotMB: snap.bytes / 1024 / 1024, loadAverage: loadavg()[0], loadAverageAtStart,
    };
  } finally {
    await dns?.stop();
    for (const c of children.reverse()) {
      if (c.connected) c.send('stop');
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      await exited(c);
      clearTimeout(timer);
    }
    await emus.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The scheduler's process: the service on an ephemeral port, answering `revision` and `stop`. */
async function schedulerRole(): Promise<void> {
  const { dataDir, providers } = JSON.parse(process.env.MERIDIAN_SCALE_BENCH ?? '{}') as { dataDir: string; providers: ProvidersConfig };
  const config = loadSchedulerConfig({ dataDir, api: { token: TOKEN, port: 0 } });
  const svc = await startScheduler({ config, providers, log: (l) => process.stderr.write(`scheduler: ${l}\n`) });
  const profiles = profiling('scheduler');
  process.on('message', (m) => {
    profiles(m);
    if (m === 'revision') void svc.store.currentRevision().then((revision) => process.send?.({ revision }));
    if (m === 'cpu') {
      const used = process.cpuUsage();
      process.send?.({ cpuMs: (used.user + used.system) / 1000 });
    }
    if (m === 'stop') void svc.stop().then(() => process.exit(0));
  });
  process.send?.({ url: svc.url });
}

/** Answers `profile DIR` (starts a CPU profile of this process) and `profile-stop` (writes it to DIR/<name>.cpuprofile). */
function profiling(name: string): (m: unknown) => void {
  let stop: (() => Promise<void>) | undefined;
  return (m) => {
    if (typeof m === 'string' && m.startsWith('profile ')) {
      stop = startProfile(join(m.slice('profile '.length), `${name}.cpuprofile`));
      process.send?.({ profiling: true });
    }
    if (m === 'profile-stop') void (stop?.() ?? Promise.resolve()).then(() => process.send?.({ profiled: true }));
  };
}

/** The watchers' process: `count` watch streams that track the last revision each saw. */
function watchersRole(url: string, count: number): void {
  const revisions = new Array<number>(count).fill(-1);
  const requests: http.ClientRequest[] = [];
  let connected = 0;
  for (let k = 0; k < count; k++) {
    let tail = '';
    const req = http.get(`${url}/v1/watch`, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      if (++connected === count) process.send?.({ connected });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        // Event ids are revisions; only the last one matters, and a line may straddle two chunks.
        const text = tail + chunk;
        const re = /\nid: (\d+)\n/g;
        for (let m = re.exec(text); m; m = re.exec(text)) revisions[k] = Number(m[1]);
        tail = text.slice(-24);
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => process.stderr.write(`watcher ${k}: ${e.message}\n`));
    requests.push(req);
  }
  const profiles = profiling('watchers');
  process.on('message', (m) => {
    profiles(m);
    if (m === 'revision') process.send?.({ revision: Math.min(...revisions) });
    if (m === 'stop') {
      for (const r of requests) r.destroy();
      process.exit(0);
    }
  });
}

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

function stringFlag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const role = process.argv[2] === '--role' ? process.argv[3] : undefined;
  if (role === 'scheduler') {
    schedulerRole().catch((err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exit(1); });
  } else if (role === 'watchers') {
    watchersRole(process.argv[4], Number(process.argv[5]));
  } else {
    benchScale({ workloads: flag('--workloads'), clients: flag('--clients'), watchers: flag('--watchers'), replicas: flag('--replicas'),
      catchUpSeconds: flag('--catch-up-seconds'), profileDir: stringFlag('--profile'),
      log: (l) => process.stdout.write(`${l}\n`) }).then((r) => {
      const lat = r.latency.map((w) => `at ${w.at}: p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms`).join('; ');
      process.stdout.write(`${r.workloads} workloads by ${r.clients} clients with a GeoDNS and ${r.watchers} watchers: ${r.writesPerSecond.toFixed(0)} writes/s `
        + `(scheduler CPU ${r.schedulerCpuMsPerWrite.toFixed(2)} ms per write); `
        + `CPU-seconds per second over the writes on ${r.cpu.cores} cores: scheduler ${r.cpu.scheduler.toFixed(2)}, GeoDNS ${r.cpu.geoDns.toFixed(2)}, `
        + `watchers ${r.cpu.watchers.toFixed(2)}, clients ${r.cpu.clients.toFixed(2)}, everything else ${r.cpu.others.toFixed(2)}; `
        + `${lat} (p99 ratio ${r.p99Ratio.toFixed(2)}); `
        + (r.dnsBehind === 0 && r.watchersBehind === 0 ? `caught up ${r.catchUpSeconds.toFixed(1)} s after the last write; `
          : `after ${r.catchUpSeconds.toFixed(0)} s the GeoDNS was ${r.dnsBehind} and the watchers ${r.watchersBehind} revisions behind; `)
        + `RSS scheduler ${r.schedulerRssMB.toFixed(0)} MiB, GeoDNS ${r.dnsRssMB.toFixed(0)} MiB; new watcher's snapshot ${r.snapshotMB.toFixed(1)} MiB: `
        + `first byte ${r.snapshotFirstByteMs.toFixed(0)} ms, whole ${r.snapshotMs.toFixed(0)} ms; load average ${r.loadAverageAtStart.toFixed(1)} at the start, ${r.loadAverage.toFixed(1)} at the end\n`);
    }, (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
  }
}
