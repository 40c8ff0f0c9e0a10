import { strict as assert } from 'node:assert';
import { GeoTable } from '../../../../dns/geoip';
import type { RouteRecord, RoutingUpdate } from '../../../../dns/geoip/channels';
import { Overlay } from '../../../../dns/geoip/channels/overlay';

// A dataset: AS 64500's space in Germany, AS 64501's in Japan (mostly), and nothing for 203.0.113.0/24.
const dataset = GeoTable.fromEntries([
  { range: '10.0.0.0/16', lat: 50.1, lon: 8.7, country: 'DE' },
  { range: '10.1.0.0/16', lat: 50.1, lon: 8.7, country: 'DE' },
  { range: '20.0.0.0/15', lat: 35.7, lon: 139.7, country: 'JP' },
  { range: '20.2.0.0/24', lat: 40.7, lon: -74.0, country: 'US' },
  { range: '2001:db8:a::/48', lat: 50.1, lon: 8.7, country: 'DE' },
]);

const T0 = 1_700_000_000_000;

function route(prefix: string, path: number[]): RouteRecord {
  return { prefix, originAs: path[path.length - 1], asPath: path };
}

function update(peer: string, at: number, announce: RouteRecord[], withdraw: string[] = []): RoutingUpdate {
  return { kind: 'routing', peer, at, full: false, announce, withdraw };
}

function baseline(o: Overlay, peers: string[]): void {
  for (const p of peers) {
    o.apply(update(p, T0, [
      route('10.0.0.0/16', [65000, 64500]), route('10.1.0.0/16', [65000, 64500]),
      route('20.0.0.0/15', [65000, 64501]), route('20.2.0.0/24', [65000, 64501]),
      route('203.0.113.0/24', [65000, 64501]), route('2001:db8:a::/48', [65000, 64500]),
    ]), p.startsWith('ris:') ? 'ris' : 'bgp');
  }
}

describe('routing overlay', () => {
  it('locates a prefix the dataset lacks at its origin AS\'s home, the dominant location by address count', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a', 'bgp:b']);
    const r = o.build(dataset, T0);
    assert.equal(r.entries.length, 1);
    const e = r.entries[0];
    assert.equal(e.prefix, '203.0.113.0/24');
    assert.equal(e.location.country, 'JP', '131,072 JP addresses outweigh 256 US ones');
    assert.equal(e.originAs, 64501);
    assert.equal(e.channel, 'bgp');
    assert.match(e.reason, /not in the dataset.*AS64501's home JP\/AS/);
    assert.deepEqual(r.hijacks, []);
  });

  it('re-homes a prefix whose origin changed on two peers once the change has lasted the configured time', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a', 'bgp:b']);
    o.apply(update('bgp:a', T0 + 1000, [route('10.1.0.0/16', [65000, 64501])]), 'bgp');
    o.apply(update('bgp:b', T0 + 2000, [route('10.1.0.0/16', [65000, 64501])]), 'bgp');
    const early = o.build(dataset, T0 + 30_000);
    assert.equal(early.entries.find((e) => e.prefix === '10.1.0.0/16'), undefined, 'not yet: keeps the dataset location');
    assert.deepEqual(early.pending?.map((h) => [h.prefix, h.oldOrigin, h.newOrigin, h.peers]), [['10.1.0.0/16', 64500, 64501, ['bgp:a', 'bgp:b']]]);
    assert.deepEqual(early.hijacks, [], 'seen by both peers: waiting, not suspected');
    assert.equal(early.nextChangeAt, T0 + 61_000, 'the time the change is confirmed');
    const later = o.build(dataset, T0 + 61_000);
    const e = later.entries.find((x) => x.prefix === '10.1.0.0/16');
    assert.ok(e, 're-homed after 60 s');
    assert.equal(e.location.country, 'JP');
    assert.equal(e.originAs, 64501);
    assert.match(e.reason, /re-homed: origin changed from AS64500 to AS64501, seen by 2 peer/);
    assert.deepEqual([later.hijacks, later.pending, later.nextChangeAt], [[], [], undefined]);
  });

  it('treats an origin change seen by one peer as a suspected hijack and keeps the last good location', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a', 'bgp:b']);
    o.apply(update('bgp:b', T0 + 1000, [route('203.0.113.0/24', [65000, 666])]), 'bgp');
    const r = o.build(dataset, T0 + 3_600_000);
    const e = r.entries.find((x) => x.prefix === '203.0.113.0/24');
    assert.equal(e?.location.country, 'JP', 'still at AS64501\'s home');
    assert.equal(e?.originAs, 64501);
    assert.deepEqual(r.hijacks, [{
      prefix: '203.0.113.0/24', oldOrigin: 64501, coveringPrefix: undefined, newOrigin: 666, peers: ['bgp:b'], asPath: [65000, 666], firstSeenAt: T0 + 1000,
    }]);
  });

  it('treats a more-specific of a stable prefix from a different origin as a suspected hijack', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a', 'bgp:b']);
    o.apply(update('bgp:a', T0 + 120_000, [route('10.0.5.0/24', [65000, 666])]), 'bgp');
    o.apply(update('bgp:a', T0 + 120_000, [route('2001:db8:a:8000::/49', [65000, 666])]), 'bgp');
    const r = o.build(dataset, T0 + 200_000);
    assert.equal(r.entries.some((e) => e.prefix === '10.0.5.0/24'), false);
    assert.deepEqual(r.hijacks.map((h) => [h.prefix, h.coveringPrefix, h.oldOrigin, h.newOrigin]).sort(),
      [['10.0.5.0/24', '10.0.0.0/16', 64500, 666], ['2001:db8:a:8000::/49', '2001:db8:a::/48', 64500, 666]]);
  });

  it('re-homes a foreign more-specific that two peers carry for the confirmation time to its origin\'s home', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60, suspectAfterSeconds: 0 });
    baseline(o, ['bgp:a', 'bgp:b']);
    for (const p of ['bgp:a', 'bgp:b']) o.apply(update(p, T0 + 120_000, [route('10.0.5.0/24', [65000, 64501])]), 'bgp');
    const early = o.build(dataset, T0 + 150_000);
    assert.equal(early.entries.some((e) => e.prefix === '10.0.5.0/24'), false, 'not yet');
    assert.deepEqual(early.hijacks.map((h) => h.prefix), ['10.0.5.0/24'], 'a foreign more-specific is suspected even on two peers');
    const later = o.build(dataset, T0 + 180_000);
    const e = later.entries.find((x) => x.prefix === '10.0.5.0/24');
    assert.deepEqual([e?.location.country, e?.originAs], ['JP', 64501]);
    assert.match(e?.reason ?? '', /re-homed: origin changed from AS64500 to AS64501/);
    assert.deepEqual(later.hijacks, []);
  });

  it('does not suspect more-specifics that arrive with the table they belong to', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a']);
    o.apply(update('bgp:a', T0 + 10, [route('10.0.5.0/24', [65000, 64999])]), 'bgp');
    assert.deepEqual(o.build(dataset, T0 + 3_600_000).hijacks, []);
  });

  it('forgets a peer\'s routes on peer-down and on a full table without them', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60, suspectAfterSeconds: 0 });
    baseline(o, ['bgp:a', 'ris:b']);
    o.apply(update('bgp:a', T0 + 1, [route('203.0.113.0/24', [65000, 666])]), 'bgp');
    assert.equal(o.build(dataset, T0 + 2).hijacks.length, 1);
    o.apply({ kind: 'peer-down', peer: 'bgp:a', at: T0 + 3 }, 'bgp');
    const r = o.build(dataset, T0 + 4);
    assert.deepEqual(r.hijacks, []);
    assert.equal(r.entries[0].channel, 'ris', 'only the RIS peer holds it now');
    o.apply({ kind: 'routing', peer: 'ris:b', at: T0 + 5, full: true, announce: [route('10.0.0.0/16', [65000, 64500])], withdraw: [] }, 'ris');
    assert.equal(o.size, 1);
    assert.deepEqual(o.build(dataset, T0 + 6).entries, []);
  });

  it('gives no entry when the origin has no address in the dataset to take a home from', () => {
    const o = new Overlay();
    o.apply(update('bgp:a', T0, [route('198.51.100.0/24', [65000, 65111])]), 'bgp');
    assert.deepEqual(o.build(dataset, T0).entries, []);
  });

  it('reports a change it cannot follow only once it has lasted the report delay, and says when that is', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60, suspectAfterSeconds: 10 });
    baseline(o, ['bgp:a', 'bgp:b']);
    o.apply(update('bgp:a', T0 + 1000, [route('10.1.0.0/16', [65000, 64501])]), 'bgp');
    const early = o.build(dataset, T0 + 5000);
    assert.deepEqual([early.hijacks, early.pending, early.nextChangeAt], [[], [], T0 + 11_000], 'the other peer may still follow');
    o.apply(update('bgp:b', T0 + 6000, [route('10.1.0.0/16', [65000, 64501])]), 'bgp');
    const both = o.build(dataset, T0 + 12_000);
    assert.deepEqual([both.hijacks.length, both.pending?.length, both.nextChangeAt], [0, 1, T0 + 61_000], 'both peers carry it: a re-homing in progress');
    o.apply(update('bgp:b', T0 + 13_000, [route('10.1.0.0/16', [65000, 64500])]), 'bgp');
    const back = o.build(dataset, T0 + 14_000);
    assert.deepEqual(back.hijacks.map((h) => [h.prefix, h.newOrigin, h.peers]), [['10.1.0.0/16', 64501, ['bgp:a']]], 'one peer again, past the delay');
  });

  it('explains each decision: dataset, origin home, re-homed, pending and suspected hijack', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60, suspectAfterSeconds: 0 });
    baseline(o, ['bgp:a', 'bgp:b']);
    assert.equal(o.explain('192.0.2.1', dataset, T0), undefined, 'no route covers it');
    const inDataset = o.explain('10.0.3.4', dataset, T0);
    assert.deepEqual([inDataset?.prefix, inDataset?.originAs, inDataset?.asPath, inDataset?.decision], ['10.0.0.0/16', 64500, [65000, 64500], 'dataset']);
    assert.deepEqual(inDataset?.routes, [{ peer: 'bgp:a', originAs: 64500 }, { peer: 'bgp:b', originAs: 64500 }]);
    const home = o.explain('203.0.113.9', dataset, T0);
    assert.deepEqual([home?.decision, home?.home?.country, home?.home?.continent], ['origin-home', 'JP', 'AS']);
    assert.match(home?.reason ?? '', /not in the dataset; located at origin AS64501's home JP\/AS \(100% of its addresses/);
    assert.equal(o.explain('2001:db8:a::1', dataset, T0)?.prefix, '2001:db8:a::/48');

    o.apply(update('bgp:a', T0 + 1000, [route('10.1.0.0/16', [65000, 64501])]), 'bgp');
    o.apply(update('bgp:b', T0 + 2000, [route('10.1.0.0/16', [65000, 64501])]), 'bgp');
    o.build(dataset, T0 + 30_000);
    const pending = o.explain('10.1.2.3', dataset, T0 + 30_000);
    assert.deepEqual([pending?.decision, pending?.originAs, pending?.originChanges.map((c) => [c.newOrigin, c.peers.length, c.suspected])],
      ['origin-change-pending', 64500, [[64501, 2, false]]]);
    assert.match(pending?.reason ?? '', /needs 2 peer\(s\) for 60 s.*for 29 s; keeps its location: located by the dataset/);
    o.build(dataset, T0 + 61_000);
    const moved = o.explain('10.1.2.3', dataset, T0 + 61_000);
    assert.deepEqual([moved?.decision, moved?.originAs, moved?.home?.country], ['re-homed', 64501, 'JP']);
    assert.match(moved?.reason ?? '', /re-homed: origin changed from AS64500 to AS64501, seen by 2 peer\(s\) for at least 60 s/);

    o.apply(update('bgp:b', T0 + 120_000, [route('10.0.5.0/24', [65000, 666])]), 'bgp');
    o.build(dataset, T0 + 121_000);
    const hijack = o.explain('10.0.5.1', dataset, T0 + 121_000);
    assert.deepEqual([hijack?.prefix, hijack?.decision, hijack?.originAs, hijack?.routes], ['10.0.5.0/24', 'suspected-hijack', null, [{ peer: 'bgp:b', originAs: 666 }]]);
    assert.match(hijack?.reason ?? '', /suspected hijack: 10\.0\.5\.0\/24 announced from AS666 \(a more-specific of 10\.0\.0\.0\/16 \(origin AS64500\)\) by 1 peer\(s\) \[bgp:b\].*kept the last good location: that of 10\.0\.0\.0\/16/);
    o.apply(update('bgp:a', T0 + 122_000, [route('203.0.113.0/24', [65000, 666])]), 'bgp');
    o.build(dataset, T0 + 123_000);
    const origin = o.explain('203.0.113.9', dataset, T0 + 123_000);
    assert.deepEqual([origin?.decision, origin?.originAs], ['suspected-hijack', 64501]);
    assert.match(origin?.reason ?? '', /origin was AS64501\) by 1 peer\(s\) \[bgp:a\].*kept the last good location: not in the dataset; located at origin AS64501's home JP/);
  });

  it('rejects settings with a wrong type, naming the key', () => {
    assert.throws(() => new Overlay({ reHomeMinPeers: 0 }), /reHomeMinPeers/);
    assert.throws(() => new Overlay({ suspectAfterSeconds: -1 }), /suspectAfterSeconds/);
  });
});
