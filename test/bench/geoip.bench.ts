// GeoIP lookup benchmark: random IPv4 lookups per second on one core, our table (`findV4` and
// `lookup`) against geoip-lite's own `lookup` in the same process and run.
// Standalone: `node --expose-gc dist/test/bench/geoip.bench.js`.
import { loadavg } from 'node:os';
import { formatIpv4, GeoTable } from '../../dns/geoip';
import { geoipLite, xorshift32 } from '../dns/geoip/reference';

/** One measured lookup path. */
export interface GeoipBenchRow {
  readonly name: string;
  /** Median of the runs, lookups per CPU-second of this process. */
  readonly lookupsPerSecond: number;
  readonly runs: readonly number[];
  /** Median of the runs, lookups per wall-clock second (lower when the machine is shared). */
  readonly wallLookupsPerSecond: number;
}

/** What `benchGeoip` measured. */
export interface GeoipBenchResult {
  readonly rows: readonly GeoipBenchRow[];
  /** Our findV4 rate over geoip-lite's lookup of the same u32 addresses. */
  readonly speedupFindV4VsGeoipLite: number;
  /** Our text lookup rate over geoip-lite's text lookup. */
  readonly speedupLookupVsGeoipLite: number;
  /** RSS growth of building our table (MiB, after a GC when available). */
  readonly tableRssMiB: number;
  /** Bytes of our table's typed arrays (MiB). */
  readonly tableArraysMiB: number;
  readonly tableLoadMs: number;
  /** RSS growth of loading geoip-lite's data (MiB). */
  readonly geoipLiteRssMiB: number;
  readonly v4Ranges: number;
  readonly goalLookupsPerSecond: number;
  readonly goalMet: boolean;
}

/** Options: how many runs and how long each lasts. */
export interface GeoipBenchOptions {
  readonly runs?: number;
  readonly runMs?: number;
  readonly log?: (line: string) => void;
}

const GOAL = 5_000_000;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) { gc(); gc(); }
}

function rssMiB(): number {
  return process.memoryUsage().rss / 1048576;
}

// Runs `batch` (which performs `perBatch` lookups) until `runMs` of wall time passes. The rate is
// per second of CPU time this process got (user + system), so it reads as "on one core" even when
// other work shares the machine; the wall-clock rate is kept for reference.
function measure(batch: () => number, perBatch: number, runMs: number): { rate: number; wallRate: number; sink: number } {
  let sink = 0;
  let count = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const until = start + BigInt(runMs) * 1_000_000n;
  let now = start;
  while (now < until) {
    sink += batch();
    count += perBatch;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const wallSeconds = Number(now - start) / 1e9;
  return { rate: count / Math.max(cpuSeconds, 1e-9), wallRate: count / wallSeconds, sink };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Runs the benchmark and prints a table and one JSON line. */
export async function benchGeoip(options: GeoipBenchOptions = {}): Promise<GeoipBenchResult> {
  const runs = options.runs ?? 5;
  const runMs = options.runMs ?? 1_000;
  const log = options.log ?? ((line: string) => console.log(line));

  collect();
  const rss0 = rssMiB();
  const loadStart = Date.now();
  const table = GeoTable.fromGeoipLite();
  const tableLoadMs = Date.now() - loadStart;
  collect();
  const rss1 = rssMiB();
  const reference = geoipLite();
  collect();
  const rss2 = rssMiB();

  // The same random addresses for every path; 2^20 of them defeat caching of a small working set.
  const next = xorshift32(0xb0b);
  const ips = new Uint32Array(1 << 20);
  for (let i = 0; i < ips.length; i++) ips[i] = next();
  const texts = Array.from(ips.subarray(0, 1 << 18), (ip) => formatIpv4(ip));
  const mask = ips.length - 1;
  const textMask = texts.length - 1;
  const per = 4096;
  let offset = 0;

  const paths: Array<[string, () => number]> = [
    ['meridian findV4 (u32)', () => {
      let s = 0;
      for (let k = 0; k < per; k++) s += table.findV4(ips[(offset + k) & mask]);
      offset += per;
      return s;
    }],
    ['meridian findV4 + locationOfV4', () => {
      let s = 0;
      for (let k = 0; k < per; k++) {
        const i = table.findV4(ips[(offset + k) & mask]);
        if (i >= 0) s += table.locationOfV4(i).lat;
      }
      offset += per;
      return s;
    }],
    ['meridian lookup (text)', () => {
      let s = 0;
      for (let k = 0; k < per; k++) s += table.lookup(texts[(offset + k) & textMask])?.prefixLength ?? 0;
      offset += per;
      return s;
    }],
    ['geoip-lite lookup (u32)', () => {
      let s = 0;
      for (let k = 0; k < per; k++) s += reference.lookup(ips[(offset + k) & mask])?.ll[0] ?? 0;
      offset += per;
      return s;
    }],
    ['geoip-lite lookup (text)', () => {
      let s = 0;
      for (let k = 0; k < per; k++) s += reference.lookup(texts[(offset + k) & textMask])?.ll[0] ?? 0;
      offset += per;
      return s;
    }],
  ];

  // Warm every path up once so the optimizing compiler has run before measuring.
  for (const [, batch] of paths) measure(batch, per, 200);
  const rates = new Map<string, number[]>(paths.map(([name]) => [name, []]));
  const wallRates = new Map<string, number[]>(paths.map(([name]) => [name, []]));
  let sink = 0;
  // Interleave paths run by run so background load on the machine affects all of them alike.
  for (let r = 0; r < runs; r++) {
    for (const [name, batch] of paths) {
      const m = measure(batch, per, runMs);
      sink += m.sink;
      rates.get(name)?.push(m.rate);
      wallRates.get(name)?.push(m.wallRate);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const rows = paths.map(([name]) => ({
    name, runs: rates.get(name) ?? [], lookupsPerSecond: median(rates.get(name) ?? [0]), wallLookupsPerSecond: median(wallRates.get(name) ?? [0]),
  }));
  const rate = (name: string): number => rows.find((r) => r.name === name)?.lookupsPerSecond ?? 0;
  const result: GeoipBenchResult = {
    rows,
    speedupFindV4VsGeoipLite: rate('meridian findV4 (u32)') / rate('geoip-lite lookup (u32)'),
    speedupLookupVsGeoipLite: rate('meridian lookup (text)') / rate('geoip-lite lookup (text)'),
    tableRssMiB: rss1 - rss0,
    tableArraysMiB: table.byteLength / 1048576,
    tableLoadMs,
    geoipLiteRssMiB: rss2 - rss1,
    v4Ranges: table.v4Count,
    goalLookupsPerSecond: GOAL,
    goalMet: rate('meridian findV4 (u32)') >= GOAL,
  };

  const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;
  log(`GeoIP lookups, random IPv4, one thread, per CPU-second, median of ${runs} x ${runMs} ms (checksum ${Math.round(sink) % 1000})`);
  log(`  ${'path'.padEnd(34)} ${'median'.padStart(11)} ${'wall'.padStart(11)}   runs (M/CPU-s)`);
  for (const row of rows) {
    log(`  ${row.name.padEnd(34)} ${fmt(row.lookupsPerSecond).padStart(11)} ${fmt(row.wallLookupsPerSecond).padStart(11)}   `
      + row.runs.map((x) => (x / 1e6).toFixed(2)).join(' '));
  }
  log(`  findV4 vs geoip-lite (u32): ${result.speedupFindV4VsGeoipLite.toFixed(1)}x; lookup vs geoip-lite (text): ${result.speedupLookupVsGeoipLite.toFixed(1)}x`);
  log(`  table: ${result.v4Ranges} IPv4 ranges, ${table.v6Count} IPv6 ranges, ${table.locationCount} locations; arrays ${result.tableArraysMiB.toFixed(1)} MiB, `
    + `RSS +${result.tableRssMiB.toFixed(1)} MiB, built in ${tableLoadMs} ms; geoip-lite RSS +${result.geoipLiteRssMiB.toFixed(1)} MiB`);
  log(`  goal >= ${fmt(GOAL)} via findV4: ${result.goalMet ? 'met' : 'NOT met'}`);
  log(JSON.stringify({ bench: 'geoip', ...result, rows: rows.map((r) => ({ name: r.name, lookupsPerSecond: Math.round(r.lookupsPerSecond), wallLookupsPerSecond: Math.round(r.wallLookupsPerSecond) })), loadAverage: loadavg()[0] }));
  return result;
}

if (require.main === module) {
  benchGeoip().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
