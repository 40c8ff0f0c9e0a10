// Hot-prefix cache benchmark: what recording costs a query (`noteV4`/`noteV6` ns per call), how
// fast the drain moves notes into the index and onto disk, how long `open()` takes to load
// 2,000,000 prefixes, and the RSS they cost.
// Standalone: `node --expose-gc dist/test/bench/hot-cache.bench.js [--prefixes N]`.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HotPrefixCache } from '../../dns/geoip/channels/hot-cache';
import { fixtureLocation, fixtureV4, fixtureV6 } from '../dns/geoip/hot-cache-fixtures';

/** What `benchHotCache` measured. */
export interface HotCacheBenchResult {
  readonly prefixes: number;
  /**
   * ns per `noteV4` of a prefix not yet in the ring (a new ring slot): the median over batches of
   * 32,768 notes of wall time per note; `...BestNs` the least disturbed batch (the machine is shared).
   */
  readonly noteV4NewNs: number;
  readonly noteV4NewBestNs: number;
  /** ns per `noteV4` of a prefix already in the ring since the last drain (busy resolvers), over 1,024 prefixes. */
  readonly noteV4RepeatNs: number;
  readonly noteV4RepeatBestNs: number;
  /** ns per `noteV6` of a new prefix. */
  readonly noteV6NewNs: number;
  readonly noteV6NewBestNs: number;
  /** Drained prefixes per second of `flush()` wall time: ring -> index -> appended and fdatasync'd. */
  readonly drainPerSecond: number;
  /** The same, per second of this process's CPU time. */
  readonly drainPerCpuSecond: number;
  /** `open()` of a file holding `prefixes` records, ms of wall time. */
  readonly openMs: number;
  /** The same, ms of CPU time (all threads of the process: reads run in libuv's pool). */
  readonly openCpuMs: number;
  /** `table()` over `prefixes` entries, ms of CPU time. */
  readonly tableMs: number;
  /** A compaction of `prefixes` live entries (write, fdatasync, rename), ms. */
  readonly compactMs: number;
  readonly fileMiB: number;
  /** RSS of the process with `prefixes` cached, after a GC, MiB. */
  readonly rssMiB: number;
  /** RSS growth from before `open()` to `prefixes` cached, after a GC, MiB. */
  readonly rssGrowthMiB: number;
  /** RSS growth of an empty cache sized for `prefixes` (arrays allocated, pages untouched), MiB. */
  readonly rssEmptyMiB: number;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) { gc(); gc(); }
}

function rssMiB(): number {
  return process.memoryUsage().rss / 1048576;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

// Notes ips[first..end) with the locations of their index; a function of its own so that the
// compiler optimizes the loop alone, not as part of the long async benchmark body.
function noteV4Range(cache: HotPrefixCache, ips: Uint32Array, first: number, end: number, lat: Float64Array, lon: Float64Array, country: Uint16Array): void {
  for (let i = first; i < end; i++) cache.noteV4(ips[i], lat[i & 4095], lon[i & 4095], country[i & 4095]);
}

// `count` notes cycling over the first 1,024 of `ips`.
function noteV4Repeats(cache: HotPrefixCache, ips: Uint32Array, count: number, lat: Float64Array, lon: Float64Array, country: Uint16Array): void {
  for (let i = 0; i < count; i++) cache.noteV4(ips[i & 1023], lat[i & 4095], lon[i & 4095], country[i & 4095]);
}

function noteV6Range(cache: HotPrefixCache, w0: Uint32Array, w1: Uint32Array, first: number, end: number, lat: Float64Array, lon: Float64Array, country: Uint16Array): void {
  for (let i = first; i < end; i++) cache.noteV6(w0[i], w1[i], lat[i & 4095], lon[i & 4095], country[i & 4095]);
}

/** Runs the benchmark and prints a summary and one JSON line. */
export async function benchHotCache(prefixes = 2_000_000, log: (line: string) => void = (l) => console.log(l)): Promise<HotCacheBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-hot-bench-'));
  const path = join(dir, 'hot-prefixes.bin');
  const ring = 65_536;
  const batch = ring >>> 1;
  // Locations precomputed so the loops time the cache, not the fixtures.
  const lat = new Float64Array(4096);
  const lon = new Float64Array(4096);
  const country = new Uint16Array(4096);
  for (let i = 0; i < 4096; i++) ({ lat: lat[i], lon: lon[i], country: country[i] } = fixtureLocation(i));
  const ips = new Uint32Array(prefixes);
  for (let i = 0; i < prefixes; i++) ips[i] = fixtureV4(i);
  try {
    const warmIps = Uint32Array.from({ length: batch }, (_, i) => fixtureV4(prefixes + i));
    const warmW0 = new Uint32Array(batch);
    const warmW1 = new Uint32Array(batch);
    for (let i = 0; i < batch; i++) [warmW0[i], warmW1[i]] = fixtureV6(i);
    // Warm-up on a throwaway cache, so that the optimizing compiler has run over every path
    // (note, drain, write) before anything is timed.
    const warm = await HotPrefixCache.open({ path: join(dir, 'warm-up.bin'), maxPrefixes: 100_000, ttlHours: 72, flushIntervalMs: 3_600_000, ringCapacity: ring });
    for (let round = 0; round < 10; round++) {
      noteV4Range(warm, warmIps, 0, batch, lat, lon, country);
      noteV4Repeats(warm, warmIps, batch, lat, lon, country);
      noteV6Range(warm, warmW0, warmW1, 0, batch, lat, lon, country);
      await warm.flush();
    }
    await warm.close();
    rmSync(join(dir, 'warm-up.bin'));
    collect();
    const rss0 = rssMiB();
    // Timer off: the benchmark drains and writes with flush() so that each part is timed alone.
    let cache = await HotPrefixCache.open({ path, maxPrefixes: prefixes, ttlHours: 72, flushIntervalMs: 3_600_000, ringCapacity: ring });
    collect();
    const rssEmpty = rssMiB() - rss0;
    // Every flush is timed; the one that compacts the file (past twice the live entries) is kept.
    let compactMs = 0;
    const flush = async (): Promise<void> => {
      const before = cache.stats().compactions;
      const start = performance.now();
      await cache.flush();
      if (cache.stats().compactions > before) compactMs = performance.now() - start;
    };

    // Fill: every note is a new prefix; notes timed per batch, then the batch drained and written.
    const noteV4Batches: number[] = [];
    let flushMs = 0;
    let flushCpuMs = 0;
    for (let first = 0; first < prefixes; first += batch) {
      const end = Math.min(prefixes, first + batch);
      const t0 = process.hrtime.bigint();
      noteV4Range(cache, ips, first, end, lat, lon, country);
      noteV4Batches.push(Number(process.hrtime.bigint() - t0) / (end - first));
      const f0 = performance.now();
      const c0 = cpuMs();
      await flush();
      flushMs += performance.now() - f0;
      flushCpuMs += cpuMs() - c0;
    }
    if (cache.size() !== prefixes) throw new Error(`filled ${cache.size()} prefixes, expected ${prefixes}`);
    collect();
    const rssFull = rssMiB();

    // Repeats: a working set of 1,024 prefixes noted over and over (one ring slot each per drain).
    const repeatBatches: number[] = [];
    // Batches as short as the fill's (~1 ms), so that some run without being preempted.
    for (let round = 0; round < 300; round++) {
      const t0 = process.hrtime.bigint();
      noteV4Repeats(cache, ips, batch, lat, lon, country);
      repeatBatches.push(Number(process.hrtime.bigint() - t0) / batch);
      if (round % 50 === 49) await cache.flush();
    }

    // IPv6: new /48s in batches, like the fill.
    const v6Count = Math.min(prefixes, 1_000_000);
    const w0 = new Uint32Array(v6Count);
    const w1 = new Uint32Array(v6Count);
    for (let i = 0; i < v6Count; i++) [w0[i], w1[i]] = fixtureV6(i);
    const noteV6Batches: number[] = [];
    for (let first = 0; first < v6Count; first += batch) {
      const end = Math.min(v6Count, first + batch);
      const t0 = process.hrtime.bigint();
      noteV6Range(cache, w0, w1, first, end, lat, lon, country);
      noteV6Batches.push(Number(process.hrtime.bigint() - t0) / (end - first));
      await flush();
    }
    // Back to the IPv4 set (the /48s took the place of the least recently seen /24s), so that the
    // file and the table below hold the benchmark's prefixes; the file passes twice the live
    // entries on the way and is compacted.
    for (let first = 0; first < prefixes; first += batch) {
      const end = Math.min(prefixes, first + batch);
      noteV4Range(cache, ips, first, end, lat, lon, country);
      await flush();
    }
    const tableStart = cpuMs();
    const table = cache.table();
    const tableMs = cpuMs() - tableStart;
    if (cache.stats().compactions === 0) throw new Error('the file was never compacted');
    await cache.close();
    const fileMiB = statSync(path).size / 1048576;

    const o0 = performance.now();
    const oc0 = cpuMs();
    cache = await HotPrefixCache.open({ path, maxPrefixes: prefixes, ttlHours: 72, flushIntervalMs: 3_600_000, ringCapacity: ring });
    const openCpuMs = cpuMs() - oc0;
    const openMs = performance.now() - o0;
    if (cache.size() !== prefixes) throw new Error(`reopened with ${cache.size()} prefixes, expected ${prefixes}`);
    await cache.close();

    const result: HotCacheBenchResult = {
      prefixes,
      noteV4NewNs: median(noteV4Batches),
      noteV4NewBestNs: Math.min(...noteV4Batches),
      noteV4RepeatNs: median(repeatBatches),
      noteV4RepeatBestNs: Math.min(...repeatBatches),
      noteV6NewNs: median(noteV6Batches),
      noteV6NewBestNs: Math.min(...noteV6Batches),
      drainPerSecond: prefixes / (flushMs / 1000),
      drainPerCpuSecond: prefixes / (flushCpuMs / 1000),
      openMs,
      openCpuMs,
      tableMs,
      compactMs,
      fileMiB,
      rssMiB: rssFull,
      rssGrowthMiB: rssFull - rss0,
      rssEmptyMiB: rssEmpty,
    };
    const n = prefixes.toLocaleString('en-US');
    log(`Hot-prefix cache, ${n} IPv4 /24s (ring ${ring}, drained every ${batch} notes); open() and table() also in CPU time of this process`);
    log(`  noteV4, new prefix:        ${result.noteV4NewNs.toFixed(1)} ns/op median of batches, ${result.noteV4NewBestNs.toFixed(1)} best`);
    log(`  noteV4, repeated prefix:   ${result.noteV4RepeatNs.toFixed(1)} ns/op median of batches, ${result.noteV4RepeatBestNs.toFixed(1)} best`);
    log(`  noteV6, new prefix:        ${result.noteV6NewNs.toFixed(1)} ns/op median of batches, ${result.noteV6NewBestNs.toFixed(1)} best`);
    log(`  drain + append + fdatasync: ${(result.drainPerSecond / 1e6).toFixed(2)} M prefixes/s wall, ${(result.drainPerCpuSecond / 1e6).toFixed(2)} M/CPU-s`);
    log(`  open() of ${n} records:   ${openMs.toFixed(0)} ms wall, ${openCpuMs.toFixed(0)} ms CPU (file ${fileMiB.toFixed(1)} MiB)`);
    log(`  table() over ${n}:        ${tableMs.toFixed(0)} ms (${table.v4Count} ranges)`);
    log(`  compaction of ${n}:       ${compactMs.toFixed(0)} ms`);
    log(`  RSS: ${rssFull.toFixed(0)} MiB with ${n} cached; +${result.rssGrowthMiB.toFixed(1)} MiB over the process before open() `
      + `(empty cache sized for ${n}: +${rssEmpty.toFixed(1)} MiB)`);
    log(JSON.stringify({ bench: 'hot-cache', ...result, loadAverage: loadavg()[0] }));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--prefixes');
  const prefixes = at >= 0 ? Number(process.argv[at + 1]) : 2_000_000;
  benchHotCache(prefixes).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
