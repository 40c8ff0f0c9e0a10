import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { defaultGeoTable, exampleZoneConfig, type RunningDnsServer, startDnsServer } from '../../dns/index';
import { decode, DnsDecodeError, QTYPE } from '../../dns/wire/index';
import { FastQuery, parseQuery } from '../../dns/wire/fast';
import { expectedRegion, regionAddresses } from './geo-reference';
import { addressesOf, buildQuery, globalRegions, workload } from './fixtures';
import { seededRandom } from '../tools/random';


const SEEDS = [
  buildQuery('web.meridian.test', QTYPE.A, { id: 1 }),
  buildQuery('web.meridian.test', QTYPE.AAAA, { id: 2, ecs: '81.2.69.0/24' }),
  buildQuery('www.meridian.test', QTYPE.A, { id: 3, edns: 4096 }),
  buildQuery('meridian.test', QTYPE.NS, { id: 4, ecs: '2a00:1450:4001::/48' }),
  buildQuery('nope.example', QTYPE.TXT, { id: 5 }),
];

/** One hostile packet: random bytes, a mutated valid query, or a crafted malformed structure. */
function hostilePacket(r: () => number): Buffer {
  const kind = Math.floor(r() * 8);
  const seed = SEEDS[Math.floor(r() * SEEDS.length)]!;
  const b = Buffer.from(seed);
  switch (kind) {
    case 0: { // random bytes of random length
      const out = Buffer.alloc(Math.floor(r() * 600));
      for (let i = 0; i < out.length; i++) out[i] = Math.floor(r() * 256);
      return out;
    }
    case 1: // truncated
      return b.subarray(0, Math.floor(r() * b.length));
    case 2: { // bit flips
      for (let k = 0; k < 1 + Math.floor(r() * 6); k++) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
      return b;
    }
    case 3: { // huge section counts
      for (let k = 4; k < 12; k += 2) if (r() < 0.5) b.writeUInt16BE(Math.floor(r() * 65536), k);
      return b;
    }
    case 4: { // compression pointers: to itself, forward, into the header, or a loop of two
      const q = Buffer.alloc(12 + 8);
      b.copy(q, 0, 0, 12);
      q.writeUInt16BE(1, 4);
      const mode = Math.floor(r() * 4);
      if (mode === 0) q.writeUInt16BE(0xc00c, 12);
      else if (mode === 1) q.writeUInt16BE(0xc000 | (14 + Math.floor(r() * 50)), 12);
      else if (mode === 2) q.writeUInt16BE(0xc000 | Math.floor(r() * 12), 12);
      else { q[12] = 1; q[13] = 0x61; q.writeUInt16BE(0xc00c, 14); }
      return q;
    }
    case 5: { // bad EDNS option: random code, length past the end, broken ECS
      const tail = Buffer.alloc(4 + Math.floor(r() * 12));
      tail.writeUInt16BE(r() < 0.7 ? 8 : Math.floor(r() * 65536), 0);
      tail.writeUInt16BE(Math.floor(r() * 40), 2);
      for (let i = 4; i < tail.length; i++) tail[i] = Math.floor(r() * 256);
      const base = Buffer.from(SEEDS[2]!);
      const rdlenAt = base.length - 2;
      base.writeUInt16BE(tail.length, rdlenAt);
      return Buffer.concat([base, tail]);
    }
    case 6: { // a label length that runs past the end
      b[12] = 63;
      return b.subarray(0, 40);
    }
    default: { // random splice of two seeds
      const other = SEEDS[Math.floor(r() * SEEDS.length)]!;
      const cut = Math.floor(r() * b.length);
      return Buffer.concat([b.subarray(0, cut), other.subarray(Math.floor(r() * other.length))]);
    }
  }
}

describe('GeoDNS under hostile input', function () {
  this.timeout(60_000);
  let server: RunningDnsServer;
  const errors: string[] = [];
  const web = workload('web', globalRegions());

  before(async () => {
    server = await startDnsServer({
      port: 0, adminPort: false, zones: exampleZoneConfig(), geo: defaultGeoTable(), workloads: [web], rrl: false,
      log: (line) => errors.push(line),
    });
  });
  after(async () => server?.close());

  it('decodes or rejects with DnsDecodeError every one of 100,000 hostile messages, never reading past the buffer', () => {
    const r = seededRandom(7);
    const q = new FastQuery();
    for (let i = 0; i < 100_000; i++) {
      const p = hostilePacket(r);
      parseQuery(p, q);
      try {
        decode(p);
      } catch (e) {
        if (!(e instanceof DnsDecodeError)) throw new Error(`packet ${i} (${p.toString('hex')}) threw ${String(e)}`);
      }
    }
  });

  it('keeps answering valid queries correctly while 100,000 hostile packets arrive over UDP, without an error', async () => {
    const r = seededRandom(42);
    const attacker = dgram.createSocket('udp4');
    const client = dgram.createSocket('udp4');
    await new Promise<void>((res) => attacker.bind(0, '127.0.0.1', () => res()));
    await new Promise<void>((res) => client.bind(0, '127.0.0.1', () => res()));
    const want = JSON.stringify(regionAddresses(web, expectedRegion(web, '1.0.16.1')));
    let waiting: { id: number; done: (ok: boolean) => void } | undefined;
    let good = 0;
    let bad = 0;
    let lost = 0;
    client.on('message', (m) => {
      if (!waiting || m.readUInt16BE(0) !== waiting.id) return;
      const ok = JSON.stringify(addressesOf(decode(m))) === want;
      if (ok) good++;
      else bad++;
      waiting.done(ok);
    });
    let validSent = 0;
    const total = 100_000;
    const deadline = Date.now() + 40_000;
    try {
      for (let i = 0; i < total; i += 250) {
        for (let k = 0; k < 250; k++) attacker.send(hostilePacket(r), server.port, '127.0.0.1');
        const id = validSent++ & 0xffff;
        // The valid query goes after the batch; its answer proves the server got through the batch alive.
        await new Promise<void>((res) => {
          const t = setTimeout(() => { lost++; waiting = undefined; res(); }, 1000);
          waiting = { id, done: () => { clearTimeout(t); waiting = undefined; res(); } };
          client.send(buildQuery('web.meridian.test', QTYPE.A, { id, ecs: '1.0.16.0/24' }), server.port, '127.0.0.1');
        });
        if (Date.now() > deadline) throw new Error(`fuzzing too slow: ${i} packets sent in 40 s`);
      }
    } finally {
      attacker.close();
      client.close();
    }
    assert.equal(bad, 0, 'no wrong answer to a valid query');
    assert.ok(good >= validSent * 0.99, `answered ${good} of ${validSent} valid queries (${lost} lost)`);
    assert.deepEqual(errors, [], 'no packet raised an error in the server');
  });
});
