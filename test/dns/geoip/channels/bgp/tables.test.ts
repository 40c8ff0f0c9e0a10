// BIRD 2 and GoBGP announce 100,000 real IPv4 routes and 20,000 IPv6 routes to the channel: BIRD
// from static routes carrying the 2002 RIS paths, GoBGP relaying what it learns from BIRD.
import { strict as assert } from 'node:assert';
import type { RoutingUpdate } from '../../../../../dns/geoip/channels';
import { BgpChannel } from '../../../../../dns/geoip/channels/bgp';
import { Overlay } from '../../../../../dns/geoip/channels/overlay';
import { loopbackAddress } from '../../../../tools/daemon';
import { waitFor } from '../../../../tools/wait';
import {
  birdConfig, gobgpConfig, KeepingSink, realIpv4Routes, startBird, startGobgp, syntheticIpv6Routes,
  type Bird, type Gobgp, type SampleRoute,
} from './fixtures';

const MERIDIAN_AS = 4200000001;
const BIRD_AS = 65010;
const GOBGP_AS = 65020;

describe('BGP channel receiving real tables from BIRD 2 and GoBGP', function () {
  this.timeout(180_000);
  const me = loopbackAddress();
  const birdAddr = loopbackAddress();
  const gobgpAddr = loopbackAddress();
  let routes4: readonly SampleRoute[];
  let routes6: readonly SampleRoute[];
  let channel: BgpChannel;
  let bird: Bird | undefined;
  let gobgp: Gobgp | undefined;
  const sink = new KeepingSink();
  const overlay = new Overlay();
  let total = 0;

  before(async () => {
    routes4 = realIpv4Routes().slice(0, 100_000);
    routes6 = syntheticIpv6Routes(20_000);
    total = routes4.length + routes6.length;
    assert.equal(routes4.length, 100_000);
    channel = new BgpChannel({
      listen: { address: me, port: 0 }, localAs: MERIDIAN_AS, routerId: '10.255.0.1', connectRetrySeconds: 1,
      peers: [{ address: birdAddr, peerAs: BIRD_AS }, { address: gobgpAddr, peerAs: GOBGP_AS }],
    });
    await channel.start({
      records: (r) => { sink.records(r); if (r.kind !== 'locations') overlay.apply(r, 'bgp'); },
      healthChanged: () => sink.healthChanged(),
    });
    bird = await startBird(birdConfig({
      address: birdAddr, port: 1179, as: BIRD_AS, routerId: '10.255.0.2', routes4, routes6,
      neighbors: [
        { name: 'meridian', address: me, port: channel.listenPort!, as: MERIDIAN_AS },
        { name: 'gobgp', address: gobgpAddr, port: 1179, as: GOBGP_AS },
      ],
    }));
    gobgp = await startGobgp(gobgpConfig({
      address: gobgpAddr, port: 1179, as: GOBGP_AS, routerId: '10.255.0.3',
      neighbors: [{ address: birdAddr, port: 1179, as: BIRD_AS }, { address: me, port: channel.listenPort!, as: MERIDIAN_AS }],
    }), gobgpAddr);
    await waitFor('both full tables', () => channel.health().prefixes === 2 * total, 120_000, 100);
  });

  after(async () => {
    await channel?.stop();
    await bird?.stop();
    await gobgp?.stop();
  });

  function check(peer: string, prefix: string, want: readonly number[]): string | undefined {
    const r = channel.route(peer, prefix);
    if (!r) return `${prefix} missing`;
    if (r.asPath.join(' ') !== want.join(' ')) return `${prefix}: path ${r.asPath.join(' ')}, want ${want.join(' ')}`;
    if (r.originAs !== want[want.length - 1]) return `${prefix}: origin ${r.originAs}, want ${want[want.length - 1]}`;
    return undefined;
  }

  it('holds every one of BIRD\'s 100,000 IPv4 and 20,000 IPv6 routes with the path and origin BIRD sent', () => {
    const bad = [...routes4, ...routes6].map((r) => check(birdAddr, r.prefix, [BIRD_AS, ...r.asPath])).filter((x) => x);
    assert.deepEqual(bad.slice(0, 5), []);
    const status = channel.peers().find((p) => p.address === birdAddr)!;
    assert.equal(status.state, 'Established');
    assert.equal(status.prefixes, 120_000);
    assert.deepEqual({ as4: status.negotiated?.as4, ipv6: status.negotiated?.ipv6 }, { as4: true, ipv6: true });
  });

  it('holds the same routes relayed by GoBGP, with GoBGP\'s AS in front of BIRD\'s', () => {
    const bad = [...routes4, ...routes6].map((r) => check(gobgpAddr, r.prefix, [GOBGP_AS, BIRD_AS, ...r.asPath])).filter((x) => x);
    assert.deepEqual(bad.slice(0, 5), []);
    assert.equal(channel.health().state, 'up');
  });

  it('emits the routes as RoutingUpdates from bgp:<address>, which the overlay takes in', () => {
    const peers = new Set(sink.all.filter((r): r is RoutingUpdate => r.kind === 'routing').map((r) => r.peer));
    assert.deepEqual([...peers].sort(), [`bgp:${birdAddr}`, `bgp:${gobgpAddr}`].sort());
    assert.equal(overlay.size, total);
    assert.deepEqual(overlay.routesOf(routes4[0].prefix).map((x) => x.originAs), [routes4[0].asPath.at(-1), routes4[0].asPath.at(-1)]);
  });

  // Last: it leaves the tables empty.
  it('removes every route from both sessions when BIRD withdraws them, keeping the sessions up', async () => {
    bird!.birdc('disable', 's4');
    bird!.birdc('disable', 's6');
    await waitFor('every route withdrawn', () => channel.health().prefixes === 0, 60_000, 50);
    assert.equal(overlay.size, 0);
    assert.equal(channel.route(birdAddr, routes6[123].prefix), undefined);
    assert.ok(channel.peers().every((p) => p.state === 'Established'), 'withdrawing routes does not end the sessions');
  });
});
