// Child process for the DNS benchmark: Meridian's GeoDNS server answering `web.meridian.test`
// from the benchmark regions.
// Usage: node dist/test/bench/dns/meridian-server.js --port N [--workers N] [--udp batched|dgram] [--cache-prefixes N]
// (--port 0: the server binds a free port, the same for UDP and TCP, and reports it).
// It runs the GeoIP service as production does (supervisor, hot-prefix recording into a cache file in a
// temporary directory), the cache first filled with N distinct /24s (default 0).
// Prints "ready <port>" on stdout once it answers; exits on SIGTERM or when stdin closes.
// With --workers N > 1 it runs N cluster workers on the port (see dns/cluster.ts).
import cluster from 'node:cluster';
import { type DnsServerOptions, startDnsCluster, startDnsServer, UDP_TRANSPORTS, type UdpTransport, type WorkloadEndpoints } from '../../../dns';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGeoipLite, type PreparedGeoTable } from '../../../dns/geoip';
import { HotPrefixCache } from '../../../dns/geoip/channels/hot-cache';
import { startGeoService } from '../../../dns/geoip/channels/service';
import type { ClusterGeo } from '../../../dns/cluster';
import { fixtureLocation, fixtureV4 } from '../../dns/geoip/hot-cache-fixtures';
import { benchRegions, BENCH_NAME, BENCH_TTL, BENCH_ZONE } from './regions';

function portArg(argv: readonly string[]): number {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${String(argv[i + 1])}`);
  return port;
}

function udpArg(argv: readonly string[]): UdpTransport {
  const i = argv.indexOf('--udp');
  if (i < 0) return 'batched';
  const v = argv[i + 1];
  const t = UDP_TRANSPORTS.find((x) => x === v);
  if (!t) throw new Error(`--udp must be ${UDP_TRANSPORTS.join(' or ')}, got ${String(v)}`);
  return t;
}

function cachePrefixesArg(argv: readonly string[]): number {
  const i = argv.indexOf('--cache-prefixes');
  if (i < 0) return 0;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--cache-prefixes must be a whole number, got ${String(argv[i + 1])}`);
  return n;
}

// Fills the cache file with n distinct /24s (through the cache itself, a ring's worth at a time).
async function fillCache(path: string, n: number): Promise<void> {
  const ring = 65_536;
  const cache = await HotPrefixCache.open({ path, maxPrefixes: Math.max(n, 1), ttlHours: 72, flushIntervalMs: 3_600_000, ringCapacity: ring });
  for (let first = 0; first < n; first += ring / 2) {
    for (let i = first; i < Math.min(n, first + ring / 2); i++) {
      const l = fixtureLocation(i);
      cache.noteV4(fixtureV4(i), l.lat, l.lon, l.country);
    }
    await cache.flush();
  }
  await cache.close();
}

function workersArg(argv: readonly string[]): number {
  const i = argv.indexOf('--workers');
  if (i < 0) return 1;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--workers must be 1..64, got ${String(argv[i + 1])}`);
  return n;
}

/** The benchmark workload in the watch protocol's shape. */
export function benchWorkload(): WorkloadEndpoints {
  return {
    name: 'web',
    dns: { name: BENCH_NAME, ttl: BENCH_TTL },
    residency: null,
    regions: benchRegions().map((r) => ({
      cloud: r.cloud, region: r.region, lat: r.lat, lon: r.lon, country: r.country, continent: r.continent, healthy: true,
      instances: [{ id: `i-${r.dc}`, ipv4: r.ipv4, healthy: true }],
    })),
  };
}

async function main(): Promise<void> {
  const port = portArg(process.argv);
  const workers = workersArg(process.argv);
  const options: DnsServerOptions = {
    address: '127.0.0.1', port, adminPort: false, rrl: false, udpTransport: udpArg(process.argv),
    zones: {
      zones: [{
        origin: BENCH_ZONE, ttlSeconds: 300,
        soa: { mname: `ns1.${BENCH_ZONE}`, rname: `hostmaster.${BENCH_ZONE}`, serial: 1, refreshSeconds: 3600, retrySeconds: 600,
          expireSeconds: 604800, minimumSeconds: 60 },
        ns: [{ name: `ns1.${BENCH_ZONE}`, ipv4: '127.0.0.1' }],
        records: [],
      }],
    },
    workloads: [benchWorkload()],
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const cachePrefixes = cachePrefixesArg(process.argv);
  // Only the process that runs the GeoIP service (not a cluster worker) needs the directory.
  const dir = cluster.isWorker ? '' : mkdtempSync(join(tmpdir(), 'meridian-bench-geo-'));
  const cachePath = join(dir, 'hot-prefixes.bin');
  // Filled by a child process, so the filling's garbage does not count in this server's memory.
  if (!cluster.isWorker && cachePrefixes > 0) execFileSync(process.execPath, [__filename, '--fill-cache', cachePath, String(cachePrefixes)], { stdio: 'inherit' });
  // The GeoIP service as in production: the supervisor and the cache, whose layer sits below
  // geoip-lite's data here (dated now), so the answers compared with gdnsd stay geoip-lite's.
  const startGeo = async (): Promise<{ cluster: ClusterGeo; service: Awaited<ReturnType<typeof startGeoService>> }> => {
    const listeners: ((t: PreparedGeoTable) => void)[] = [];
    const service = await startGeoService({
      minSwapIntervalSeconds: 60, maxDropPercent: 25, healthCheckIntervalSeconds: 5, staticDataCreatedAt: new Date().toISOString(),
      cache: { enabled: true, path: cachePath, maxPrefixes: Math.max(2_000_000, cachePrefixes), ttlHours: 72, flushIntervalMs: 1000,
        mergeIntervalSeconds: 300, overridesDatasetAfterHours: 24 },
    }, await loadGeoipLite(), { openCache: (o) => HotPrefixCache.open(o) }, { onTable: (t) => { for (const l of listeners) l(t); } });
    return { service, cluster: { columns: () => service.columns(), subscribe: (l) => { listeners.push(l); }, control: service.supervisor, notes: service.recorder,
      close: () => service.close() } };
  };
  let server: Awaited<ReturnType<typeof startDnsCluster>>;
  if (workers > 1) {
    server = await startDnsCluster(options, startDnsServer, workers, async () => (await startGeo()).cluster);
  } else {
    const { service } = await startGeo();
    const single = await startDnsServer({ ...options, geo: service.holder, channels: service.supervisor, recorder: service.recorder });
    server = { ...single, close: async () => { await single.close(); await service.close(); } };
  }
  // A cluster worker stops when the primary disconnects it; the primary speaks for the group.
  if (cluster.isWorker) return;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(() => { if (dir) rmSync(dir, { recursive: true, force: true }); process.exit(0); }, () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent holds our stdin open; if it dies, we go too.
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(`ready ${server.port}\n`);
}

if (require.main === module && process.argv[2] === '--fill-cache') {
  fillCache(process.argv[3]!, Number(process.argv[4])).catch((err: unknown) => {
    process.stderr.write(`meridian-server --fill-cache: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`meridian-server: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
