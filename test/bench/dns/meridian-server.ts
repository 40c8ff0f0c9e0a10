// Child process for the DNS benchmark: Meridian's GeoDNS server answering `web.meridian.test`
// from the benchmark regions.
// Usage: node dist/test/bench/dns/meridian-server.js --port N [--workers N] [--udp batched|dgram]
// Prints "ready <port>" on stdout once it answers; exits on SIGTERM or when stdin closes.
// With --workers N > 1 it runs N cluster workers on the port (see dns/cluster.ts).
import cluster from 'node:cluster';
import { type DnsServerOptions, startDnsCluster, startDnsServer, UDP_TRANSPORTS, type UdpTransport, type WorkloadEndpoints } from '../../../dns';
import { loadGeoipLite } from '../../../dns/geoip';
import { benchRegions, BENCH_NAME, BENCH_TTL, BENCH_ZONE } from './regions';

function portArg(argv: readonly string[]): number {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1..65535, got ${String(argv[i + 1])}`);
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
  // As the production entry does: the table is built in a worker thread, whose garbage leaves with it.
  const serve = async (o: DnsServerOptions) => startDnsServer({ ...o, geo: await loadGeoipLite() });
  const server = workers > 1 ? await startDnsCluster(options, serve, workers) : await serve(options);
  // A cluster worker stops when the primary disconnects it; the primary speaks for the group.
  if (cluster.isWorker) return;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent holds our stdin open; if it dies, we go too.
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(`ready ${server.port}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`meridian-server: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
