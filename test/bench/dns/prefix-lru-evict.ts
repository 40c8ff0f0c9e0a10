// CPU time of an insert into the hot-prefix cache's full index, the cost every new client /24
// brings in the DNS benchmark: `PrefixLru` holding 2,000,000 prefixes, each new key evicting the
// least recently seen one; one call per key (`upsert`) and the drain's grouped calls (`upsertMany`).
// Usage: node dist/test/bench/dns/prefix-lru-evict.js [--prefixes N] [--batches N]
// Prints one JSON line: ns of CPU per key, the median and the least disturbed of batches of 8,192.
import { loadavg } from 'node:os';
import { PrefixLru, V4_KEY_TAG } from '../../../dns/geoip/channels/prefix-lru';

const BATCH = 8192;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got ${String(process.argv[i + 1])}`);
  return n;
}

function cpuNs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) * 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

// Distinct /24 network addresses, none of them among the fill's.
function keys(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s ^ (s << 7)) & 0xffffff00 | 0x80) >>> 0;
  }
  return out;
}

function fill(l: PrefixLru, n: number): void {
  for (let i = 0; i < n; i++) l.upsert((Math.imul(i, 0x9e3779b1) & 0xffffff00) >>> 0, V4_KEY_TAG, i, -i, 1, 1_000);
}

function oneByOne(l: PrefixLru, k: Uint32Array, first: number, lat: Int32Array, lon: Int32Array, country: Uint16Array): void {
  for (let i = 0; i < BATCH; i++) l.upsert(k[first + i]!, V4_KEY_TAG, lat[i]!, lon[i]!, country[i]!, 2_000);
}

function main(): void {
  const prefixes = arg('--prefixes', 2_000_000);
  const batches = arg('--batches', 64);
  const single = new PrefixLru(prefixes);
  const grouped = new PrefixLru(prefixes);
  fill(single, prefixes);
  fill(grouped, prefixes);
  const k = keys(BATCH * batches, 7);
  const tag = new Uint32Array(BATCH).fill(V4_KEY_TAG);
  const lat = Int32Array.from({ length: BATCH }, (_, i) => i * 1000);
  const lon = Int32Array.from({ length: BATCH }, (_, i) => -i * 1000);
  const country = Uint16Array.from({ length: BATCH }, (_, i) => i & 0xff);
  const one: number[] = [];
  const many: number[] = [];
  for (let b = 0; b < batches; b++) {
    const first = b * BATCH;
    let t = cpuNs();
    oneByOne(single, k, first, lat, lon, country);
    one.push((cpuNs() - t) / BATCH);
    t = cpuNs();
    grouped.upsertMany(k.subarray(first, first + BATCH), tag, lat, lon, country, BATCH, 2_000);
    many.push((cpuNs() - t) / BATCH);
  }
  if (single.count !== prefixes || grouped.count !== prefixes || single.evictions !== grouped.evictions) {
    throw new Error(`the two indexes disagree: ${single.count}/${grouped.count} entries, ${single.evictions}/${grouped.evictions} evictions`);
  }
  // Both least recently seen first: the same keys in the same order.
  const a: number[] = [];
  const g: number[] = [];
  single.forEachOldestFirst((id) => a.push(single.keyA(id)));
  grouped.forEachOldestFirst((id) => g.push(grouped.keyA(id)));
  if (a.length !== g.length || a.some((v, i) => v !== g[i])) throw new Error('upsertMany left another order than upsert');
  // The first batches warm up the compiler: left out.
  const warm = Math.min(4, batches - 1);
  const s1 = one.slice(warm);
  const s2 = many.slice(warm);
  console.log(JSON.stringify({
    bench: 'prefix-lru-evict', prefixes, keys: BATCH * (batches - warm), evictions: single.evictions,
    upsertNs: { median: Math.round(median(s1)), best: Math.round(Math.min(...s1)) },
    upsertManyNs: { median: Math.round(median(s2)), best: Math.round(Math.min(...s2)) },
    loadAverage: loadavg()[0],
  }));
}

if (require.main === module) main();
