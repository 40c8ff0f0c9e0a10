import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { defaultGeoTable, exampleZoneConfig, type DnsServerOptions, type RunningDnsServer, startDnsServer as startServer, UDP_TRANSPORTS,
  type WorkloadEndpoints } from '../../dns/index';
import { decode, type DnsMessage, encode, optRecord, QTYPE, RCODE, messageRcode } from '../../dns/wire/index';
import { expectedRegion, referenceLookup, regionAddresses, regionsOverBlock } from './geo-reference';
import { addressesOf, buildQuery, ecsOf, globalRegions, query, region, runClient, sendUdp, workload } from './fixtures';
import { ownSocketsOn } from '../tools/sockets';
import { waitFor } from '../tools/wait';

/** TCP state LISTEN in the kernel's socket table. */
const TCP_LISTEN = 0x0a;

/** One sample of the server's Prometheus metrics, read through its admin API (`labels` as in the exposition). */
async function metric(s: RunningDnsServer, name: string, labels?: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${String(s.adminPort)}/metrics`)).text();
  const key = labels === undefined ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(key));
  if (line === undefined) throw new Error(`no sample ${key.trim()} in the metrics`);
  return Number(line.slice(key.length));
}

const SUBNETS: ReadonlyArray<[string, string]> = [
  ['81.2.69.0/24', 'GB'], ['1.0.16.0/24', 'JP'], ['8.8.8.0/24', 'US'], ['200.160.2.0/24', 'BR'], ['1.128.0.0/24', 'AU'],
  ['105.0.0.0/24', 'ZA'], ['5.9.0.0/24', 'DE'], ['101.0.0.0/24', 'CN'],
];

function rawEcs(family: number, source: number, scope: number, address: number[]): Buffer {
  const b = Buffer.alloc(4 + address.length);
  b.writeUInt16BE(family, 0);
  b[2] = source;
  b[3] = scope;
  Buffer.from(address).copy(b, 4);
  return b;
}

// Every case runs over both UDP transports: batched (recvmmsg/sendmmsg) and node:dgram.
for (const udpTransport of UDP_TRANSPORTS) describe(`GeoDNS server over real sockets (${udpTransport} UDP)`, function () {
  this.timeout(30_000);
  const startDnsServer = (o: DnsServerOptions): Promise<RunningDnsServer> => startServer({ ...o, udpTransport });
  let server: RunningDnsServer;
  let web: WorkloadEndpoints;

  before(async () => {
    web = workload('web', globalRegions());
    const big = workload('big', [region('aws', 'eu-central-1', Array.from({ length: 40 }, (_, i) => `10.9.0.${i + 1}`))]);
    const v4only = workload('v4only', [region('aws', 'eu-central-1', ['10.8.0.1'])]);
    const eu = workload('eu', globalRegions(), { residency: { continents: ['EU'] } });
    const longTtl = { ...workload('long', [region('aws', 'us-east-1', ['10.7.0.1'])]), dns: { name: 'long.meridian.test', ttl: 999_999 } };
    const nested = { ...workload('nested', [region('aws', 'us-east-1', ['10.6.0.1'])]), dns: { name: 'api.eu.meridian.test', ttl: 20 } };
    server = await startDnsServer({
      port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: defaultGeoTable(), maxAddresses: 40,
      workloads: [web, big, v4only, eu, longTtl, nested], ttlBounds: { min: 5, max: 300 }, log: () => undefined,
    });
  });
  after(async () => server?.close());

  it(`serves UDP over the ${udpTransport} transport`, () => {
    assert.equal(server.udpTransport, udpTransport);
  });

  it('sends clients from subnets in different countries to the region nearest by great-circle distance', async () => {
    for (const [subnet, country] of SUBNETS) {
      const ip = subnet.split('/')[0]!;
      assert.equal(referenceLookup(ip)?.country, country, `fixture ${subnet} should be in ${country}`);
      const want = regionAddresses(web, expectedRegion(web, ip));
      const res = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: subnet });
      assert.equal(messageRcode(res), RCODE.NOERROR);
      assert.deepEqual(addressesOf(res), want, `${subnet} (${country})`);
      assert.ok(res.flags & 0x0400, 'AA set');
    }
  });

  it('gives dig and kdig the same regions as our own client', async () => {
    for (const [subnet] of SUBNETS.slice(0, 4)) {
      const want = regionAddresses(web, expectedRegion(web, subnet.split('/')[0]!));
      const d = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), 'web.meridian.test', 'A', `+subnet=${subnet}`, '+short', '+tries=1', '+time=2']);
      assert.deepEqual(d.trim().split('\n').sort(), want, `dig ${subnet}`);
      const k = await runClient('kdig', ['@127.0.0.1', '-p', String(server.port), 'web.meridian.test', 'A', `+subnet=${subnet}`, '+short', '+retry=0', '+time=2']);
      assert.deepEqual(k.trim().split('\n').sort(), want, `kdig ${subnet}`);
    }
  });

  it('answers AAAA from the same region over TCP', async () => {
    const res = await query(server.port, 'web.meridian.test', QTYPE.AAAA, { ecs: '1.0.16.0/24', tcp: true });
    const i = expectedRegion(web, '1.0.16.1');
    assert.deepEqual(addressesOf(res), web.regions[i]!.instances.map((x) => x.ipv6!).sort());
  });

  it('keeps the case of the question name as sent (0x20)', async () => {
    const res = await query(server.port, 'WeB.MeRiDiAn.TeSt', QTYPE.A, { ecs: '81.2.69.0/24' });
    assert.equal(res.questions[0]!.name, 'WeB.MeRiDiAn.TeSt');
    assert.equal(res.answers.length, 2);
  });

  it('uses the source address without ECS and answers an unknown location with the default region, never NXDOMAIN', async () => {
    const res = await query(server.port, 'web.meridian.test', QTYPE.A);
    assert.equal(messageRcode(res), RCODE.NOERROR);
    // 127.0.0.1 has no table entry: the default order is the workload's region order.
    assert.deepEqual(addressesOf(res), regionAddresses(web, 0));
    assert.equal(res.additionals.length, 0, 'no OPT without EDNS in the query');
  });

  it('refuses names outside its zones and never offers recursion', async () => {
    const res = await query(server.port, 'example.com', QTYPE.A, { edns: 1232 });
    assert.equal(messageRcode(res), RCODE.REFUSED);
    assert.equal(res.flags & 0x0080, 0, 'RA clear');
    assert.equal(res.answers.length, 0);
    const d = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), 'www.google.com', 'A', '+tries=1', '+time=2']);
    assert.match(d, /status: REFUSED/);
  });

  it('answers NXDOMAIN for a missing name with the zone SOA in the authority section', async () => {
    const res = await query(server.port, 'missing.meridian.test', QTYPE.A);
    assert.equal(messageRcode(res), RCODE.NXDOMAIN);
    assert.equal(res.answers.length, 0);
    assert.equal(res.authorities.length, 1);
    assert.equal(res.authorities[0]!.type, QTYPE.SOA);
    assert.equal(res.authorities[0]!.ttl, 60, 'negative TTL is min(SOA TTL, MINIMUM)');
  });

  it('answers NODATA (NOERROR, SOA, no answers) for an existing name without the type', async () => {
    for (const [name, type] of [['web.meridian.test', QTYPE.TXT], ['v4only.meridian.test', QTYPE.AAAA], ['eu.meridian.test', QTYPE.MX]] as const) {
      const res = await query(server.port, name, type);
      assert.equal(messageRcode(res), RCODE.NOERROR, name);
      assert.equal(res.answers.length, 0, name);
      assert.equal(res.authorities[0]?.type, QTYPE.SOA, name);
    }
  });

  it('answers the zone apex SOA, NS with glue, and static TXT and CNAME records', async () => {
    const soa = await query(server.port, 'meridian.test', QTYPE.SOA);
    assert.equal(soa.answers[0]?.type, QTYPE.SOA);
    const ns = await query(server.port, 'meridian.test', QTYPE.NS);
    assert.deepEqual(ns.answers.map((r) => (r.data.kind === 'name' ? r.data.name : '')).sort(), ['ns1.meridian.test', 'ns2.meridian.test']);
    assert.deepEqual(addressesOf({ ...ns, answers: ns.additionals }), ['127.0.0.1', '127.0.0.2']);
    const txt = await query(server.port, 'meridian.test', QTYPE.TXT);
    assert.equal(txt.answers[0]?.data.kind === 'txt' && txt.answers[0].data.strings[0]!.toString(), 'v=meridian1');
    const cname = await query(server.port, 'www.meridian.test', QTYPE.A, { ecs: '1.0.16.0/24' });
    assert.equal(cname.answers[0]?.type, QTYPE.CNAME);
    assert.deepEqual(addressesOf(cname), regionAddresses(web, expectedRegion(web, '1.0.16.1')));
  });

  it('sets TC when an answer does not fit in UDP and gives the full answer over TCP', async () => {
    const udp = await query(server.port, 'big.meridian.test', QTYPE.A);
    assert.ok(udp.flags & 0x0200, 'TC set');
    assert.equal(udp.answers.length, 0);
    const tcp = await query(server.port, 'big.meridian.test', QTYPE.A, { tcp: true });
    assert.equal(tcp.flags & 0x0200, 0);
    assert.equal(tcp.answers.length, 40);
    // EDNS with 1232 bytes fits 40 A records (12 + 23 + 40*16 + 11).
    const edns = await query(server.port, 'big.meridian.test', QTYPE.A, { edns: 1232 });
    assert.equal(edns.answers.length, 40);
    const d = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), 'big.meridian.test', 'A', '+noedns', '+tries=1', '+time=2']);
    assert.match(d, /Truncated, retrying in TCP mode/);
    assert.match(d, /ANSWER: 40/);
  });

  it('echoes ECS with the widest scope around the client whose answer is the same', async () => {
    const res = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' });
    const ecs = ecsOf(res);
    assert.ok(ecs);
    assert.equal(ecs.family, 1);
    assert.equal(ecs.source, 24);
    assert.ok(ecs.scope > 0 && ecs.scope <= 32, `scope ${ecs.scope}`);
    // Independently (geoip-lite ranges + haversine): the whole /scope block gets the answered region...
    const answered = expectedRegion(web, '81.2.69.1');
    const client = 81 * 2 ** 24 + 2 * 2 ** 16 + 69 * 2 ** 8;
    const size = 2 ** (32 - ecs.scope);
    const base = client - (client % size);
    assert.deepEqual([...regionsOverBlock(web, base, base + size - 1)], [answered], `one region over the /${ecs.scope}`);
    // ...and one bit wider would not hold: the sibling block has an address answered elsewhere.
    const sibling = Math.floor(base / size) % 2 === 0 ? base + size : base - size;
    assert.ok([...regionsOverBlock(web, sibling, sibling + size - 1)].some((r) => r !== answered), `the /${ecs.scope - 1} would mix regions`);
  });

  it('answers a source prefix of 0 with scope 0 and matches IPv6 ECS', async () => {
    const zero = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '0.0.0.0/0' });
    assert.equal(ecsOf(zero)?.scope, 0);
    const v6 = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '2a00:1450:4001::/48' });
    const e = ecsOf(v6);
    assert.equal(e?.family, 2);
    assert.equal(e?.source, 48);
    assert.deepEqual(addressesOf(v6), regionAddresses(web, expectedRegion(web, '2a00:1450:4001::1')));
  });

  it('answers FORMERR for malformed ECS options and undecodable messages', async () => {
    const bad: Array<[string, Buffer]> = [
      ['unknown family', rawEcs(3, 24, 0, [1, 2, 3])],
      ['prefix longer than 32', rawEcs(1, 33, 0, [1, 2, 3, 4, 5])],
      ['too many address octets', rawEcs(1, 16, 0, [1, 2, 3])],
      ['too few address octets', rawEcs(1, 24, 0, [1, 2])],
      ['bits beyond the prefix', rawEcs(1, 23, 0, [81, 2, 69])],
      ['non-zero scope in a query', rawEcs(1, 24, 8, [81, 2, 69])],
      ['option shorter than 4 octets', Buffer.from([0, 1])],
    ];
    for (const [why, data] of bad) {
      const res = await query(server.port, 'web.meridian.test', QTYPE.A, { extraOptions: [{ code: 8, data }] });
      assert.equal(messageRcode(res), RCODE.FORMERR, why);
    }
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x77]);
    const res = decode(await sendUdp(server.port, garbage));
    assert.equal(res.id, 0x1234);
    assert.equal(messageRcode(res), RCODE.FORMERR);
    const twoOpt = decode(buildQuery('web.meridian.test', QTYPE.A, { edns: 1232 }));
    const msg: DnsMessage = { ...twoOpt, additionals: [optRecord(1232), optRecord(1232)] };
    assert.equal(messageRcode(decode(await sendUdp(server.port, encode(msg)))), RCODE.FORMERR, 'two OPT records');
  });

  it('answers BADVERS to EDNS versions above 0', async () => {
    const q = decode(buildQuery('web.meridian.test', QTYPE.A, { edns: 1232 }));
    const opt = { ...optRecord(1232), ttl: 1 << 16 };
    const res = decode(await sendUdp(server.port, encode({ ...q, additionals: [opt] })));
    assert.equal(messageRcode(res), RCODE.BADVERS);
  });

  it('does not answer responses, so it cannot be used in a reflection loop', async () => {
    const ignoredBefore = await metric(server, 'meridian_dns_ignored_total');
    const response = buildQuery('web.meridian.test', QTYPE.A, { id: 0x5151 });
    response[2] = response[2]! | 0x80;
    const sock = dgram.createSocket('udp4');
    const ids: number[] = [];
    sock.on('message', (m) => ids.push(m.readUInt16BE(0)));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      sock.send(response, server.port, '127.0.0.1');
      // A query sent after it: once its answer is back, any answer to the response would be too.
      sock.send(buildQuery('web.meridian.test', QTYPE.A, { id: 0x7272 }), server.port, '127.0.0.1');
      await waitFor('the answer to the query sent after the response', () => ids.includes(0x7272));
      await waitFor('the server to count the response as ignored', async () => await metric(server, 'meridian_dns_ignored_total') === ignoredBefore + 1);
    } finally {
      sock.close();
    }
    assert.deepEqual(ids, [0x7272], 'the response got no answer');
  });

  it('puts regions allowed by residency first, clamps TTLs, and serves names below a workload-only branch', async () => {
    const eu = await query(server.port, 'eu.meridian.test', QTYPE.A, { ecs: '8.8.8.0/24' });
    assert.deepEqual(addressesOf(eu), ['10.2.0.1', '10.2.0.2'], 'a US client of an EU-only workload goes to westeurope');
    const long = await query(server.port, 'long.meridian.test', QTYPE.A);
    assert.equal(long.answers[0]?.ttl, 300);
    const ent = await query(server.port, 'eu.meridian.test', QTYPE.A, { ecs: '8.8.8.0/24' });
    assert.equal(messageRcode(ent), RCODE.NOERROR);
    const api = await query(server.port, 'api.eu.meridian.test', QTYPE.A);
    assert.deepEqual(addressesOf(api), ['10.6.0.1']);
  });

  it('moves to the next region when the nearest has nothing healthy and fails open when nothing is', async () => {
    const regions = globalRegions();
    const w = workload('failover', regions);
    server.upsertWorkload(w);
    const nearest = expectedRegion(w, '81.2.69.1');
    const sick = { ...w, regions: w.regions.map((r, i) => (i === nearest ? { ...r, instances: r.instances.map((x) => ({ ...x, healthy: false })) } : r)) };
    server.upsertWorkload(sick);
    const next = await query(server.port, 'failover.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' });
    assert.deepEqual(addressesOf(next), regionAddresses(sick, expectedRegion(sick, '81.2.69.1')));
    assert.notDeepEqual(addressesOf(next), regionAddresses(w, nearest));
    const dead = { ...w, regions: w.regions.map((r) => ({ ...r, healthy: false })) };
    server.upsertWorkload(dead);
    const all = await query(server.port, 'failover.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24', tcp: true });
    assert.equal(all.answers.length, 12, 'every address when nothing is healthy');
    server.deleteWorkload('failover');
    const gone = await query(server.port, 'failover.meridian.test', QTYPE.A);
    assert.equal(messageRcode(gone), RCODE.NXDOMAIN);
  });

  it('limits response rates per client subnet when told to include loopback, slipping some as TC', async () => {
    const limited = await startDnsServer({
      port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: defaultGeoTable(), workloads: [web], log: () => undefined,
      rrl: { exemptLoopback: false, responsesPerSecond: 5, burstSeconds: 1, slip: 2 },
    });
    try {
      const sock = dgram.createSocket('udp4');
      let replies = 0;
      let slipped = 0;
      sock.on('message', (m) => { replies++; if (m[2]! & 0x02) slipped++; });
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      try {
        for (let i = 0; i < 40; i++) sock.send(buildQuery('web.meridian.test', QTYPE.A, { id: i }), limited.port, '127.0.0.1');
        // All 40 handled, and every reply the limiter let through (answered or slipped) received.
        await waitFor('the server to handle all 40 queries', async () => await metric(limited, 'meridian_dns_messages_total', 'transport="udp"') === 40);
        const dropped = await metric(limited, 'meridian_dns_rrl_total', 'action="drop"');
        await waitFor(`${40 - dropped} replies (40 less ${dropped} dropped)`, () => replies === 40 - dropped);
        assert.equal(slipped, await metric(limited, 'meridian_dns_rrl_total', 'action="slip"'));
      } finally {
        sock.close();
      }
      // A burst of one second at 5/s answers at least 5 in full; the rest are dropped or slipped.
      assert.ok(replies - slipped >= 5 && replies - slipped < 40, `full answers ${replies - slipped}`);
      assert.ok(replies < 40, `replies ${replies}`);
      assert.ok(slipped > 0, 'some withheld answers are slipped as TC');
    } finally {
      await limited.close();
    }
  });

  it('shuts down cleanly: its UDP, TCP and admin sockets all close and free their ports', async () => {
    const s = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: defaultGeoTable(), workloads: [web], log: () => undefined });
    const port = s.port;
    const adminPort = s.adminPort!;
    assert.equal(addressesOf(await query(port, 'web.meridian.test', QTYPE.A, { tcp: true })).length, 2);
    const listening = ownSocketsOn(port).filter((k) => k.protocol === 'udp' || k.state === TCP_LISTEN);
    assert.deepEqual(listening.map((k) => k.protocol).sort(), ['tcp', 'udp'], 'one UDP and one listening TCP socket while serving');
    assert.equal(ownSocketsOn(adminPort).length, 1);
    await s.close();
    await s.close();
    // Shown through the kernel's socket table rather than by binding the ports again, which could
    // race another process; the connection the query left open is gone too.
    assert.deepEqual(ownSocketsOn(port), []);
    assert.deepEqual(ownSocketsOn(adminPort), []);
  });
});
