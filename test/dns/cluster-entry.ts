// Entry script for the cluster test: `node cluster-entry.js --port N [--udp batched|dgram]` runs two
// workers serving `web.meridian.test` from a two-range table, each naming itself in the TXT record
// of `worker.meridian.test`; the primary prints "ready <workers> <port>" and stops on SIGTERM.
import cluster from 'node:cluster';
import { GeoTable } from '../../dns/geoip';
import { loadZoneConfig, startDnsCluster, startDnsServer, UDP_TRANSPORTS } from '../../dns/index';
import type { UdpTransport, WorkloadEndpoints } from '../../dns/index';

const arg = (flag: string): string | undefined => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const port = Number(arg('--port'));
const udp = arg('--udp') as UdpTransport | undefined;
if (udp !== undefined && !UDP_TRANSPORTS.includes(udp)) throw new Error(`--udp must be one of ${UDP_TRANSPORTS.join(', ')}`);
const zones = loadZoneConfig({
  zones: [{
    origin: 'meridian.test',
    soa: { mname: 'ns1.meridian.test', rname: 'hostmaster.meridian.test', serial: 1 },
    ns: [{ name: 'ns1.meridian.test', ipv4: '127.0.0.1' }],
    records: [{ name: 'worker', type: 'TXT', value: `worker-${cluster.worker?.id ?? 0}` }],
  }],
});
const geo = GeoTable.fromEntries([
  { range: '10.0.0.0/8', lat: 48.85, lon: 2.35, country: 'FR' },
  { range: '11.0.0.0/8', lat: 35.68, lon: 139.69, country: 'JP' },
]);
// Coordinates written out: importing the catalog would load every cloud SDK into each worker.
const web: WorkloadEndpoints = {
  name: 'web', dns: { name: 'web.meridian.test', ttl: 30 }, residency: null,
  regions: [
    { cloud: 'azure', region: 'westeurope', lat: 52.37, lon: 4.9, country: 'NL', continent: 'EU', healthy: true,
      instances: [{ id: 'a', ipv4: '192.0.2.2', healthy: true }] },
    { cloud: 'aws', region: 'ap-northeast-1', lat: 35.7, lon: 139.7, country: 'JP', continent: 'AS', healthy: true,
      instances: [{ id: 'b', ipv4: '192.0.2.3', healthy: true }] },
  ],
};

startDnsCluster({ port, adminPort: false, zones, geo, workloads: [web], udpTransport: udp, log: () => undefined }, startDnsServer, 2)
  .then((c) => {
    if (cluster.isPrimary && 'workers' in c) {
      process.stdout.write(`ready ${c.workers} ${c.port}\n`);
      process.on('SIGTERM', () => { c.close().then(() => process.exit(0), () => process.exit(1)); });
    }
  })
  .catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
