// The routing overlay fed by real sessions: BIRD 2 and GoBGP (relaying BIRD) move a prefix to an
// origin on another continent, and GoBGP alone announces a foreign more-specific and a foreign origin.
import { strict as assert } from 'node:assert';
import { GeoTable } from '../../../../dns/geoip';
import { BgpChannel } from '../../../../dns/geoip/channels/bgp';
import { Overlay } from '../../../../dns/geoip/channels/overlay';
import { loopbackAddress } from '../../../tools/daemon';
import { waitFor, waitForValue } from '../../../tools/wait';
import { birdConfig, gobgpConfig, startBird, startGobgp, type Bird, type Gobgp, type SampleRoute } from './bgp/fixtures';

const MERIDIAN_AS = 4200000001;
const BIRD_AS = 65010;
const GOBGP_AS = 65020;

// AS 64500's space is in Germany, AS 64501's in Japan; 198.18.0.0/24 is not in the dataset.
const dataset = GeoTable.fromEntries([
  { range: '10.0.0.0/16', lat: 50.1, lon: 8.7, country: 'DE' },
  { range: '10.1.0.0/16', lat: 50.1, lon: 8.7, country: 'DE' },
  { range: '20.0.0.0/15', lat: 35.7, lon: 139.7, country: 'JP' },
]);

function table(moved: boolean): SampleRoute[] {
  return [
    { prefix: '10.0.0.0/16', asPath: [64500] },
    { prefix: '10.1.0.0/16', asPath: moved ? [64501] : [64500] },
    { prefix: '20.0.0.0/15', asPath: [64501] },
    { prefix: '198.18.0.0/24', asPath: [3356, 64501] },
  ];
}

describe('routing overlay fed by live BGP sessions with BIRD 2 and GoBGP', function () {
  this.timeout(60_000);
  const me = loopbackAddress();
  const birdAddr = loopbackAddress();
  const gobgpAddr = loopbackAddress();
  const overlay = new Overlay({ reHomeMinPeers: 2, reHomeAfterSeconds: 1 });
  let channel: BgpChannel;
  let bird: Bird | undefined;
  let gobgp: Gobgp | undefined;
  let options: Parameters<typeof birdConfig>[0];

  before(async () => {
    channel = new BgpChannel({
      listen: { address: me, port: 0 }, localAs: MERIDIAN_AS, routerId: '10.255.3.1', connectRetrySeconds: 0.5,
      peers: [{ address: birdAddr, peerAs: BIRD_AS }, { address: gobgpAddr, peerAs: GOBGP_AS }],
    });
    await channel.start({ records: (r) => { if (r.kind !== 'locations') overlay.apply(r, 'bgp'); }, healthChanged: () => undefined });
    options = {
      address: birdAddr, port: 1179, as: BIRD_AS, routerId: '10.255.3.2', routes4: table(false), routes6: [],
      neighbors: [
        { name: 'meridian', address: me, port: channel.listenPort!, as: MERIDIAN_AS },
        { name: 'gobgp', address: gobgpAddr, port: 1179, as: GOBGP_AS },
      ],
    };
    bird = await startBird(birdConfig(options));
    gobgp = await startGobgp(gobgpConfig({
      address: gobgpAddr, port: 1179, as: GOBGP_AS, routerId: '10.255.3.3',
      neighbors: [{ address: birdAddr, port: 1179, as: BIRD_AS }, { address: me, port: channel.listenPort!, as: MERIDIAN_AS }],
    }), gobgpAddr);
    await waitFor('both peers\' routes', () => channel.health().prefixes === 8, 30_000);
  });

  after(async () => {
    await channel?.stop();
    await bird?.stop();
    await gobgp?.stop();
  });

  it('locates a prefix the dataset lacks at its origin\'s home', () => {
    const e = overlay.build(dataset, Date.now()).entries.find((x) => x.prefix === '198.18.0.0/24');
    assert.equal(e?.location.country, 'JP');
    assert.equal(e?.originAs, 64501);
    assert.match(e?.reason ?? '', /not in the dataset; located at origin AS64501's home JP\/AS .*path 650[12]0 .*3356 64501$/);
  });

  it('re-homes a prefix to another continent once both peers have carried its new origin for the confirmation time', async () => {
    assert.equal(overlay.build(dataset, Date.now()).entries.some((e) => e.prefix === '10.1.0.0/16'), false, 'in the dataset: no overlay entry');
    bird!.reconfigure(birdConfig({ ...options, routes4: table(true) }));
    await waitFor('both peers on the new origin', () => channel.route(birdAddr, '10.1.0.0/16')?.originAs === 64501 && channel.route(gobgpAddr, '10.1.0.0/16')?.originAs === 64501, 20_000);
    const pending = overlay.build(dataset, Date.now()).pending?.find((h) => h.prefix === '10.1.0.0/16');
    assert.deepEqual(pending && [pending.oldOrigin, pending.newOrigin, pending.peers.length], [64500, 64501, 2], 'not yet confirmed');
    const since = pending!.firstSeenAt;
    assert.equal(overlay.build(dataset, since + 500).entries.some((e) => e.prefix === '10.1.0.0/16'), false, 'not before the confirmation time');
    const moved = overlay.build(dataset, since + 1000).entries.find((e) => e.prefix === '10.1.0.0/16');
    assert.equal(moved?.location.country, 'JP');
    assert.equal(moved?.location.continent, 'AS');
    assert.match(moved?.reason ?? '', /re-homed: origin changed from AS64500 to AS64501, seen by 2 peer/);
  });

  it('reports a foreign more-specific and a foreign origin announced by one peer only as suspected hijacks, and keeps the locations', async () => {
    // The covering /16 must have been stable for the confirmation time before the more-specific appears.
    const start = Date.now();
    await waitFor('the /16 to be stable for 1 s', () => Date.now() - start > 1_100, 3_000, 50);
    gobgp!.gobgp('global', 'rib', '-a', 'ipv4', 'add', '10.0.5.0/24', 'nexthop', '192.0.2.1', 'aspath', '666');
    gobgp!.gobgp('global', 'rib', '-a', 'ipv4', 'add', '198.18.0.0/24', 'nexthop', '192.0.2.1', 'aspath', '666');
    const hijacks = await waitForValue('two suspected hijacks', () => {
      const h = overlay.build(dataset, Date.now() + 3_600_000).hijacks.filter((x) => x.newOrigin === 666);
      return h.length === 2 ? h : undefined;
    }, 20_000);
    const by = Object.fromEntries(hijacks.map((h) => [h.prefix, h]));
    assert.deepEqual([by['10.0.5.0/24']?.coveringPrefix, by['10.0.5.0/24']?.oldOrigin, by['10.0.5.0/24']?.peers], ['10.0.0.0/16', 64500, [`bgp:${gobgpAddr}`]]);
    assert.deepEqual([by['198.18.0.0/24']?.oldOrigin, by['198.18.0.0/24']?.peers], [64501, [`bgp:${gobgpAddr}`]]);
    const later = overlay.build(dataset, Date.now() + 3_600_000);
    assert.equal(later.entries.some((e) => e.prefix === '10.0.5.0/24'), false, 'the foreign /24 gets no location of its own');
    const kept = later.entries.find((e) => e.prefix === '198.18.0.0/24');
    assert.deepEqual([kept?.location.country, kept?.originAs], ['JP', 64501], 'the last good location stays, even an hour later');
  });
});
