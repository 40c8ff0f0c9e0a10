import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { GeoTable, packCountry, parseIp, unpackCountry } from '../../../dns/geoip';
import { HotPrefixCache, type HotPrefixCacheOptions } from '../../../dns/geoip/channels/hot-cache';
import {
  checkRecord, crc32, decodeHeader, decodeRecord, encodeHeader, encodeRecord, HOT_CACHE_HEADER_BYTES, HOT_CACHE_RECORD_BYTES,
  HotCacheDecodeError, type HotCacheRecord,
} from '../../../dns/geoip/channels/hot-cache-file';
import { PrefixLru } from '../../../dns/geoip/channels/prefix-lru';
import { waitFor } from '../../tools/wait';
import { fixtureLocation, fixtureV4, fixtureV6 } from './hot-cache-fixtures';

const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

function v4(text: string): number {
  const p = parseIp(text);
  if (p.version !== 4) throw new Error(`${text} is not IPv4`);
  return p.value;
}

function v6(text: string): [number, number] {
  const p = parseIp(text);
  if (p.version !== 6) throw new Error(`${text} is not IPv6`);
  return [p.words[0], p.words[1]];
}

describe('The hot-prefix cache', function () {
  this.timeout(30_000);
  let dir: string;
  let path: string;
  let clock: number;
  const open: HotPrefixCache[] = [];

  // A cache on this test's file and clock; flushes are explicit unless a test sets the interval.
  async function openCache(o: Partial<HotPrefixCacheOptions> = {}): Promise<HotPrefixCache> {
    const cache = await HotPrefixCache.open({ path, maxPrefixes: 1000, ttlHours: 72, flushIntervalMs: 600_000, now: () => clock, ...o });
    open.push(cache);
    return cache;
  }

  async function reopen(cache: HotPrefixCache, o: Partial<HotPrefixCacheOptions> = {}): Promise<HotPrefixCache> {
    await cache.close();
    return openCache(o);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-hot-cache-'));
    path = join(dir, 'cache', 'hot-prefixes.bin');
    clock = T0;
  });

  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every noted /24 and /48 with its location across a close and a reopen', async () => {
    let cache = await openCache();
    assert.equal(cache.size(), 0);
    assert.equal(statSync(path).size, HOT_CACHE_HEADER_BYTES, 'a new cache file holds just its header');
    for (let i = 0; i < 300; i++) {
      const loc = fixtureLocation(i);
      cache.noteV4(fixtureV4(i), loc.lat, loc.lon, loc.country);
      cache.noteV6(...fixtureV6(i), loc.lat, loc.lon, loc.country);
    }
    cache = await reopen(cache);
    assert.equal(cache.size(), 600);
    assert.equal(cache.loadReport.records, 600);
    assert.deepEqual(cache.loadReport.warnings, []);
    for (let i = 0; i < 300; i++) {
      const loc = fixtureLocation(i);
      const want = { lat: loc.lat, lon: loc.lon, country: loc.country, seenAt: T0 };
      assert.deepEqual(cache.getV4(fixtureV4(i)), want, `IPv4 entry ${i}`);
      assert.deepEqual(cache.getV6(...fixtureV6(i)), want, `IPv6 entry ${i}`);
    }
  });

  it('keys an IPv4 address by its /24 and an IPv6 address by its /48', async () => {
    const cache = await openCache();
    cache.noteV4(v4('198.51.100.7'), 1, 2, packCountry('NL'));
    cache.noteV4(v4('198.51.100.250'), 3, 4, packCountry('BE'));
    cache.noteV6(...v6('2001:db8:5::1'), 5, 6, packCountry('FR'));
    cache.noteV6(...v6('2001:db8:5:ffff::1'), 7, 8, packCountry('ES'));
    cache.noteV6(...v6('2001:db8:6::1'), 9, 10, packCountry('PT'));
    await cache.flush();
    assert.equal(cache.size(), 3);
    assert.equal(cache.getV4(v4('198.51.100.0'))?.country, packCountry('BE'), 'the later note of the /24 wins');
    assert.equal(cache.getV4(v4('198.51.101.0')), undefined);
    assert.equal(cache.getV6(...v6('2001:db8:5:1234::'))?.country, packCountry('ES'));
    assert.equal(cache.getV6(...v6('2001:db8:6::'))?.country, packCountry('PT'));
    assert.equal(cache.getV6(...v6('2001:db8:7::')), undefined);
  });

  it('survives SIGKILL of a process that noted entries once its flush timer has written them', async () => {
    const count = 2000;
    const child = spawn(process.execPath, [join(__dirname, 'hot-cache-child.js'), path, String(count), '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      await waitFor(`the child to print "flushed" (stderr: ${err})`, () => out.includes('flushed') || child.exitCode !== null, 15_000);
      assert.match(out, /flushed \d+/, `child output: ${out} ${err}`);
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    const cache = await openCache({ maxPrefixes: 100_000 });
    assert.ok(cache.size() >= 2 * count, `loaded ${cache.size()} of at least ${2 * count}`);
    assert.deepEqual(cache.loadReport.dropped, {}, 'no whole record is damaged; at most the last one is torn');
    for (let i = 0; i < count; i++) {
      const loc = fixtureLocation(i);
      assert.equal(cache.getV4(fixtureV4(i))?.lat, loc.lat, `IPv4 entry ${i}`);
      assert.equal(cache.getV6(...fixtureV6(i))?.lon, loc.lon, `IPv6 entry ${i}`);
    }
  });

  it('expires entries not seen for 72 hours, in memory and when the file is loaded', async () => {
    let cache = await openCache();
    const [a, b] = [v4('192.0.2.1'), v4('203.0.113.1')];
    cache.noteV4(a, 10, 20, packCountry('DE'));
    cache.noteV4(b, 30, 40, packCountry('JP'));
    await cache.flush();
    clock = T0 + 48 * HOUR_MS;
    cache.noteV4(a, 10, 20, packCountry('DE'));
    await cache.flush();
    clock = T0 + 72 * HOUR_MS - 1000;
    await cache.flush();
    assert.equal(cache.size(), 2, 'both are younger than 72 hours');
    clock = T0 + 72 * HOUR_MS + 1000;
    await cache.flush();
    assert.equal(cache.size(), 1);
    assert.equal(cache.getV4(b), undefined, 'the prefix last seen 72 hours ago is gone');
    assert.equal(cache.getV4(a)?.seenAt, T0 + 48 * HOUR_MS);
    assert.equal(cache.stats().expired, 1);
    assert.equal(cache.table().lookup('203.0.113.1'), undefined);

    cache = await reopen(cache);
    assert.equal(cache.size(), 1);
    assert.equal(cache.getV4(b), undefined, 'an expired record is not loaded');
    assert.equal(cache.loadReport.expired, 2, 'both records written at T0 are past 72 hours');
    clock = T0 + 120 * HOUR_MS + 1000;
    cache = await reopen(cache);
    assert.equal(cache.size(), 0);
  });

  it('drops the least recently seen prefix first when the bound is reached, and after a reload', async () => {
    let cache = await openCache({ maxPrefixes: 3 });
    const [a, b, c, d] = ['10.0.1.1', '10.0.2.1', '10.0.3.1', '10.0.4.1'].map(v4);
    for (const [ip, second] of [[a, 0], [b, 1], [c, 2], [a, 3], [d, 4]] as const) {
      clock = T0 + second * 1000;
      cache.noteV4(ip, second, second, packCountry('SE'));
      await cache.flush();
    }
    assert.equal(cache.size(), 3);
    assert.equal(cache.getV4(b), undefined, 'b was the least recently seen when d came');
    assert.deepEqual([a, c, d].map((ip) => cache.getV4(ip)?.lat), [3, 2, 4]);
    assert.equal(cache.stats().evicted, 1);

    cache = await reopen(cache, { maxPrefixes: 3 });
    assert.deepEqual([a, b, c, d].map((ip) => cache.getV4(ip) !== undefined), [true, false, true, true]);
    cache = await reopen(cache, { maxPrefixes: 2 });
    assert.deepEqual([a, b, c, d].map((ip) => cache.getV4(ip) !== undefined), [true, false, false, true],
      'a smaller bound keeps the two most recently seen');
  });

  it('refreshes the time and location of a prefix noted again', async () => {
    let cache = await openCache();
    const ip = v4('100.64.7.9');
    cache.noteV4(ip, 1.5, 2.5, packCountry('IT'));
    await cache.flush();
    clock = T0 + 10_000;
    cache.noteV4(ip, -33.8688, 151.2093, packCountry('AU'));
    await cache.flush();
    assert.equal(cache.size(), 1);
    assert.deepEqual(cache.getV4(ip), { lat: -33.8688, lon: 151.2093, country: packCountry('AU'), seenAt: T0 + 10_000 });
    // Between two drains, repeats take one ring slot and the last location wins.
    cache.noteV4(ip, 1, 1, packCountry('IT'));
    cache.noteV4(ip + 1, 2, 2, packCountry('IT'));
    cache.noteV4(ip + 2, 48.8566, 2.3522, packCountry('FR'));
    assert.equal(cache.stats().noted, 3, 'one ring slot per prefix per drain');
    cache = await reopen(cache);
    assert.deepEqual(cache.getV4(ip), { lat: 48.8566, lon: 2.3522, country: packCountry('FR'), seenAt: T0 + 10_000 });
  });

  it('notes a prefix answered from a table once per renote period, and again from a new table or after the period', async () => {
    const cache = await openCache({ renoteAfterSeconds: 60, flushIntervalMs: 10 });
    const paris = GeoTable.fromEntries([{ range: '100.64.0.0/16', lat: 48.8566, lon: 2.3522, country: 'FR' },
      { range: '2001:db8::/32', lat: 48.8566, lon: 2.3522, country: 'FR' }]);
    const ip = v4('100.64.7.9');
    const [w0, w1] = v6('2001:db8:1:2::9');
    for (let k = 0; k < 5; k++) {
      if (cache.wantsV4(paris, ip + k)) cache.noteV4Range(paris, paris.findV4(ip + k), ip + k);
      cache.noteV6Range(paris, paris.findV6Words(w0, w1, 0, 9), w0, w1);
    }
    assert.deepEqual([cache.stats().noted, cache.stats().repeatNotes], [2, 8], 'the /24 and the /48 once each');
    await cache.flush();
    assert.equal(cache.getV4(ip)?.country, packCountry('FR'));
    assert.equal(cache.getV6(w0, w1)?.country, packCountry('FR'));
    // A new table may place the prefix elsewhere: noted again at once.
    const tokyo = GeoTable.fromEntries([{ range: '100.64.0.0/16', lat: 35.68, lon: 139.69, country: 'JP' }]);
    assert.equal(cache.wantsV4(tokyo, ip), true);
    cache.noteV4Range(tokyo, tokyo.findV4(ip), ip);
    assert.equal(cache.wantsV4(tokyo, ip), false);
    await cache.flush();
    assert.equal(cache.getV4(ip)?.country, packCountry('JP'));
    // Past the period the flush timer forgets what was noted, so the last-seen time moves on.
    clock = T0 + 61_000;
    await waitFor('the note filter to be reset', () => cache.wantsV4(tokyo, ip), 5_000);
    cache.noteV4Range(tokyo, tokyo.findV4(ip), ip);
    await cache.flush();
    assert.equal(cache.getV4(ip)?.seenAt, T0 + 61_000);
  });

  it('loads what is valid from a torn or damaged file, reports what it dropped, and keeps appending', async () => {
    let cache = await openCache();
    for (let i = 0; i < 100; i++) cache.noteV4(fixtureV4(i), fixtureLocation(i).lat, fixtureLocation(i).lon, fixtureLocation(i).country);
    await cache.close();
    const bytes = readFileSync(path);
    assert.equal(bytes.length, HOT_CACHE_HEADER_BYTES + 100 * HOT_CACHE_RECORD_BYTES);
    // Record 10 (the 11th noted prefix) rots in the middle; a write of 11 bytes was cut short at the end.
    bytes[HOT_CACHE_HEADER_BYTES + 10 * HOT_CACHE_RECORD_BYTES + 13] ^= 0x40;
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(11, 0xab)]));
    const warnings: string[] = [];
    cache = await openCache({ log: (m) => warnings.push(m) });
    assert.equal(cache.size(), 99);
    assert.equal(cache.getV4(fixtureV4(10)), undefined);
    assert.equal(cache.getV4(fixtureV4(11))?.lat, fixtureLocation(11).lat);
    const r = cache.loadReport;
    assert.deepEqual([r.records, r.loaded, r.dropped, r.tornBytes, r.rewritten], [100, 99, { checksum: 1 }, 11, true]);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /dropped 1 damaged record\(s\) of 100 \(checksum 1\)/);
    assert.match(warnings.join('\n'), /torn last record of 11 byte/);
    assert.equal(statSync(path).size, HOT_CACHE_HEADER_BYTES + 99 * HOT_CACHE_RECORD_BYTES, 'rewritten without the damage');

    cache.noteV4(fixtureV4(10), 1, 2, packCountry('NO'));
    cache = await reopen(cache);
    assert.equal(cache.size(), 100);
    assert.deepEqual(cache.loadReport.warnings, []);
    assert.equal(cache.getV4(fixtureV4(10))?.country, packCountry('NO'));
  });

  it('starts empty from a file that is not a cache file, keeping the file aside', async () => {
    const mkdirAndWrite = (content: Buffer): void => {
      mkdirSync(join(dir, 'cache'), { recursive: true });
      writeFileSync(path, content);
    };
    for (const content of [Buffer.from('{"not": "a cache"}\n'), Buffer.alloc(7, 1)]) {
      mkdirAndWrite(content);
      let cache = await openCache();
      assert.equal(cache.size(), 0);
      assert.ok(cache.loadReport.badHeader, 'the report names the bad header');
      assert.deepEqual(readFileSync(`${path}.bad`), content);
      cache.noteV4(v4('192.0.2.9'), 1, 1, 0);
      cache = await reopen(cache);
      assert.equal(cache.size(), 1);
      assert.equal(cache.loadReport.badHeader, undefined);
      await cache.close();
    }
  });

  it('compacts the file into a fresh one past twice the live entries, keeping the recency order', async () => {
    let cache = await openCache({ minCompactRecords: 0 });
    const ips = Array.from({ length: 10 }, (_, i) => fixtureV4(i));
    for (const round of [0, 1]) {
      clock = T0 + round * 1000;
      for (const ip of ips) cache.noteV4(ip, round, round, 0);
      await cache.flush();
    }
    assert.equal(cache.stats().fileRecords, 20, 'twice the live entries is not yet past the threshold');
    assert.equal(cache.stats().compactions, 0);
    // Third round in reverse order: the first prefix becomes the most recently seen.
    clock = T0 + 2000;
    for (const ip of [...ips].reverse()) {
      cache.noteV4(ip, 2, 2, 0);
      await cache.flush();
      clock += 1000;
    }
    assert.ok(cache.stats().compactions >= 1);
    assert.ok(cache.stats().fileRecords < 20, `file holds ${cache.stats().fileRecords} records`);
    assert.equal(statSync(path).size, HOT_CACHE_HEADER_BYTES + cache.stats().fileRecords * HOT_CACHE_RECORD_BYTES);
    assert.equal(existsSync(`${path}.tmp`), false);
    cache = await reopen(cache, { maxPrefixes: 3 });
    assert.deepEqual(ips.slice(0, 3).map((ip) => cache.getV4(ip)?.lat), [2, 2, 2], 'the three most recently seen survive a smaller bound');
    assert.equal(cache.size(), 3);
  });

  it('folds repeats into one ring slot, drains early at half capacity and counts notes the full ring refuses', async () => {
    const cache = await openCache({ ringCapacity: 8 });
    for (let k = 0; k < 1000; k++) cache.noteV4(v4('192.0.2.1'), 1, 1, 0);
    for (let i = 0; i < 20; i++) cache.noteV4(fixtureV4(i), 1, 1, 0);
    assert.deepEqual([cache.stats().noted, cache.stats().droppedNotes], [8, 13]);
    await waitFor('the early drain', () => cache.size() === 8, 2_000);
    cache.noteV4(v4('192.0.2.1'), 1, 1, 0);
    cache.noteV4(v4('198.51.100.1'), 200, 1, 0);
    cache.noteV4(v4('198.51.100.1'), 1, Number.NaN, 0);
    assert.equal(cache.stats().rejectedNotes, 2, 'coordinates out of range are not recorded');
    await cache.flush();
    assert.equal(cache.size(), 8);
  });

  it('serves its entries as a GeoTable of source cache, merging adjacent prefixes with one location', async () => {
    const cache = await openCache();
    const [paris, tokyo] = [{ lat: 48.8566, lon: 2.3522, c: packCountry('FR') }, { lat: 35.6762, lon: 139.6503, c: packCountry('JP') }];
    for (const ip of ['10.0.0.1', '10.0.1.1', '10.0.2.1', '10.0.5.1']) cache.noteV4(v4(ip), paris.lat, paris.lon, paris.c);
    cache.noteV4(v4('10.0.3.1'), tokyo.lat, tokyo.lon, tokyo.c);
    for (const ip of ['2001:db8:1::1', '2001:db8:2::1', '2001:db8:ffff::1', '2001:db9::1']) cache.noteV6(...v6(ip), tokyo.lat, tokyo.lon, tokyo.c);
    cache.noteV6(...v6('2001:db9:1::1'), paris.lat, paris.lon, paris.c);
    const table = cache.table();
    assert.equal(table.source, 'cache');
    assert.deepEqual([table.v4Count, table.v6Count, table.locationCount], [3, 3, 2]);
    const at = (ip: string): string => {
      const m = table.lookup(ip);
      return m ? `${m.prefix} ${m.country} ${m.lat},${m.lon} ${m.source}` : 'none';
    };
    assert.equal(at('10.0.1.9'), '10.0.0.0/23 FR 48.8566,2.3522 cache');
    assert.equal(at('10.0.2.200'), '10.0.2.0/24 FR 48.8566,2.3522 cache');
    assert.equal(at('10.0.3.3'), '10.0.3.0/24 JP 35.6762,139.6503 cache');
    assert.equal(at('10.0.4.3'), 'none');
    assert.equal(at('10.0.5.255'), '10.0.5.0/24 FR 48.8566,2.3522 cache');
    assert.equal(at('2001:db8:2:abcd::1'), '2001:db8:2::/48 JP 35.6762,139.6503 cache');
    assert.equal(at('2001:db8:3::1'), 'none');
    assert.equal(at('2001:db8:ffff::9'), '2001:db8:ffff::/48 JP 35.6762,139.6503 cache');
    assert.equal(at('2001:db9::9'), '2001:db9::/48 JP 35.6762,139.6503 cache');
    assert.equal(at('2001:db9:1::9'), '2001:db9:1::/48 FR 48.8566,2.3522 cache');
  });

  it('locates every address as a table built from the same entries would', async () => {
    const cache = await openCache({ maxPrefixes: 5000 });
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.record({ slash24: fc.integer({ min: 0, max: 300 }), loc: fc.integer({ min: 0, max: 2 }) }), { selector: (e) => e.slash24, maxLength: 120 }),
      fc.array(fc.integer({ min: 0, max: 301 * 256 }), { minLength: 1, maxLength: 50 }),
      async (entries, probes) => {
        clock += 73 * HOUR_MS;
        await cache.flush();
        assert.equal(cache.size(), 0);
        clock += 1000;
        const base = v4('20.0.0.0');
        for (const e of entries) {
          const loc = fixtureLocation(e.loc);
          cache.noteV4(base + e.slash24 * 256 + 17, loc.lat, loc.lon, loc.country);
        }
        const ours = cache.table();
        const reference = GeoTable.fromEntries(entries.map((e) => {
          const loc = fixtureLocation(e.loc);
          return { range: `${(base + e.slash24 * 256) >>> 24}.${((base + e.slash24 * 256) >>> 16) & 255}.${((base + e.slash24 * 256) >>> 8) & 255}.0/24`, lat: loc.lat, lon: loc.lon, country: unpackCountry(loc.country) };
        }));
        for (const p of probes) {
          const ip = base + p;
          assert.deepEqual(ours.matchV4(ip), reference.matchV4(ip) && { ...reference.matchV4(ip), source: 'cache' });
        }
      }), { numRuns: 60 });
  });

  it('keeps entries in memory when a write fails and rewrites the whole file once writing works again', async () => {
    const warnings: string[] = [];
    let cache = await openCache({ minCompactRecords: 0, log: (m) => warnings.push(m) });
    const ips = Array.from({ length: 5 }, (_, i) => fixtureV4(i));
    const noteAll = (): void => { for (const ip of ips) cache.noteV4(ip, 12.5, 45.25, packCountry('KE')); };
    noteAll();
    await cache.flush();
    // The directory goes away: appends still reach the open (now unlinked) file, the next
    // compaction cannot create its temporary file.
    rmSync(join(dir, 'cache'), { recursive: true, force: true });
    for (let round = 0; round < 2; round++) {
      noteAll();
      await cache.flush();
    }
    assert.equal(cache.stats().writeFailures, 1);
    assert.match(cache.stats().lastError ?? '', /hot-prefixes\.bin failed: .*ENOENT/);
    assert.match(warnings.join('\n'), /rewriting the file at the next flush/);
    assert.equal(cache.size(), 5, 'the entries stay in memory');
    mkdirSync(join(dir, 'cache'));
    await cache.flush();
    assert.equal(cache.stats().lastError, undefined);
    assert.equal(cache.stats().writeFailures, 1);
    cache = await reopen(cache);
    assert.equal(cache.size(), 5);
    assert.equal(cache.getV4(ips[4])?.lon, 45.25);
  });

  it('serves what a damaged file held even when the file cannot be rewritten, and rewrites it once it can', async () => {
    let cache = await openCache();
    for (let i = 0; i < 20; i++) cache.noteV4(fixtureV4(i), 1, 2, packCountry('CL'));
    await cache.close();
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(5)]));
    // A directory where the rewrite's temporary file must go makes the rewrite fail.
    mkdirSync(`${path}.tmp`);
    cache = await openCache();
    assert.equal(cache.size(), 20);
    assert.equal(cache.loadReport.tornBytes, 5);
    assert.match(cache.loadReport.warnings.join('\n'), /rewriting .* failed: .*; serving what loaded/);
    assert.equal(cache.stats().writeFailures, 1);
    cache.noteV4(fixtureV4(20), 1, 2, packCountry('CL'));
    await cache.flush();
    assert.equal(cache.stats().writeFailures, 2, 'nothing is appended after the torn record while the rewrite fails');
    assert.equal(statSync(path).size % HOT_CACHE_RECORD_BYTES, (HOT_CACHE_HEADER_BYTES + 5) % HOT_CACHE_RECORD_BYTES);
    rmSync(`${path}.tmp`, { recursive: true });
    await cache.flush();
    assert.equal(cache.stats().lastError, undefined);
    cache = await reopen(cache);
    assert.equal(cache.size(), 21);
    assert.deepEqual(cache.loadReport.warnings, []);
  });

  it('holds, across notes, clock jumps, compactions and reopens, the most recently seen prefixes younger than 72 hours', async () => {
    const bound = 4;
    const ttlSeconds = 72 * 3600;
    let run = 0;
    const keyOf = (k: number): { get: (c: HotPrefixCache) => { lat: number } | undefined; note: (c: HotPrefixCache, loc: number) => void } => (k < 6
      ? { get: (c) => c.getV4(fixtureV4(k)), note: (c, loc) => c.noteV4(fixtureV4(k), loc, -loc, 0) }
      : { get: (c) => c.getV6(...fixtureV6(k)), note: (c, loc) => c.noteV6(...fixtureV6(k), loc, -loc, 0) });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('note' as const), key: fc.integer({ min: 0, max: 11 }), locs: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }), hours: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('reopen' as const), key: fc.constant(0), locs: fc.constant([]), hours: fc.integer({ min: 0, max: 40 }) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
      path = join(dir, `model-${run++}.bin`);
      clock = T0;
      const options = { maxPrefixes: bound, minCompactRecords: 0 };
      let cache = await openCache(options);
      // The model: every key with its last location and time, least recently seen first.
      const history = new Map<number, { loc: number; seen: number }>();
      let cutoff = Math.floor(clock / 1000) - ttlSeconds;
      try {
        for (const o of ops) {
          clock += o.hours * HOUR_MS + 1000;
          const stamp = Math.floor(clock / 1000);
          if (o.kind === 'note') {
            for (const loc of o.locs) keyOf(o.key).note(cache, loc);
            await cache.flush();
            history.delete(o.key);
            history.set(o.key, { loc: o.locs[o.locs.length - 1], seen: stamp });
          } else {
            cache = await reopen(cache, options);
          }
          cutoff = stamp - ttlSeconds;
          const held = new Map([...history].slice(-bound).filter(([, e]) => e.seen >= cutoff));
          for (let k = 0; k < 12; k++) assert.equal(keyOf(k).get(cache)?.lat, held.get(k)?.loc, `key ${k} after ${JSON.stringify(o)}`);
          assert.equal(cache.size(), held.size);
        }
      } finally {
        await cache.close();
      }
    }), { numRuns: 40 });
  });

  it('rejects bad options, naming the option', async () => {
    await assert.rejects(HotPrefixCache.open({ path, maxPrefixes: 0, ttlHours: 72, flushIntervalMs: 1000 }), /maxPrefixes must be a number from 1/);
    await assert.rejects(HotPrefixCache.open({ path, maxPrefixes: 10, ttlHours: Number.NaN, flushIntervalMs: 1000 }), /ttlHours/);
    await assert.rejects(HotPrefixCache.open({ path, maxPrefixes: 10, ttlHours: 72, flushIntervalMs: -1 }), /flushIntervalMs/);
    assert.equal(existsSync(path), false, 'nothing is created for bad options');
  });
});

describe('The hot-prefix cache file format', function () {
  const recordArb: fc.Arbitrary<HotCacheRecord> = fc.oneof(
    fc.record({ family: fc.constant(4 as const), word0: fc.integer({ min: 0, max: 0xffffff }).map((x) => x * 256), word1: fc.constant(0) }),
    fc.record({ family: fc.constant(6 as const), word0: fc.integer({ min: 0, max: 0xffffffff }), word1: fc.integer({ min: 0, max: 0xffff }).map((x) => x * 65536) }),
  ).chain((key) => fc.record({
    family: fc.constant(key.family), word0: fc.constant(key.word0), word1: fc.constant(key.word1),
    latE7: fc.integer({ min: -900_000_000, max: 900_000_000 }), lonE7: fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }),
    country: fc.integer({ min: 0, max: 0xffff }), seenSeconds: fc.integer({ min: 0, max: 0xffffffff }),
  }));

  it('round-trips records at any offset', () => {
    fc.assert(fc.property(recordArb, fc.nat(40), (r, offset) => {
      const buf = Buffer.alloc(offset + HOT_CACHE_RECORD_BYTES + 3, 0xee);
      assert.equal(encodeRecord(r, buf, offset), HOT_CACHE_RECORD_BYTES);
      assert.deepEqual(decodeRecord(buf, offset), { ...r });
      assert.equal(buf[offset - 1] ?? 0xee, 0xee, 'nothing written before the record');
      assert.equal(buf[offset + HOT_CACHE_RECORD_BYTES], 0xee, 'nothing written after the record');
    }));
  });

  it('detects any single flipped bit in a record', () => {
    fc.assert(fc.property(recordArb, fc.nat(HOT_CACHE_RECORD_BYTES * 8 - 1), (r, bit) => {
      const buf = Buffer.alloc(HOT_CACHE_RECORD_BYTES);
      encodeRecord(r, buf, 0);
      buf[bit >>> 3] ^= 1 << (bit & 7);
      assert.notEqual(checkRecord(buf, 0), undefined);
      assert.throws(() => decodeRecord(buf, 0), (e: unknown) => e instanceof HotCacheDecodeError && e.code === 'GEOIP_BAD_DATA');
    }), { numRuns: 500 });
  });

  it('throws only its typed decode error on arbitrary bytes and never reads past the buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -2, max: 70 }), (bytes, offset) => {
      const buf = Buffer.from(bytes);
      for (const decode of [decodeRecord, decodeHeader]) {
        try {
          decode(buf, offset);
        } catch (e) {
          assert.ok(e instanceof HotCacheDecodeError, String(e));
        }
      }
    }), { numRuns: 2000 });
    assert.equal(checkRecord(Buffer.alloc(HOT_CACHE_RECORD_BYTES), 1), 'short');
    assert.throws(() => decodeHeader(Buffer.alloc(15)), (e: unknown) => e instanceof HotCacheDecodeError && e.reason === 'short');
  });

  it('writes a header that it reads back and refuses other versions', () => {
    const buf = Buffer.alloc(HOT_CACHE_HEADER_BYTES + 5);
    assert.equal(encodeHeader(buf, 5), HOT_CACHE_HEADER_BYTES);
    assert.deepEqual(decodeHeader(buf, 5), { version: 1, recordBytes: HOT_CACHE_RECORD_BYTES });
    assert.equal(buf.subarray(5, 9).toString('latin1'), 'CPHM');
    buf.writeUInt16LE(2, 9);
    buf.writeUInt32LE(crc32(buf, 5, 12), 17);
    assert.throws(() => decodeHeader(buf, 5), (e: unknown) => e instanceof HotCacheDecodeError && e.reason === 'version');
  });

  it('computes the same CRC-32 as zlib', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      assert.equal(crc32(bytes), zlibCrc32(bytes) >>> 0);
    }));
  });
});

describe('The bounded least-recently-seen prefix index', function () {
  it('holds what a simple model holds, in the same order, through inserts, refreshes, evictions, removals and expiry', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), key: fc.integer({ min: 0, max: 40 }), seen: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('remove' as const), key: fc.integer({ min: 0, max: 40 }), seen: fc.constant(0) }),
      fc.record({ kind: fc.constant('expire' as const), key: fc.constant(0), seen: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
      const lru = new PrefixLru(capacity);
      // The model: keys least recently seen first, with their seen times.
      let model: Array<{ key: number; seen: number }> = [];
      let clock = 0;
      // Keys collide often in 32 slots: both words vary so the hash's probe runs are exercised.
      const words = (key: number): [number, number] => (key % 2 === 0 ? [key * 256, 1] : [key, (key % 5) * 65536]);
      for (const o of ops) {
        const [a, b] = words(o.key);
        if (o.kind === 'upsert') {
          clock += o.seen;
          model = model.filter((e) => e.key !== o.key);
          if (model.length === capacity) model.shift();
          model.push({ key: o.key, seen: clock });
          lru.upsert(a, b, o.key, 1000 - o.key, o.key, clock);
        } else if (o.kind === 'remove') {
          const id = lru.find(a, b);
          assert.equal(id >= 0, model.some((e) => e.key === o.key));
          if (id >= 0) lru.remove(id);
          model = model.filter((e) => e.key !== o.key);
        } else {
          const cutoff = clock - o.seen;
          while (model.length > 0 && model[0].seen < cutoff) model.shift();
          lru.expireBefore(cutoff);
        }
        const order: number[] = [];
        lru.forEachOldestFirst((id) => order.push(lru.latE7(id)));
        assert.deepEqual(order, model.map((e) => e.key));
        assert.equal(lru.count, model.length);
        for (let key = 0; key <= 40; key++) {
          const id = lru.find(...words(key));
          assert.equal(id >= 0 ? lru.lonE7(id) : undefined, model.some((e) => e.key === key) ? 1000 - key : undefined, `key ${key}`);
        }
      }
    }), { numRuns: 300 });
  });
});
