import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { loadZoneConfig, type RunningDnsServer, startDnsServer, type ZoneConfig } from '../../dns/index';
import { GeoTable } from '../../dns/geoip/index';
import { decode, encode, FLAG, optRecord, QTYPE, RCODE, messageRcode, type DnsMessage } from '../../dns/wire/index';
import { rrlResponseKey, slipReply } from '../../dns/server/rrl';
import { waitFor } from '../tools/wait';
import { buildQuery } from './fixtures';

const TABLE = GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 50, lon: 8, country: 'DE' }]);
const NAMES = 600;

/** A zone with `NAMES` distinct A records, n0 .. n599, as a resolver's many names would be. */
function manyNames(): ZoneConfig {
  return loadZoneConfig({
    zones: [{
      origin: 'meridian.test',
      soa: { mname: 'ns1.meridian.test', rname: 'hostmaster.meridian.test', serial: 1 },
      ns: [{ name: 'ns1.meridian.test', ipv4: '127.0.0.1' }],
      records: Array.from({ length: NAMES }, (_, i) => ({ name: `n${i}`, type: 'A', value: `192.0.2.${i % 250 + 1}` })),
    }],
  });
}

function response(m: Partial<DnsMessage> & { name: string; type: number }): Buffer {
  return encode({
    id: 1, flags: FLAG.QR | FLAG.AA | (m.flags ?? 0), questions: [{ name: m.name, type: m.type, class: 1 }],
    answers: m.answers ?? [], authorities: m.authorities ?? [], additionals: m.additionals ?? [],
  });
}

/** Sends `count` queries at `perSecond` from one socket; resolves with every reply by id. */
async function paced(port: number, names: (i: number) => string, count: number, perSecond: number): Promise<Map<number, Buffer>> {
  const sock = dgram.createSocket('udp4');
  const replies = new Map<number, Buffer>();
  sock.on('message', (m) => replies.set(m.readUInt16BE(0), m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    sock.send(buildQuery(names(i), QTYPE.A, { id: i, edns: 1232 }), port, '127.0.0.1');
  }
  // The server answers in order: once the last query's reply (or its absence after the others) is settled, all are.
  await waitFor('replies to settle', () => replies.has(count - 1) || Date.now() - start > (count * 1000) / perSecond + 1_000, 10_000);
  sock.close();
  return replies;
}

describe('Response-rate limiting keyed by client and response (BIND/Knot RRL)', function () {
  this.timeout(30_000);
  let server: RunningDnsServer;

  before(async () => {
    server = await startDnsServer({ port: 0, adminPort: false, zones: manyNames(), geo: TABLE, log: () => undefined,
      rrl: { exemptLoopback: false, responsesPerSecond: 50, burstSeconds: 1, slip: 2 } });
  });
  after(async () => server?.close());

  it('answers every query of a resolver asking 150 different names a second', async () => {
    const replies = await paced(server.port, (i) => `n${i % NAMES}.meridian.test`, 450, 150);
    assert.equal(replies.size, 450);
    for (const [id, m] of replies) {
      const d = decode(m);
      assert.equal(messageRcode(d), RCODE.NOERROR, `query ${id}`);
      assert.equal(d.flags & FLAG.TC, 0, `query ${id} not slipped`);
      assert.equal(d.answers.length, 1);
    }
  });

  it('holds one repeated answer to its rate and slips every second withheld one as TC with the OPT record kept', async () => {
    const replies = await paced(server.port, () => 'n1.meridian.test', 300, 150);
    const full = [...replies.values()].filter((m) => (m[2]! & FLAG.TC >> 8) === 0);
    const slipped = [...replies.values()].map(decode).filter((d) => d.flags & FLAG.TC);
    // 2 s at 150/s against 50/s with a 1 s burst: about 50 + 100 answers, the other ~150 withheld, half of them slipped.
    assert.ok(full.length >= 120 && full.length <= 180, `${full.length} full answers`);
    assert.ok(slipped.length >= 50 && slipped.length <= 90, `${slipped.length} slipped`);
    for (const d of slipped) {
      assert.equal(d.answers.length, 0);
      assert.equal(d.additionals.filter((r) => r.type === QTYPE.OPT).length, 1, 'a slipped EDNS reply keeps its OPT (RFC 6891 §7)');
      assert.equal(d.questions[0]?.name, 'n1.meridian.test');
    }
  });

  it('shares one budget among the NXDOMAINs of a zone, whatever the names', async () => {
    const replies = await paced(server.port, (i) => `nope${i}.meridian.test`, 300, 150);
    const full = [...replies.values()].map(decode).filter((d) => (d.flags & FLAG.TC) === 0);
    assert.ok(full.every((d) => messageRcode(d) === RCODE.NXDOMAIN));
    assert.ok(full.length <= 180, `${full.length} NXDOMAIN answers: a random-name flood is limited`);
  });
});

describe('RRL response keys', () => {
  const soa = { name: 'meridian.test', type: QTYPE.SOA, class: 1, ttl: 60, data: { kind: 'soa' as const, soa: { mname: 'ns1.meridian.test', rname: 'h.meridian.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } } };
  const a = (name: string) => ({ name, type: QTYPE.A, class: 1, ttl: 60, data: { kind: 'address' as const, address: '192.0.2.1' } });

  it('keys answers by name (case-insensitively) and type, NXDOMAIN by zone, errors together', () => {
    const ans = (name: string, type: number = QTYPE.A) => rrlResponseKey(response({ name, type, answers: [a(name)] }));
    assert.equal(ans('www.meridian.test'), ans('WWW.Meridian.TEST'));
    assert.notEqual(ans('www.meridian.test'), ans('web.meridian.test'));
    assert.notEqual(ans('www.meridian.test'), ans('www.meridian.test', QTYPE.AAAA));
    const nx = (name: string) => rrlResponseKey(response({ name, type: QTYPE.A, flags: RCODE.NXDOMAIN, authorities: [soa] }));
    assert.equal(nx('a.meridian.test'), nx('b.c.meridian.test'));
    assert.notEqual(nx('a.meridian.test'), rrlResponseKey(response({ name: 'a.meridian.test', type: QTYPE.A, authorities: [soa] })), 'NODATA is its own class');
    const refused = rrlResponseKey(response({ name: 'x.example', type: QTYPE.A, flags: RCODE.REFUSED }));
    assert.equal(refused, rrlResponseKey(response({ name: 'y.example', type: QTYPE.MX, flags: RCODE.SERVFAIL })));
    // Label boundaries count: a label holding a dot byte is not two labels.
    const dotted = Buffer.from([...Buffer.from('000184000001000100000000', 'hex'), 5, ...Buffer.from('a.www'), 0, 0, 1, 0, 1]);
    const split = Buffer.from([...Buffer.from('000184000001000100000000', 'hex'), 1, 97, 3, ...Buffer.from('www'), 0, 0, 1, 0, 1]);
    assert.notEqual(rrlResponseKey(dotted), rrlResponseKey(split));
  });

  it('never reads past a truncated response, and slips what it can', () => {
    const full = response({ name: 'www.meridian.test', type: QTYPE.A, answers: [a('www.meridian.test')], additionals: [optRecord(1232)] });
    for (let len = 12; len <= full.length; len++) {
      const cut = full.subarray(0, len);
      assert.equal(typeof rrlResponseKey(cut), 'number');
      const slip = slipReply(cut);
      assert.ok(slip.length <= cut.length && (slip[2]! & 0x02) !== 0);
    }
  });
});
