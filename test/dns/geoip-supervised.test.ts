import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exampleZoneConfig, defaultGeoTable, loadDnsConfig, type RunningDnsServer, startDnsServer } from '../../dns/index';
import { GeoTable, GeoTableHolder, mergeLayers, packCountry, parseIpv4, type GeoEntry } from '../../dns/geoip';
import { GeoSupervisor } from '../../dns/geoip/channels/supervisor';
import { HotPrefixCache } from '../../dns/geoip/channels/hot-cache';
import { startGeoService, type GeoService } from '../../dns/geoip/channels/service';
import { decode, QTYPE } from '../../dns/wire/index';
import { waitFor } from '../tools/wait';
import { addressesOf, buildQuery, query, region, workload } from './fixtures';
import { FakeChannel, FakeOverlay } from './geoip/channels/fake-channel';

// Unknown locations answer the first region (us-east-1); the tables below only ever say FR or JP.
const regions = (): ReturnType<typeof region>[] => [
  region('aws', 'us-east-1', ['192.0.2.1']), region('azure', 'westeurope', ['192.0.2.2']), region('aws', 'ap-northeast-1', ['192.0.2.3']),
  region('aws', 'ap-southeast-2', ['192.0.2.4']),
];
const ADDRESS_OF: Record<string, string> = { FR: '192.0.2.2', JP: '192.0.2.3', AU: '192.0.2.4' };
const PARIS = { lat: 48.85, lon: 2.35, country: 'FR' };
const TOKYO = { lat: 35.68, lon: 139.69, country: 'JP' };
const SYDNEY = { lat: -33.87, lon: 151.21, country: 'AU' };

// Parity 0: 10/8 in Paris, 11/8 in Tokyo; parity 1 the other way round. 300 filler /24s keep the
// table from being trivially small, so a partly built table would miss ranges.
function flipTable(parity: number): GeoEntry[] {
  const [a, b] = parity === 0 ? [PARIS, TOKYO] : [TOKYO, PARIS];
  const filler = Array.from({ length: 300 }, (_, i): GeoEntry => ({ range: `12.${i >> 8}.${i & 255}.0/24`, ...(i % 2 ? PARIS : TOKYO), lon: i / 10 }));
  return [{ range: '10.0.0.0/8', ...a }, { range: '11.0.0.0/8', ...b }, ...filler];
}

describe('GeoDNS with its GeoIP channels supervised', function () {
  this.timeout(300_000);
  let server: RunningDnsServer | undefined;
  let sup: GeoSupervisor | undefined;
  let service: GeoService | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    await sup?.stop();
    await service?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = undefined;
    sup = undefined;
    service = undefined;
    dir = undefined;
  });

  it('loses no query and never answers from a half-built table across a flood over 100 table swaps', async () => {
    const signed = new FakeChannel('signed', 'signed');
    const holder = new GeoTableHolder(GeoTable.empty());
    const countryAt = new Map<number, string>();
    sup = new GeoSupervisor(holder, {
      staticTable: GeoTable.fromEntries(flipTable(0), 'static'), staticCreatedAt: Date.now(), channels: [signed], minSwapIntervalSeconds: 0,
      maxDropShare: 0.25, cacheOverridesDatasetAfterHours: 24, cacheMergeIntervalSeconds: 600, healthCheckIntervalSeconds: 1,
      // Called right after each swap, in the same tick: no query can be answered in between.
      onTable: () => countryAt.set(holder.generation, holder.current.lookup('10.0.0.1')!.country),
    });
    await sup.start();
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: holder, channels: sup, workloads: [workload('web', regions())],
      rrl: false, log: () => undefined });
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const pending = new Map<number, { sentAt: number; generation: number; net: 10 | 11; timer: NodeJS.Timeout }>();
    const problems: string[] = [];
    let sent = 0;
    let answered = 0;
    let flooding = true;
    let nextId = 0;
    const port = server.port;
    const send = (): void => {
      const id = nextId;
      nextId = (nextId + 1) & 0xffff;
      const net = sent % 2 === 0 ? 10 : 11;
      const q = buildQuery('web.meridian.test', QTYPE.A, { id, ecs: `${net}.1.2.0/24` });
      const timer = setTimeout(() => { problems.push(`query ${id} got no answer within 3 s`); pending.delete(id); }, 3000);
      pending.set(id, { sentAt: Date.now(), generation: holder.generation, net, timer });
      sent++;
      socket.send(q, port, '127.0.0.1');
    };
    socket.on('message', (msg) => {
      const m = decode(msg);
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      clearTimeout(p.timer);
      answered++;
      const got = addressesOf(m);
      // The answer must be what one complete table, in force at some moment between send and receipt, says.
      const allowed = new Set<string>();
      for (let g = p.generation; g <= holder.generation; g++) {
        const tenIn = countryAt.get(g)!;
        const country = p.net === 10 ? tenIn : tenIn === 'FR' ? 'JP' : 'FR';
        allowed.add(ADDRESS_OF[country]!);
      }
      if (got.length !== 1 || !allowed.has(got[0]!)) problems.push(`answer ${got.join(',')} for ${p.net}/8, allowed ${[...allowed].join(',')}`);
      if (flooding) send();
    });
    // 32 queries in flight at any time.
    for (let i = 0; i < 32; i++) send();
    try {
      for (let serial = 1; serial <= 100; serial++) {
        const before = holder.generation;
        signed.emitDataset(serial, flipTable(serial % 2));
        await waitFor(`swap ${serial}`, () => holder.generation > before, 30_000, 2);
        // Let some queries meet every table.
        await new Promise((r) => setImmediate(r));
      }
      flooding = false;
      await waitFor('every query in flight to be answered', () => pending.size === 0, 10_000);
    } finally {
      flooding = false;
      for (const p of pending.values()) clearTimeout(p.timer);
      socket.close();
    }
    assert.deepEqual(problems.slice(0, 5), []);
    assert.equal(answered, sent);
    assert.ok(holder.generation >= 101, `generation ${holder.generation}`);
    assert.ok(sent > 500, `only ${sent} queries were sent`);
  });

  it('answers from geoip-lite\'s data and the hot-prefix cache when every channel has failed and no dataset is left, and says so', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'geo-supervised-'));
    const cachePath = path.join(dir, 'hot.bin');
    // A cache remembered from fresher data (before a restart): 81.2.70.0/24 (London in geoip-lite) was answered in Sydney.
    const seed = await HotPrefixCache.open({ path: cachePath, maxPrefixes: 1000, ttlHours: 72, flushIntervalMs: 20 });
    seed.noteV4(parseIpv4('81.2.70.7'), SYDNEY.lat, SYDNEY.lon, packCountry('AU'));
    await seed.close();
    const fakes = new Map<string, FakeChannel>();
    const factory = (kind: 'bgp' | 'ris' | 'signed') => (): FakeChannel => {
      const c = new FakeChannel(kind, kind);
      fakes.set(kind, c);
      return c;
    };
    const settings = loadDnsConfig({ zones: exampleZoneConfig().zones, geoip: { minSwapIntervalSeconds: 0, bgp: {}, ris: {}, signed: {}, cache: { path: cachePath } } }).geoip;
    service = await startGeoService(settings, defaultGeoTable(), {
      channels: { bgp: factory('bgp'), ris: factory('ris'), signed: factory('signed') },
      overlay: () => new FakeOverlay(new Map()),
      openCache: (o) => HotPrefixCache.open(o),
    });
    server = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: service.holder, channels: service.supervisor,
      recorder: service.recorder, workloads: [workload('web', regions())], log: () => undefined });
    const admin = `http://127.0.0.1:${server.adminPort}`;
    const lookup = async (ip: string): Promise<{ layer: string; channel: string; prefix: string; location: { country: string } }> =>
      (await fetch(`${admin}/geo/lookup?ip=${ip}`)).json() as Promise<{ layer: string; channel: string; prefix: string; location: { country: string } }>;
    const answer = async (ecs: string): Promise<string[]> => addressesOf(await query(server!.port, 'web.meridian.test', QTYPE.A, { ecs }));

    // A fresh verified dataset (geoip-lite's data with one correction) sits above the cache.
    const corrected = mergeLayers([
      { layer: 'dataset', channel: 'signed', data: GeoTable.fromEntries([{ range: '81.2.69.0/24', ...PARIS }]).columns },
      { layer: 'dataset', channel: 'signed', data: defaultGeoTable().columns },
    ], 'dataset');
    fakes.get('signed')!.emitTable(1, new GeoTable(corrected));
    await waitFor('the dataset', async () => (await lookup('81.2.69.7')).layer === 'dataset', 20_000, 50);
    assert.deepEqual(await answer('81.2.69.0/24'), [ADDRESS_OF.FR]);

    for (const name of ['bgp', 'ris', 'signed']) {
      const res = await fetch(`${admin}/geo/channels/${name}/fail`, { method: 'POST' });
      assert.equal(res.status, 200, await res.text());
    }
    const status = await (await fetch(`${admin}/geo/channels`)).json() as {
      driving: string; channels: { name: string; state: string; driving: boolean }[]; layers: { layer: string; channel: string; prefixes: number }[];
    };
    assert.equal(status.driving, 'static');
    assert.deepEqual(status.channels.map((c) => [c.name, c.state, c.driving]),
      [['bgp', 'failed', false], ['ris', 'failed', false], ['signed', 'failed', false], ['static', 'up', true]]);
    assert.deepEqual(status.layers.map((l) => `${l.layer}/${l.channel}`), ['cache/static', 'static/static']);
    assert.ok(status.layers[1]!.prefixes > 1_000_000, `static layer has ${status.layers[1]!.prefixes} ranges`);

    // The cache answers over the (older) shipped data: with what the dataset answered for 81.2.69.0/24
    // while it was in force, and with the entry kept from before the restart for 81.2.70.0/24.
    assert.deepEqual(await answer('81.2.69.0/24'), [ADDRESS_OF.FR]);
    assert.deepEqual([(await lookup('81.2.69.7')).layer, (await lookup('81.2.69.7')).prefix], ['cache', '81.2.69.0/24']);
    assert.deepEqual(await answer('81.2.70.0/24'), [ADDRESS_OF.AU]);
    assert.deepEqual([(await lookup('81.2.70.7')).layer, (await lookup('81.2.70.7')).location.country], ['cache', 'AU']);
    assert.equal((await lookup('81.2.71.7')).location.country, 'GB');
    assert.deepEqual(await answer('1.0.16.0/24'), [ADDRESS_OF.JP]);
    assert.deepEqual([(await lookup('1.0.16.1')).layer, (await lookup('1.0.16.1')).location.country], ['static', 'JP']);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /meridian_dns_answers_total\{workload="web",region="aws:ap-southeast-2",source="cache"\} 1/);
    assert.match(metrics, /meridian_dns_answers_total\{workload="web",region="azure:westeurope",source="cache"\} 1/);
    assert.match(metrics, /meridian_dns_answers_total\{workload="web",region="aws:ap-northeast-1",source="static"\} 1/);
    assert.match(metrics, /meridian_dns_answers_total\{workload="web",region="azure:westeurope",source="dataset"\} 1/);
    // Answers are noted in the cache: the /24 just answered from geoip-lite is now remembered.
    const hot = service.recorder as HotPrefixCache;
    await waitFor('the answered prefix in the cache', () => hot.getV4(parseIpv4('1.0.16.9'))?.country === packCountry('JP'));
  });

  it('shows an operator action on an unknown channel as 404 and the channels of a server without a supervisor as static', async () => {
    server = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: GeoTable.fromEntries(flipTable(0)), log: () => undefined });
    const admin = `http://127.0.0.1:${server.adminPort}`;
    const status = await (await fetch(`${admin}/geo/channels`)).json() as { driving: string; channels: unknown[]; layers: { layer: string }[] };
    assert.deepEqual([status.driving, status.channels.length, status.layers.map((l) => l.layer)], ['static', 0, ['static']]);
    const res = await fetch(`${admin}/geo/channels/bgp/fail`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'MERIDIAN_ERR_NOT_FOUND');
  });
});
