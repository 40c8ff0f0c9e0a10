// Routing overlay benchmark: two peers' tables of N IPv4 /24s (default 800,000, over 40,000 origin
// ASes) applied to the overlay, then one build against geoip-lite's data (homes, entries, suspected
// hijacks: what each table rebuild costs) and the explanation `/geo/lookup` asks for.
// Standalone: `node --expose-gc dist/test/bench/overlay.bench.js [--prefixes N]`.
import { loadGeoipLite } from '../../dns/geoip';
import type { RouteRecord } from '../../dns/geoip/channels';
import { Overlay } from '../../dns/geoip/channels/overlay';

/** What `benchOverlay` measured (times in ms, CPU time of this process). */
export interface OverlayBenchResult {
  readonly prefixes: number;
  readonly applyCpuMs: number;
  readonly buildCpuMs: number;
  readonly entries: number;
  /** Explaining an address of a prefix located at its origin's home, and of one the dataset locates. */
  readonly explainHomeMs: number;
  readonly explainDatasetMs: number;
  /** RSS growth of holding both peers' routes (MiB, after a GC when available). */
  readonly overlayRssMiB: number;
}

const cpuMs = (from: NodeJS.CpuUsage): number => { const u = process.cpuUsage(from); return (u.user + u.system) / 1000; };
const rssMiB = (): number => { (globalThis as { gc?: () => void }).gc?.(); return process.memoryUsage().rss / 2 ** 20; };

/** Runs the benchmark over `prefixes` /24s per peer. */
export async function benchOverlay(prefixes = 800_000, log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<OverlayBenchResult> {
  const dataset = await loadGeoipLite();
  const overlay = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 300 });
  const at = Date.now();
  const before = rssMiB();
  let t = process.cpuUsage();
  for (const peer of ['bgp:192.0.2.1', 'bgp:192.0.2.2']) {
    for (let i = 0; i < prefixes; i += 1000) {
      const announce: RouteRecord[] = [];
      for (let k = i; k < Math.min(prefixes, i + 1000); k++) {
        const a = 0x01000000 + k * 256;
        const origin = 64512 + (k % 40_000);
        announce.push({ prefix: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`, originAs: origin, asPath: [65000, origin] });
      }
      overlay.apply({ kind: 'routing', peer, at, full: false, announce, withdraw: [] }, 'bgp');
    }
  }
  const applyCpuMs = cpuMs(t);
  const overlayRssMiB = rssMiB() - before;
  t = process.cpuUsage();
  const result = overlay.build(dataset, at);
  const buildCpuMs = cpuMs(t);
  const home = result.entries[0]?.prefix.split('/')[0] ?? '1.0.0.1';
  t = process.cpuUsage();
  const homeDecision = overlay.explain(home, dataset, at)?.decision;
  const explainHomeMs = cpuMs(t);
  t = process.cpuUsage();
  const datasetDecision = overlay.explain('1.0.0.1', dataset, at)?.decision;
  const explainDatasetMs = cpuMs(t);
  const r = { prefixes, applyCpuMs, buildCpuMs, entries: result.entries.length, explainHomeMs, explainDatasetMs, overlayRssMiB };
  log(`${prefixes.toLocaleString('en')} /24s on each of 2 peers: apply ${(applyCpuMs / 1000).toFixed(1)} s CPU, overlay RSS ${overlayRssMiB.toFixed(0)} MiB`);
  log(`build against geoip-lite: ${(buildCpuMs / 1000).toFixed(1)} s CPU, ${r.entries.toLocaleString('en')} entries`);
  log(`explain: ${explainHomeMs.toFixed(2)} ms (${homeDecision ?? 'none'}), ${explainDatasetMs.toFixed(2)} ms (${datasetDecision ?? 'none'})`);
  return r;
}

if (require.main === module) {
  const i = process.argv.indexOf('--prefixes');
  benchOverlay(i > 0 ? Number(process.argv[i + 1]) : undefined).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
