// CPU time of `QueryHandler.handleInto` per query, in process, as the benchmark's server runs it: the
// GeoIP service with the hot-prefix cache holding 2,000,000 prefixes from the start, recording on,
// the benchmark workload, and dnsperf's query file (a random ECS /24 per query).
// Usage: node dist/test/bench/dns/handler-cpu.js [--queries 1000000]
// Prints one JSON line: CPU µs per query over two passes after a warm-up (the second pass repeats
// the first's prefixes), and the cache's note counters.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGeoipLite } from '../../../dns/geoip';
import { HotPrefixCache } from '../../../dns/geoip/channels/hot-cache';
import { startGeoService } from '../../../dns/geoip/channels/service';
import { WorkloadStore } from '../../../dns/answer/store';
import { QueryHandler } from '../../../dns/server/handler';
import { DnsMetrics } from '../../../dns/server/metrics';
import { ZoneSet } from '../../../dns/zone/zone';
import { loadZoneConfig } from '../../../dns/zone/load';
import { benchWorkload } from './meridian-server';
import { writeQueryFile } from './queries';
import { BENCH_NAME, BENCH_ZONE } from './regions';

const CACHE_PREFIXES = 2_000_000;

async function main(): Promise<void> {
  const i = process.argv.indexOf('--queries');
  const queries = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
  if (!Number.isInteger(queries) || queries < 1) throw new Error(`--queries must be a whole number >= 1, got ${String(process.argv[i + 1])}`);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-handler-cpu-'));
  try {
    const cachePath = join(dir, 'hot-prefixes.bin');
    execFileSync(process.execPath, [join(__dirname, 'meridian-server.js'), '--fill-cache', cachePath, String(CACHE_PREFIXES)], { stdio: 'inherit' });
    const queryFile = join(dir, 'queries.bin');
    await writeQueryFile(queryFile, BENCH_NAME, queries);
    const raw = readFileSync(queryFile);
    const msgs: Buffer[] = [];
    for (let o = 0; o < raw.length;) {
      const n = raw.readUInt16BE(o);
      msgs.push(raw.subarray(o + 2, o + 2 + n));
      o += 2 + n;
    }
    const service = await startGeoService({
      minSwapIntervalSeconds: 60, maxDropPercent: 25, healthCheckIntervalSeconds: 5, staticDataCreatedAt: new Date().toISOString(),
      cache: { enabled: true, path: cachePath, maxPrefixes: CACHE_PREFIXES, ttlHours: 72, flushIntervalMs: 1000, mergeIntervalSeconds: 300,
        overridesDatasetAfterHours: 24 },
    }, await loadGeoipLite(), { openCache: (o) => HotPrefixCache.open(o) });
    try {
      const zones = new ZoneSet(loadZoneConfig({ zones: [{
        origin: BENCH_ZONE, ttlSeconds: 300, ns: [{ name: `ns1.${BENCH_ZONE}`, ipv4: '127.0.0.1' }], records: [],
        soa: { mname: `ns1.${BENCH_ZONE}`, rname: `hostmaster.${BENCH_ZONE}`, serial: 1, refreshSeconds: 3600, retrySeconds: 600,
          expireSeconds: 604800, minimumSeconds: 60 },
      }] }));
      const store = new WorkloadStore({ ttlMinSeconds: 5, ttlMaxSeconds: 3600, maxAddresses: 8 }, () => true);
      store.replaceAll([benchWorkload()]);
      store.answers()[0]!.runs(4, service.holder.current);
      const handler = new QueryHandler(zones, store, service.holder, new DnsMetrics(), { maxUdpPayload: 1232, recorder: service.recorder });
      // Batches of 64 with a turn of the event loop every 1,024 queries, so the cache drains and writes as in the server.
      // Each response is written into a send slot, as the batched UDP transport has it written.
      const slot = Buffer.alloc(4096);
      const pass = async (n: number): Promise<number> => {
        const c0 = process.cpuUsage();
        for (let q = 0; q < n;) {
          for (let k = 0; k < 64; k++, q++) handler.handleInto(msgs[q % msgs.length]!, '127.0.0.1', true, slot, 0, slot.length);
          if ((q & 1023) === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        const c = process.cpuUsage(c0);
        return (c.user + c.system) / n;
      };
      await pass(Math.min(250_000, msgs.length));
      const first = await pass(msgs.length);
      const second = await pass(msgs.length);
      const s = (service.recorder as HotPrefixCache).stats();
      console.log(JSON.stringify({ bench: 'dns-handler-cpu', queries, cachePrefixes: CACHE_PREFIXES, usPerQuery: [first, second].map((x) => Number(x.toFixed(3))),
        noted: s.noted, repeatNotes: s.repeatNotes, droppedNotes: s.droppedNotes }));
    } finally {
      await service.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
