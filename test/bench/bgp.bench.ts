// BGP ingest benchmark: BIRD 2 sends a 1,000,000-route table (800,000 IPv4 and 200,000 IPv6, the
// 2002 RIS dump's real prefixes and paths, then deterministic /24s and IPv6 prefixes carrying the
// same real paths) to Meridian's BGP channel running in a process of its own. Reports the time
// from the session coming up until every route is in the Adj-RIB-In, prefixes per second, how busy
// Meridian was meanwhile (below 100% means BIRD, not Meridian, set the pace), and both RSS.
// Standalone: `node dist/test/bench/bgp.bench.js [--v4 N] [--v6 N] [--overlay]`.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loopbackAddress } from '../tools/daemon';
import { waitFor } from '../tools/wait';
import { birdConfig, realIpv4Routes, startBird, syntheticIpv6Routes, type SampleRoute } from '../dns/geoip/channels/bgp/fixtures';
import type { SpeakerStatus } from './bgp-speaker';

/** What the benchmark measured. */
export interface BgpBenchResult {
  readonly routes: number;
  readonly ingestSeconds: number;
  readonly prefixesPerSecond: number;
  /** Meridian's CPU time over the ingest's wall time. */
  readonly meridianBusy: number;
  readonly meridianRssMiB: number;
  readonly birdRssMiB: number;
  readonly birdConfigSeconds: number;
}

/** `n` IPv4 routes: the real ones first, then /24s from 11.0.0.0 upwards with the real paths in turn. */
export function ipv4Table(n: number): SampleRoute[] {
  const real = realIpv4Routes();
  const out: SampleRoute[] = real.slice(0, n);
  const seen = new Set(out.map((r) => r.prefix));
  for (let i = 0; out.length < n; i++) {
    const a = (0x0b000000 + i * 256) >>> 0;
    const prefix = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`;
    if (seen.has(prefix)) continue;
    out.push({ prefix, asPath: real[i % real.length].asPath });
  }
  return out;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Runs the benchmark once. */
export async function benchBgp(o: { v4?: number; v6?: number; overlay?: boolean; log?: (s: string) => void } = {}): Promise<BgpBenchResult> {
  const log = o.log ?? ((s: string) => console.log(s));
  const n4 = o.v4 ?? 800_000;
  const n6 = o.v6 ?? 200_000;
  const me = loopbackAddress();
  const birdAddr = loopbackAddress();
  const settings = {
    listen: { address: me, port: 0 }, localAs: 4200000001, routerId: '10.254.0.1', connectRetrySeconds: 1,
    peers: [{ address: birdAddr, peerAs: 65010, maxPrefixes: 5_000_000 }],
  };
  const child = fork(join(__dirname, 'bgp-speaker.js'), [JSON.stringify(settings), ...(o.overlay ? ['--overlay'] : [])], { execArgv: ['--expose-gc'] });
  let last: SpeakerStatus | undefined;
  child.on('message', (m: unknown) => { if (typeof m === 'object') last = m as SpeakerStatus; });
  const ask = async (what = 'status'): Promise<SpeakerStatus> => {
    last = undefined;
    child.send(what);
    await waitFor('the speaker to report', () => last !== undefined, 60_000, 5);
    return last!;
  };
  let bird: Awaited<ReturnType<typeof startBird>> | undefined;
  try {
    await new Promise<void>((resolve, reject) => { child.once('message', () => resolve()); child.once('exit', (c) => reject(new Error(`speaker exited ${c}`))); });
    const base = await ask('gc');
    log(`Meridian speaker: listening on ${me}:${base.listenPort}, RSS ${(base.rssBytes / 1048576).toFixed(0)} MiB before any route`);
    const t0 = Date.now();
    const config = birdConfig({
      address: birdAddr, port: 1179, as: 65010, routerId: '10.254.0.2', routes4: ipv4Table(n4), routes6: syntheticIpv6Routes(n6),
      neighbors: [{ name: 'meridian', address: me, port: base.listenPort!, as: 4200000001 }],
    });
    log(`table: ${n4} IPv4 + ${n6} IPv6 routes, BIRD config ${(config.length / 1048576).toFixed(0)} MiB, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const t1 = Date.now();
    bird = await startBird(config);
    const birdConfigSeconds = (Date.now() - t1) / 1000;
    log(`BIRD up after ${birdConfigSeconds.toFixed(1)} s (parsing its configuration)`);
    await waitFor('the session', async () => (await ask()).established, 120_000, 5);
    const start = Date.now();
    const cpu0 = last!.cpuMicros;
    const total = n4 + n6;
    let shown = 0;
    await waitFor('every route', async () => {
      const s = await ask();
      if (s.prefixes - shown >= 200_000) { shown = s.prefixes; log(`  ${s.prefixes} routes after ${((Date.now() - start) / 1000).toFixed(1)} s`); }
      return s.prefixes >= total && (!o.overlay || s.overlayPrefixes >= total);
    }, 600_000, 20);
    const ingestSeconds = (Date.now() - start) / 1000;
    const busy = (last!.cpuMicros - cpu0) / 1e6 / ingestSeconds;
    const after = await ask('gc');
    const birdRss = rssOf(bird.daemon.proc.pid!);
    const r: BgpBenchResult = {
      routes: total, ingestSeconds, prefixesPerSecond: total / ingestSeconds, meridianBusy: busy,
      meridianRssMiB: after.rssBytes / 1048576, birdRssMiB: birdRss / 1048576, birdConfigSeconds,
    };
    log(`ingest: ${total} routes in ${ingestSeconds.toFixed(1)} s = ${Math.round(r.prefixesPerSecond)} prefixes/s; Meridian busy ${(busy * 100).toFixed(0)}% of that time`);
    log(`RSS with the whole table: Meridian ${r.meridianRssMiB.toFixed(0)} MiB${o.overlay ? ' (channel + overlay)' : ' (channel)'} | BIRD ${r.birdRssMiB.toFixed(0)} MiB (static protocol + master tables + BGP)`);
    log(`goals: ingest paced by BIRD (Meridian busy < 100%): ${busy < 1 ? 'met' : 'NOT met'}; Meridian RSS <= BIRD RSS: ${r.meridianRssMiB <= r.birdRssMiB ? 'met' : 'NOT met'}`);
    return r;
  } finally {
    child.send('stop');
    await new Promise((resolve) => { child.once('exit', resolve); setTimeout(() => child.kill('SIGKILL'), 5_000).unref(); });
    await bird?.stop();
  }
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  benchBgp({
    v4: argValue('--v4') ? Number(argValue('--v4')) : undefined,
    v6: argValue('--v6') ? Number(argValue('--v6')) : undefined,
    overlay: process.argv.includes('--overlay'),
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
