// Runs dnsperf 2.10 against one server and parses its report (dnsperf(1)): totals from the
// "Statistics" block, and with -v every query's RCODE and latency for percentiles.
import { spawn, type ChildProcess } from 'node:child_process';

/** One dnsperf run. */
export interface DnsperfOptions {
  readonly port: number;
  /** dnsperf -B input file. */
  readonly queryFile: string;
  readonly seconds: number;
  /** Fixed rate (-Q); undefined for as fast as the server answers. */
  readonly qps?: number;
  /** Outstanding queries (-q). */
  readonly outstanding?: number;
  /** Simulated clients (-c), each its own socket. */
  readonly clients?: number;
  /** Report each query (-v), needed for percentiles. */
  readonly perQuery?: boolean;
  /** CPU to pin dnsperf to (taskset -c), so it does not compete with the server's CPU. */
  readonly cpu?: number;
}

/** What dnsperf reported. */
export interface DnsperfResult {
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  readonly qps: number;
  readonly runSeconds: number;
  readonly avgLatencyMs: number;
  readonly maxLatencyMs: number;
  /** From the per-query lines when `perQuery`; lost queries count as slowest. */
  readonly p50LatencyMs?: number;
  readonly p99LatencyMs?: number;
  /** RCODE -> count. */
  readonly rcodes: Readonly<Record<string, number>>;
}

function num(text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  if (!m) throw new Error(`dnsperf output has no ${what}`);
  return Number(m[1]);
}

/** Parses dnsperf's output (stdout with -W). */
export function parseDnsperf(out: string): DnsperfResult {
  const latencies: number[] = [];
  const rcodes: Record<string, number> = {};
  let timeouts = 0;
  for (const line of out.split('\n')) {
    if (!line.startsWith('> ')) continue;
    // "> NOERROR binary input 0.000105" or "> T binary input" for a timeout.
    const parts = line.slice(2).trim().split(/\s+/);
    const rcode = parts[0];
    if (rcode === 'T') { timeouts++; continue; }
    const latency = Number(parts[parts.length - 1]);
    rcodes[rcode] = (rcodes[rcode] ?? 0) + 1;
    if (Number.isFinite(latency)) latencies.push(latency * 1000);
  }
  const sent = num(out, /Queries sent:\s+(\d+)/, 'queries sent');
  const completed = num(out, /Queries completed:\s+(\d+)/, 'queries completed');
  const lost = num(out, /Queries lost:\s+(\d+)/, 'queries lost');
  const qps = num(out, /Queries per second:\s+([\d.]+)/, 'queries per second');
  const runSeconds = num(out, /Run time \(s\):\s+([\d.]+)/, 'run time');
  const avgLatencyMs = num(out, /Average Latency \(s\):\s+([\d.]+)/, 'average latency') * 1000;
  const maxLatencyMs = num(out, /Average Latency \(s\):.*max ([\d.]+)/, 'max latency') * 1000;
  let p50: number | undefined;
  let p99: number | undefined;
  if (latencies.length > 0) {
    latencies.sort((a, b) => a - b);
    const total = latencies.length + timeouts;
    const at = (q: number): number => {
      const rank = Math.ceil(q * total) - 1;
      return rank < latencies.length ? latencies[Math.max(0, rank)] : Infinity;
    };
    p50 = at(0.5);
    p99 = at(0.99);
  }
  if (Object.keys(rcodes).length === 0) {
    for (const m of out.matchAll(/([A-Z]+) (\d+) \([\d.]+%\)/g)) rcodes[m[1]] = Number(m[2]);
  }
  return { sent, completed, lost, qps, runSeconds, avgLatencyMs, maxLatencyMs, p50LatencyMs: p50, p99LatencyMs: p99, rcodes };
}

/** dnsperf processes still running, so an interrupted benchmark can stop them. */
export const runningDnsperf = new Set<ChildProcess>();

/** Runs dnsperf; resolves with the parsed report. Killed if it overruns `seconds` by 30 s. */
export function runDnsperf(o: DnsperfOptions): Promise<DnsperfResult> {
  const args = ['-B', '-d', o.queryFile, '-s', '127.0.0.1', '-p', String(o.port), '-l', String(o.seconds),
    '-c', String(o.clients ?? 4), '-q', String(o.outstanding ?? 200), '-T', '1', '-t', '2', '-W'];
  if (o.qps !== undefined) args.push('-Q', String(o.qps));
  if (o.perQuery) args.push('-v');
  return new Promise<DnsperfResult>((resolve, reject) => {
    const [cmd, argv] = o.cpu === undefined ? ['dnsperf', args] : ['taskset', ['-c', String(o.cpu), 'dnsperf', ...args]];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    runningDnsperf.add(child);
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 30) * 1000);
    child.on('error', (e) => { clearTimeout(timer); runningDnsperf.delete(child); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      runningDnsperf.delete(child);
      const out = Buffer.concat(chunks).toString();
      if (code !== 0) {
        reject(new Error(`dnsperf ${args.join(' ')} exited with ${code ?? signal}: ${(err || out).slice(-500)}`));
        return;
      }
      try { resolve(parseDnsperf(out)); } catch (e) { reject(e as Error); }
    });
  });
}
