import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGeoTable, loadZoneConfig, type RunningDnsServer, startDnsServer, type WorkloadEndpoints } from '../../dns/index';
import { decode, QTYPE, RCODE, messageRcode } from '../../dns/wire/index';
import { daemonDir, loopbackAddress, startDaemon, type Daemon } from '../tools/daemon';
import { waitFor } from '../tools/wait';
import { addressesOf, buildQuery, ecsOf, globalRegions, query, runClient, workload } from './fixtures';

const NAMES = 600;
const SUBNETS = ['81.2.69.0/24', '1.0.16.0/24', '8.8.8.0/24', '200.160.2.0/24', '1.128.0.0/24', '105.0.0.0/24'];

/** The example zone plus `NAMES` static names, as a busy resolver's many names would be. */
function zones() {
  return loadZoneConfig({
    zones: [{
      origin: 'meridian.test',
      soa: { mname: 'ns1.meridian.test', rname: 'hostmaster.meridian.test', serial: 1 },
      ns: [{ name: 'ns1.meridian.test', ipv4: '127.0.0.1' }],
      records: Array.from({ length: NAMES }, (_, i) => ({ name: `n${i}`, type: 'A', value: `192.0.2.${i % 250 + 1}` })),
    }],
  });
}

/** unbound with a stub zone at the GeoDNS and its ECS subnet cache on (RFC 7871 §7.3). */
function unboundConf(dir: string, address: string, port: number, geoPort: number): string {
  return `server:
  interface: ${address}
  port: ${port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${join(dir, 'unbound.pid')}"
  logfile: ""
  use-syslog: no
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  qname-minimisation: no
  module-config: "subnetcache iterator"
  send-client-subnet: 127.0.0.1
  max-client-subnet-ipv4: 24
  max-client-subnet-ipv6: 56
  num-queries-per-thread: 1024
  # .test is special-use (RFC 6761) and answered locally by default.
  local-zone: "test." nodefault
stub-zone:
  name: "meridian.test"
  stub-addr: 127.0.0.1@${geoPort}
remote-control:
  control-enable: no
`;
}

async function metric(adminPort: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `metric ${sample} present`);
  return Number(line.slice(sample.length + 1));
}

describe('GeoDNS behind a real recursive resolver (unbound with its ECS subnet cache)', function () {
  this.timeout(60_000);
  let geo: RunningDnsServer;
  let unbound: Daemon;
  let web: WorkloadEndpoints;
  const address = loopbackAddress();
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const udpSeen = (): Promise<number> => metric(geo.adminPort!, 'meridian_dns_messages_total{transport="udp"}');

  before(async () => {
    web = workload('web', globalRegions());
    // The limiter is on for loopback too, at its defaults: a resolver is one client asking for many names.
    geo = await startDnsServer({ port: 0, adminPort: 0, zones: zones(), geo: defaultGeoTable(), workloads: [web], log: () => undefined,
      rrl: { exemptLoopback: false } });
    const dir = daemonDir('unbound');
    writeFileSync(join(dir, 'unbound.conf'), unboundConf(dir, address, port, geo.port));
    unbound = await startDaemon({ cmd: '/usr/sbin/unbound', args: ['-d', '-c', join(dir, 'unbound.conf')], dir,
      ready: async () => {
        try {
          return messageRcode(await query(port, 'meridian.test', QTYPE.SOA, { host: address, timeoutMs: 500 })) === RCODE.NOERROR;
        } catch {
          return false;
        }
      } });
  });
  after(async () => {
    await unbound?.stop();
    await geo?.close();
  });

  it('gives clients of several countries the regions the GeoDNS gives them directly', async () => {
    for (const subnet of SUBNETS) {
      const direct = await runClient('dig', ['@127.0.0.1', '-p', String(geo.port), '+short', `+subnet=${subnet}`, 'web.meridian.test', 'A']);
      const viaResolver = await runClient('dig', [`@${address}`, '-p', String(port), '+short', `+subnet=${subnet}`, 'web.meridian.test', 'A']);
      assert.ok(direct.trim(), `direct answer for ${subnet}`);
      assert.deepEqual(viaResolver.trim().split('\n').sort(), direct.trim().split('\n').sort(), subnet);
    }
  });

  it('caches within the scope the GeoDNS returned, and asks again outside it', async () => {
    const first = await query(port, 'web.meridian.test', QTYPE.A, { ecs: '5.9.0.0/24', host: address });
    const direct = await query(geo.port, 'web.meridian.test', QTYPE.A, { ecs: '5.9.0.0/24' });
    const scope = ecsOf(direct)!.scope;
    assert.ok(scope > 0 && scope <= 24, `scope /${scope}`);
    const seen = await udpSeen();
    // Another /24 inside the same scope block (or the same /24 when the scope is /24) comes from the cache.
    const inside = scope < 24 ? `5.9.${(1 << (24 - scope)) - 1}.0/24` : '5.9.0.128/25';
    const cached = await query(port, 'web.meridian.test', QTYPE.A, { ecs: inside, host: address });
    assert.deepEqual(addressesOf(cached), addressesOf(first));
    assert.equal(await udpSeen(), seen, 'no query reached the GeoDNS for a client inside the cached scope');
    const elsewhere = await query(port, 'web.meridian.test', QTYPE.A, { ecs: '101.0.0.0/24', host: address });
    assert.equal(await udpSeen(), seen + 1, 'a client outside the scope is asked for');
    assert.notDeepEqual(addressesOf(elsewhere), addressesOf(first));
  });

  it('loses nothing behind the rate limit when the resolver asks 150 different names a second', async () => {
    const sock = dgram.createSocket('udp4');
    const replies = new Map<number, Buffer>();
    sock.on('message', (m) => replies.set(m.readUInt16BE(0), m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const count = 450;
    const start = Date.now();
    try {
      for (let i = 0; i < count; i++) {
        const due = start + (i * 1000) / 150;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        sock.send(buildQuery(`n${i}.meridian.test`, QTYPE.A, { id: i }), port, address);
      }
      await waitFor(`${count} answers from the resolver`, () => replies.size === count, 10_000);
    } finally {
      sock.close();
    }
    for (const [id, m] of replies) {
      const d = decode(m);
      assert.equal(messageRcode(d), RCODE.NOERROR, `n${id}`);
      assert.deepEqual(addressesOf(d), [`192.0.2.${id % 250 + 1}`], `n${id}`);
    }
    assert.equal(await metric(geo.adminPort!, 'meridian_dns_rrl_total{action="drop"}'), 0);
    assert.equal(await metric(geo.adminPort!, 'meridian_dns_rrl_total{action="slip"}'), 0);
    assert.equal(await metric(geo.adminPort!, 'meridian_dns_messages_total{transport="tcp"}'), 0, 'nothing fell back to TCP');
  });
});
