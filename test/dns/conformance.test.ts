import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { exampleZoneConfig, type RunningDnsServer, startDnsServer } from '../../dns/index';
import { GeoTable } from '../../dns/geoip/index';
import { decode, EDNS_OPTION_COOKIE, encode, FLAG, optRecord, QTYPE, RCODE, messageRcode } from '../../dns/wire/index';
import { checkCookie, COOKIE_CLIENT_ONLY, COOKIE_MALFORMED, COOKIE_VALID, CookieSecrets } from '../../dns/server/cookies';
import { sipHash24 } from '../../dns/server/siphash';
import { waitFor } from '../tools/wait';
import { buildQuery, globalRegions, runClient, sendUdp, workload } from './fixtures';

const TABLE = GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 50, lon: 8, country: 'DE' }]);
const SECRET = '000102030405060708090a0b0c0d0e0f';

describe('GeoDNS says which server answered, answers cookies, and the smaller conformance points', function () {
  this.timeout(20_000);
  let server: RunningDnsServer;
  const dig = (...args: string[]): Promise<string> => runClient('dig', ['@127.0.0.1', '-p', String(server.port), ...args]);

  before(async () => {
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, workloads: [workload('web', globalRegions())],
      identity: { nsid: 'geo-fra-1', id: 'geo-fra-1.example.net', version: false }, cookies: { secret: SECRET }, rrl: false, log: () => undefined });
  });
  after(async () => server?.close());

  it('answers NSID (RFC 5001) and CHAOS id.server and hostname.bind (RFC 4892), and refuses what is turned off', async () => {
    assert.match(await dig('+nsid', 'meridian.test', 'SOA'), /NSID: .*\("geo-fra-1"\)/);
    assert.equal((await dig('+short', 'id.server', 'TXT', 'CH')).trim(), '"geo-fra-1.example.net"');
    assert.equal((await dig('+short', 'hostname.bind', 'TXT', 'CH')).trim(), '"geo-fra-1.example.net"');
    assert.match(await dig('version.bind', 'TXT', 'CH'), /status: REFUSED/, 'version turned off');
    assert.match(await dig('some.name', 'TXT', 'CH'), /status: REFUSED/);
    const off = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, identity: { nsid: false }, log: () => undefined });
    try {
      const out = await runClient('dig', ['@127.0.0.1', '-p', String(off.port), '+nsid', 'meridian.test', 'SOA']);
      assert.match(out, /status: NOERROR/);
      assert.doesNotMatch(out, /NSID/);
    } finally {
      await off.close();
    }
  });

  it('returns a server cookie dig accepts, and FORMERR for a malformed cookie (RFC 7873)', async () => {
    assert.match(await dig('+cookie', 'web.meridian.test', 'A'), /COOKIE: [0-9a-f]{48} \(good\)/);
    assert.match(await dig('+cookie=0102', 'web.meridian.test', 'A'), /status: FORMERR/);
    const twoCookies = buildQuery('web.meridian.test', QTYPE.A, { extraOptions: [
      { code: EDNS_OPTION_COOKIE, data: Buffer.alloc(8, 1) }, { code: EDNS_OPTION_COOKIE, data: Buffer.alloc(8, 2) }] });
    assert.equal(messageRcode(decode(await sendUdp(server.port, twoCookies))), RCODE.FORMERR);
  });

  it('exempts a client that returns a valid server cookie from the rate limit, and limits the same client without it', async () => {
    // A server of its own, limiting loopback too, so no other test spends this budget.
    const limited = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, workloads: [workload('web', globalRegions())],
      cookies: { secret: SECRET }, rrl: { exemptLoopback: false, responsesPerSecond: 5, burstSeconds: 1, slip: 0 }, log: () => undefined });
    try {
      await cookieBurst(limited.port);
    } finally {
      await limited.close();
    }
  });

  async function cookieBurst(port: number): Promise<void> {
    const first = decode(await sendUdp(port, buildQuery('web.meridian.test', QTYPE.A, { extraOptions: [{ code: EDNS_OPTION_COOKIE, data: Buffer.alloc(8, 7) }] })));
    const opt = first.additionals.find((r) => r.type === QTYPE.OPT);
    assert.ok(opt && opt.data.kind === 'opt');
    const cookie = opt.data.options.find((o) => o.code === EDNS_OPTION_COOKIE)!.data;
    assert.equal(cookie.length, 24);
    const burst = async (withCookie: boolean): Promise<number> => {
      const sock = dgram.createSocket('udp4');
      let answered = 0;
      sock.on('message', (m) => { if ((m[2]! & (FLAG.TC >> 8)) === 0 && m[3]! === 0) answered++; });
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      for (let i = 0; i < 40; i++) {
        sock.send(buildQuery('web.meridian.test', QTYPE.A, { id: i, extraOptions: withCookie ? [{ code: EDNS_OPTION_COOKIE, data: cookie }] : [] }),
          port, '127.0.0.1');
      }
      // A final query with a valid cookie is always answered: once it is, every earlier one was handled.
      const done = buildQuery('web.meridian.test', QTYPE.A, { id: 999, extraOptions: [{ code: EDNS_OPTION_COOKIE, data: cookie }] });
      let last = false;
      sock.on('message', (m) => { if (m.readUInt16BE(0) === 999) last = true; });
      sock.send(done, port, '127.0.0.1');
      await waitFor('the closing answer', () => last, 5_000);
      sock.close();
      return answered - 1;
    };
    assert.equal(await burst(true), 40, 'every query with a valid server cookie is answered');
    const unlimited = await burst(false);
    assert.ok(unlimited < 40, `${unlimited} of 40 answered without a cookie`);
  }

  it('answers ANY at a CNAME owner with the CNAME alone, QCLASS ANY as IN without AA, and no CD in a NOTIMP', async () => {
    const any = await dig('www.meridian.test', 'ANY');
    assert.match(any, /ANSWER: 1, AUTHORITY: 0/);
    assert.match(any, /www\.meridian\.test\.\s+\d+\s+IN\s+CNAME\s+web\.meridian\.test\./);
    const classAny = await dig('-q', 'meridian.test', '-t', 'SOA', '-c', 'ANY');
    assert.match(classAny, /status: NOERROR/);
    assert.match(classAny, /flags: qr rd;/, 'AA clear');
    assert.match(classAny, /IN\s+SOA\s+ns1\.meridian\.test\./);
    const notimp = await dig('+opcode=status', '+cdflag', 'meridian.test', 'SOA');
    assert.match(notimp, /status: NOTIMP/);
    assert.match(notimp, /flags: qr rd;/, 'CD not echoed');
  });

  it('answers a TSIG-signed query NOTAUTH with an unsigned BADKEY TSIG record (RFC 8945 §5.2)', async () => {
    const out = await dig('-y', 'hmac-sha256:meridian-key:c2VjcmV0c2VjcmV0c2VjcmV0', 'meridian.test', 'SOA');
    assert.match(out, /status: NOTAUTH/);
    assert.match(out, /meridian-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
    const plain = encode({ id: 5, flags: 0x0100, questions: [{ name: 'meridian.test', type: QTYPE.SOA, class: 1 }], answers: [], authorities: [],
      additionals: [optRecord(1232), { name: 'k', type: QTYPE.TSIG, class: 255, ttl: 0, data: { kind: 'raw', bytes: Buffer.from([1, 2]) } }] });
    assert.equal(messageRcode(decode(await sendUdp(server.port, plain))), RCODE.FORMERR, 'a malformed TSIG record is a FORMERR');
  });
});

describe('Server cookies (RFC 9018)', () => {
  it('compute SipHash-2-4 as its reference vectors', () => {
    const key = Buffer.from([...Array(16).keys()]);
    const vectors: Record<number, string> = { 0: '310e0edd47db6f72', 1: 'fd67dc93c539f874', 8: '6224939a79f5f593', 15: 'e545be4961ca29a1' };
    for (const [n, hex] of Object.entries(vectors)) {
      const out = Buffer.alloc(8);
      sipHash24(key, Buffer.from([...Array(Number(n)).keys()]), out);
      assert.equal(out.toString('hex'), hex, `length ${n}`);
    }
  });

  it('verify across servers sharing a secret, through one rotation, and not for another client, secret or a stale time', () => {
    let now = 1_800_000_000;
    const a = new CookieSecrets({ enabled: true, secret: SECRET, rotateSeconds: 3600 }, () => now);
    const b = new CookieSecrets({ enabled: true, secret: SECRET, rotateSeconds: 3600 }, () => now);
    const other = new CookieSecrets({ enabled: true, secret: 'ff'.repeat(16), rotateSeconds: 3600 }, () => now);
    const client = Buffer.alloc(8, 9);
    const ip = Buffer.from([192, 0, 2, 1]);
    const made = a.make(client, ip);
    const option = Buffer.concat([client, made]);
    assert.equal(checkCookie(b, option, ip), COOKIE_VALID, 'a sibling with the same secret');
    assert.equal(checkCookie(other, option, ip), COOKIE_CLIENT_ONLY);
    assert.equal(checkCookie(a, option, Buffer.from([192, 0, 2, 2])), COOKIE_CLIENT_ONLY, 'bound to the client address');
    now += 1800;
    assert.equal(checkCookie(b, option, ip), COOKIE_VALID, 'still valid after the secret rotated once');
    now += 3600;
    assert.equal(checkCookie(b, option, ip), COOKIE_CLIENT_ONLY, 'older than an hour');
    assert.equal(checkCookie(a, Buffer.alloc(7), ip), COOKIE_MALFORMED);
    assert.equal(checkCookie(a, Buffer.alloc(12), ip), COOKIE_MALFORMED);
    assert.equal(checkCookie(a, Buffer.alloc(41), ip), COOKIE_MALFORMED);
    assert.throws(() => new CookieSecrets({ enabled: true, secret: 'abc', rotateSeconds: 3600 }), /32 hexadecimal digits/);
  });
});
