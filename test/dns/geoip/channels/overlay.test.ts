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
    assert.deepEqual(early.hijacks.map((h) => [h.prefix, h.oldOrigin, h.newOrigin, h.peers]), [['10.1.0.0/16', 64500, 64501, ['bgp:a', 'bgp:b']]]);
    const later = o.build(dataset, T0 + 61_000);
    const e = later.entries.find((x) => x.prefix === '10.1.0.0/16');
    assert.ok(e, 're-homed after 60 s');
    assert.equal(e.location.country, 'JP');
    assert.equal(e.originAs, 64501);
    assert.match(e.reason, /re-homed: origin changed from AS64500 to AS64501, seen by 2 peer/);
    assert.deepEqual(later.hijacks, []);
  });

  it('treats an origin change seen by one peer as a suspected hijack and keeps the last good location', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a', 'bgp:b']);
    o.apply(update('bgp:b', T0 + 1000, [route('203.0.113.0/24', [65000, 666])]), 'bgp');
    const r = o.build(dataset, T0 + 3_600_000);
    const e = r.entries.find((x) => x.prefix === '203.0.113.0/24');
    assert.equal(e?.location.country, 'JP', 'still at AS64501\'s home');
    assert.equal(e?.originAs, 64501);
    assert.deepEqual(r.hijacks, [{ prefix: '203.0.113.0/24', oldOrigin: 64501, newOrigin: 666, peers: ['bgp:b'], firstSeenAt: T0 + 1000 }]);
  });

  it('treats a more-specific of a stable prefix from a different origin as a suspected hijack', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a', 'bgp:b']);
    o.apply(update('bgp:a', T0 + 120_000, [route('10.0.5.0/24', [65000, 666])]), 'bgp');
    o.apply(update('bgp:a', T0 + 120_000, [route('2001:db8:a:8000::/49', [65000, 666])]), 'bgp');
    const r = o.build(dataset, T0 + 200_000);
    assert.equal(r.entries.some((e) => e.prefix === '10.0.5.0/24'), false);
    assert.deepEqual(r.hijacks.map((h) => [h.prefix, h.oldOrigin, h.newOrigin]).sort(),
      [['10.0.5.0/24', undefined, 666], ['2001:db8:a:8000::/49', undefined, 666]]);
  });

  it('does not suspect more-specifics that arrive with the table they belong to', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
    baseline(o, ['bgp:a']);
    o.apply(update('bgp:a', T0 + 10, [route('10.0.5.0/24', [65000, 64999])]), 'bgp');
    assert.deepEqual(o.build(dataset, T0 + 10).hijacks, []);
  });

  it('forgets a peer\'s routes on peer-down and on a full table without them', () => {
    const o = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 60 });
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

  it('rejects settings with a wrong type, naming the key', () => {
    assert.throws(() => new Overlay({ reHomeMinPeers: 0 }), /reHomeMinPeers/);
  });
});
