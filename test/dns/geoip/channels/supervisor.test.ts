import assert from 'node:assert/strict';
import { GeoTable, GeoTableHolder, type GeoEntry } from '../../../../dns/geoip';
import { GeoSupervisor, type SupervisorOptions } from '../../../../dns/geoip/channels/supervisor';
import { waitFor } from '../../../tools/wait';
import { Overlay } from '../../../../dns/geoip/channels/overlay';
import type { RoutingUpdate } from '../../../../dns/geoip/channels';
import { FakeChannel, FakeOverlay } from './fake-channel';

const HOUR_MS = 3_600_000;

// n /24s from 20.0.0.0 in one country, each at its own place (so none merge into one range).
function blocks(n: number, country: string, lat: number, lon: number, first = 0): GeoEntry[] {
  return Array.from({ length: n }, (_, i) => ({ range: `20.${(first + i) >> 8}.${(first + i) & 255}.0/24`, lat, lon: lon + i / 100, country }));
}

describe('GeoIP supervisor', function () {
  this.timeout(30_000);
  let sup: GeoSupervisor | undefined;
  afterEach(async () => {
    await sup?.stop();
    sup = undefined;
  });

  const staticTable = GeoTable.fromEntries(blocks(100, 'US', 40.7, -74), 'static');
  const make = (channels: FakeChannel[], extra: Partial<SupervisorOptions> = {}): { holder: GeoTableHolder; sup: GeoSupervisor } => {
    const holder = new GeoTableHolder(GeoTable.empty());
    sup = new GeoSupervisor(holder, {
      staticTable, staticCreatedAt: Date.now(), channels, minSwapIntervalSeconds: 0, maxDropShare: 0.25,
      cacheOverridesDatasetAfterHours: 24, cacheMergeIntervalSeconds: 600, healthCheckIntervalSeconds: 1, ...extra,
    });
    return { holder, sup };
  };

  it('starts from the static data and lets a verified dataset replace it', async () => {
    const signed = new FakeChannel('signed', 'signed');
    const { holder, sup: s } = make([signed]);
    await s.start();
    assert.equal(holder.current.lookup('20.0.3.1')?.source, 'static');
    signed.emitDataset(1, blocks(100, 'FR', 48.85, 2.35));
    await waitFor('the dataset to be swapped in', () => holder.current.lookup('20.0.3.1')?.source === 'dataset', 20_000);
    assert.deepEqual([holder.current.lookup('20.0.3.1')?.country, holder.current.lookup('20.0.3.1')?.channel], ['FR', 'signed']);
    assert.equal(s.status().driving, 'signed');
  });

  it('refuses an update that would empty the table or halve it, reports it, and keeps the table it had', async () => {
    const signed = new FakeChannel('signed', 'signed');
    const { holder, sup: s } = make([signed]);
    await s.start();
    signed.emitDataset(1, blocks(100, 'FR', 48.85, 2.35));
    await waitFor('the first dataset', () => holder.current.lookup('20.0.3.1')?.country === 'FR', 20_000);
    const before = holder.current;
    const generation = holder.generation;

    signed.emitDataset(2, []);
    await waitFor('the empty dataset to be refused', () => /serial 2 .*empty/.test(s.status().lastRefusal?.reason ?? ''), 20_000);
    signed.emitDataset(3, blocks(50, 'JP', 35.68, 139.69));
    await waitFor('the halving dataset to be refused', () => /shrink the table from 100 to 50/.test(s.status().lastRefusal?.reason ?? ''), 20_000);
    assert.equal(holder.current, before);
    assert.equal(holder.generation, generation);
    assert.equal(holder.current.lookup('20.0.3.1')?.country, 'FR');
    // A refused dataset is not retried; a good one still passes (a share below the limit may go).
    signed.emitDataset(4, blocks(80, 'DE', 52.52, 13.4));
    await waitFor('the next good dataset', () => holder.current.lookup('20.0.3.1')?.country === 'DE', 20_000);
    assert.equal(holder.current.v4Count, 80);
  });

  it('never goes back to an older dataset serial', async () => {
    const signed = new FakeChannel('signed', 'signed');
    const { holder, sup: s } = make([signed]);
    await s.start();
    signed.emitDataset(5, blocks(100, 'FR', 48.85, 2.35));
    await waitFor('serial 5', () => holder.current.lookup('20.0.0.1')?.country === 'FR', 20_000);
    signed.emitDataset(4, blocks(100, 'JP', 35.68, 139.69));
    await waitFor('serial 4 to be refused', () => /serial 4 .*not newer than serial 5/.test(s.status().lastRefusal?.reason ?? ''), 20_000);
    assert.equal(holder.current.lookup('20.0.0.1')?.country, 'FR');
  });

  it('lets no more than one swap happen per minSwapIntervalSeconds, coalescing what arrives meanwhile', async () => {
    const signed = new FakeChannel('signed', 'signed');
    const swapTimes: number[] = [];
    const t0 = Date.now();
    const { holder, sup: s } = make([signed], { minSwapIntervalSeconds: 1, onTable: () => swapTimes.push(Date.now() - t0) });
    await s.start();
    swapTimes.length = 0;
    for (let serial = 1; serial <= 5; serial++) signed.emitDataset(serial, blocks(100, serial % 2 ? 'FR' : 'JP', 10 * serial, 0));
    await waitFor('the last dataset', () => holder.current.lookup('20.0.0.1')?.lat === 50, 10_000);
    // The start swapped at t≈0, so the first dataset waits about a second; the rest coalesce into one more.
    assert.ok(swapTimes.length >= 1 && swapTimes.length <= 2, `swaps at ${swapTimes.join(', ')} ms`);
    assert.ok(swapTimes[0]! >= 900, `first swap after ${swapTimes[0]} ms`);
    for (let i = 1; i < swapTimes.length; i++) assert.ok(swapTimes[i]! - swapTimes[i - 1]! >= 900, `swaps at ${swapTimes.join(', ')} ms`);
  });

  it('drives from the most trusted channel that is up: BGP over RIS over the signed package over static', async () => {
    const bgp = new FakeChannel('bgp', 'bgp');
    const ris = new FakeChannel('ris', 'ris');
    const signed = new FakeChannel('signed', 'signed');
    const { sup: s } = make([signed, ris, bgp]);
    await s.start();
    const driving = (): string => s.status().driving;
    assert.equal(driving(), 'bgp');
    assert.deepEqual(s.status().channels.map((c) => [c.name, c.driving]), [['bgp', true], ['ris', false], ['signed', false], ['static', false]]);
    bgp.setHealth({ state: 'down', lastError: 'hold timer expired' });
    assert.equal(driving(), 'ris');
    assert.equal(s.status().channels[0]!.lastError, 'hold timer expired');
    ris.setHealth({ state: 'stale' });
    assert.equal(driving(), 'signed');
    await s.act('signed', 'fail');
    assert.equal(driving(), 'static');
    assert.deepEqual(s.status().channels.map((c) => c.state), ['down', 'stale', 'failed', 'up']);
  });

  it('puts routing overlay entries above the dataset, per channel, and drops a failed channel\'s entries', async () => {
    const bgp = new FakeChannel('bgp', 'bgp');
    const ris = new FakeChannel('ris', 'ris');
    const overlay = new FakeOverlay(new Map([[64500, { lat: 35.68, lon: 139.69, country: 'JP' }], [64501, { lat: 52.52, lon: 13.4, country: 'DE' }]]));
    const { holder, sup: s } = make([bgp, ris], { overlay });
    await s.start();
    bgp.emit({ kind: 'routing', peer: 'bgp:192.0.2.1', at: Date.now(), full: false, withdraw: [], announce: [{ prefix: '20.0.1.0/24', originAs: 64500, asPath: [64500] }] });
    ris.emit({ kind: 'routing', peer: 'rrc00:192.0.2.9', at: Date.now(), full: false, withdraw: [], announce: [{ prefix: '20.0.2.0/24', originAs: 64501, asPath: [64501] }] });
    await waitFor('both overlay entries', () => holder.current.lookup('20.0.2.1')?.source === 'overlay' && holder.current.lookup('20.0.1.1')?.source === 'overlay', 20_000);
    assert.deepEqual([holder.current.lookup('20.0.1.1')?.country, holder.current.lookup('20.0.1.1')?.channel], ['JP', 'bgp']);
    assert.deepEqual([holder.current.lookup('20.0.2.1')?.country, holder.current.lookup('20.0.2.1')?.channel], ['DE', 'ris']);
    assert.deepEqual(s.status().layers.map((l) => `${l.layer}/${l.channel}:${l.prefixes}`), ['overlay/bgp:1', 'overlay/ris:1', 'static/static:100']);
    await s.act('bgp', 'fail');
    assert.equal(holder.current.lookup('20.0.1.1')?.source, 'static');
    assert.equal(holder.current.lookup('20.0.2.1')?.source, 'overlay');
    assert.equal(bgp.running, false);
  });

  describe('with the routing overlay', () => {
    // AS 64500's space is in Germany, AS 64501's in Japan.
    const homes = GeoTable.fromEntries([...blocks(10, 'DE', 50.1, 8.7, 0), ...blocks(10, 'JP', 35.7, 139.7, 10)], 'static');
    const announce = (peer: string, routes: [string, number][]): RoutingUpdate => ({
      kind: 'routing', peer, at: Date.now(), full: false, withdraw: [], announce: routes.map(([prefix, o]) => ({ prefix, originAs: o, asPath: [65000, o] })),
    });
    const baseline: [string, number][] = [['20.0.0.0/22', 64500], ['20.0.4.0/23', 64500], ['20.0.12.0/22', 64501]];

    it('re-homes a prefix once the confirmation time has passed, with no further update to prompt it', async () => {
      const bgp = new FakeChannel('bgp', 'bgp');
      const overlay = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 1, suspectAfterSeconds: 0 });
      const { holder, sup: s } = make([bgp], { overlay, staticTable: homes });
      await s.start();
      for (const peer of ['bgp:a', 'bgp:b']) bgp.emit(announce(peer, baseline));
      for (const peer of ['bgp:a', 'bgp:b']) bgp.emit(announce(peer, [['20.0.4.0/23', 64501]]));
      const changedAt = Date.now();
      await waitFor('the overlay to hold the change', () => s.explain('20.0.4.1')?.decision === 'origin-change-pending', 5_000);
      assert.equal(holder.current.lookup('20.0.4.1')?.country, 'DE', 'not before the confirmation time');
      await waitFor('the re-homed prefix', () => holder.current.lookup('20.0.4.1')?.country === 'JP', 10_000);
      assert.ok(Date.now() - changedAt >= 1_000, 'after the confirmation time');
      assert.deepEqual([holder.current.lookup('20.0.4.1')?.source, s.explain('20.0.4.1')?.decision], ['overlay', 're-homed']);
      assert.equal(s.status().suspectedHijacks.total, 0, 'both peers followed: no hijack');
    });

    it('counts, logs once and lists a suspected hijack, and keeps the last good location', async () => {
      const bgp = new FakeChannel('bgp', 'bgp');
      const lines: string[] = [];
      const overlay = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 0.2, suspectAfterSeconds: 0.3 });
      const { holder, sup: s } = make([bgp], { overlay, staticTable: homes, log: (l) => lines.push(l), hijackListSize: 2 });
      await s.start();
      for (const peer of ['bgp:a', 'bgp:b']) bgp.emit(announce(peer, baseline));
      bgp.emit(announce('bgp:a', [['20.0.0.0/22', 64501]]));
      await waitFor('the hijack to be reported', () => s.status().suspectedHijacks.total === 1, 10_000);
      const listed = s.status().suspectedHijacks.recent[0];
      assert.deepEqual([listed?.prefix, listed?.oldOrigin, listed?.newOrigin, listed?.peers, listed?.endedAt], ['20.0.0.0/22', 64500, 64501, ['bgp:a'], null]);
      assert.ok(listed!.reportedAt - listed!.firstSeenAt >= 300, 'reported after the report delay');
      bgp.emit(announce('bgp:b', [['20.0.12.0/22', 64501]]));
      await s.rebuild(true);
      assert.deepEqual([holder.current.lookup('20.0.1.1')?.country, holder.current.lookup('20.0.1.1')?.source], ['DE', 'static'], 'the location stays');
      assert.equal(s.explain('20.0.1.1')?.decision, 'suspected-hijack');
      assert.equal(s.status().suspectedHijacks.total, 1, 'counted once over several builds');
      assert.deepEqual(lines.filter((l) => l.includes('suspected BGP hijack')), [
        `geoip: suspected BGP hijack: 20.0.0.0/22 announced from AS64501 (originated by AS64500 until then) by bgp:a since ${new Date(listed!.firstSeenAt).toISOString()}, path 65000 64501; the prefix keeps its last good location`,
      ]);
      bgp.emit(announce('bgp:a', [['20.0.0.0/22', 64500]]));
      await waitFor('the event to end', () => s.status().suspectedHijacks.active === 0, 10_000);
      assert.notEqual(s.status().suspectedHijacks.recent[0]?.endedAt, null);
    });
  });

  it('pauses a channel (stopped, data kept), resumes it, and reports an unknown name', async () => {
    const signed = new FakeChannel('signed', 'signed');
    const { holder, sup: s } = make([signed]);
    await s.start();
    signed.emitDataset(1, blocks(100, 'FR', 48.85, 2.35));
    await waitFor('the dataset', () => holder.current.lookup('20.0.0.1')?.country === 'FR', 20_000);
    await s.act('signed', 'pause');
    assert.equal(signed.running, false);
    assert.equal(s.status().channels[0]!.state, 'paused');
    assert.equal(holder.current.lookup('20.0.0.1')?.country, 'FR');
    await s.act('signed', 'resume');
    assert.equal(signed.running, true);
    assert.equal(signed.starts, 2);
    assert.equal(s.status().channels[0]!.state, 'up');
    await assert.rejects(s.act('nope', 'fail'), (e: Error) => e instanceof RangeError && /no GeoIP channel named 'nope'/.test(e.message));
  });

  it('reports a channel that fails to start as failed and runs the others', async () => {
    const bad = new FakeChannel('ris', 'ris');
    bad.failStart = new Error('collector URL is not http(s)');
    const good = new FakeChannel('signed', 'signed');
    const { sup: s } = make([bad, good]);
    await s.start();
    const [r, g] = s.status().channels;
    assert.deepEqual([r!.state, r!.lastError], ['failed', 'start failed: collector URL is not http(s)']);
    assert.equal(g!.state, 'up');
  });

  it('answers from the cache where the dataset has nothing, and over a dataset older than the configured age', async () => {
    const cacheTable = GeoTable.fromEntries([
      { range: '20.0.5.0/24', lat: 35.68, lon: 139.69, country: 'JP' },
      { range: '30.0.0.0/24', lat: 35.68, lon: 139.69, country: 'JP' },
    ], 'cache');
    const cache = { table: () => cacheTable, size: () => 2 };
    const fresh = make([], { cache });
    await fresh.sup.start();
    assert.deepEqual([fresh.holder.current.lookup('30.0.0.1')?.source, fresh.holder.current.lookup('20.0.5.1')?.source], ['cache', 'static']);
    await fresh.sup.stop();
    const old = make([], { cache, staticCreatedAt: Date.now() - 25 * HOUR_MS });
    await old.sup.start();
    assert.deepEqual([old.holder.current.lookup('20.0.5.1')?.source, old.holder.current.lookup('20.0.5.1')?.country], ['cache', 'JP']);
    assert.equal(old.holder.current.lookup('20.0.6.1')?.source, 'static');
  });
});
