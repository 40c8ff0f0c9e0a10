// Entry script for the cluster GeoIP test: `node cluster-geo-entry.js --address A --port N --admin-port M`
// runs two workers; the primary runs the GeoIP supervisor with one fake signed channel whose
// dataset puts 10/8 in Paris over a static table that puts it in Tokyo, and one fake BGP channel whose
// peer announces 10.1.0.0/16 into the routing overlay. Prints "ready" and stops on SIGTERM.
// Each client prefix a worker forwards to the primary's notes is printed as "noted <ip> <lat> <lon>".
import cluster from 'node:cluster';
import { formatIpv4, GeoTable, GeoTableHolder, type PreparedGeoTable } from '../../dns/geoip';
import { GeoSupervisor } from '../../dns/geoip/channels/supervisor';
import { Overlay } from '../../dns/geoip/channels/overlay';
import { exampleZoneConfig, startDnsCluster, startDnsServer, type WorkloadEndpoints } from '../../dns/index';
import { FakeChannel } from './geoip/channels/fake-channel';

const arg = (name: string): string => process.argv[process.argv.indexOf(name) + 1]!;
const TOKYO = { lat: 35.68, lon: 139.69, country: 'JP' };
const PARIS = { lat: 48.85, lon: 2.35, country: 'FR' };
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

const startGeo = async (): Promise<Parameters<typeof startDnsCluster>[3] extends (() => Promise<infer G>) | undefined ? G : never> => {
  const signed = new FakeChannel('signed', 'signed');
  const bgp = new FakeChannel('bgp', 'bgp');
  const holder = new GeoTableHolder(GeoTable.empty());
  const listeners: ((t: PreparedGeoTable) => void)[] = [];
  let latest: PreparedGeoTable | undefined;
  const sup = new GeoSupervisor(holder, {
    staticTable: GeoTable.fromEntries([{ range: '10.0.0.0/8', ...TOKYO }]), staticCreatedAt: Date.now(), channels: [signed, bgp], overlay: new Overlay(),
    minSwapIntervalSeconds: 0, maxDropShare: 0.25, cacheOverridesDatasetAfterHours: 24, cacheMergeIntervalSeconds: 600, healthCheckIntervalSeconds: 1,
    onTable: (t) => { latest = t; for (const l of listeners) l(t); },
  });
  await sup.start();
  signed.emitDataset(1, [{ range: '10.0.0.0/8', ...PARIS }]);
  bgp.emit({ kind: 'routing', peer: 'bgp:192.0.2.9', at: Date.now(), full: false, withdraw: [], announce: [{ prefix: '10.1.0.0/16', originAs: 64500, asPath: [65000, 64500] }] });
  const notes = {
    noteV4: (ip: number, lat: number, lon: number): void => { process.stdout.write(`noted ${formatIpv4(ip)} ${lat} ${lon}\n`); },
    noteV6: (): void => undefined,
  };
  return { columns: () => latest!, subscribe: (l) => { listeners.push(l); }, control: sup, notes, close: () => sup.stop() };
};

startDnsCluster({ address: arg('--address'), port: Number(arg('--port')), adminPort: Number(arg('--admin-port')), adminAddress: arg('--address'),
  zones: exampleZoneConfig(), workloads: [web], rrl: false, log: () => undefined }, startDnsServer, 2, startGeo)
  .then((c) => {
    if (cluster.isPrimary && 'workers' in c) {
      process.stdout.write(`ready ${c.workers}\n`);
      process.on('SIGTERM', () => { c.close().then(() => process.exit(0), () => process.exit(1)); });
    }
  })
  .catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
