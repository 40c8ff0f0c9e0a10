// Sessions under faults: BIRD 2 ending, stalling (SIGSTOP) and dying (SIGKILL, with graceful
// restart) mid-session, and hand-written bad messages from raw sockets next to a live BIRD session.
import { strict as assert } from 'node:assert';
import type { PeerDown, RoutingUpdate } from '../../../../../dns/geoip/channels';
import { BgpChannel, encodeMessage, encodeUpdate, type UpdateContext } from '../../../../../dns/geoip/channels/bgp';
import { encodeAttributes } from '../../../../../dns/geoip/channels/bgp/attributes';
import { loopbackAddress } from '../../../../tools/daemon';
import { waitFor } from '../../../../tools/wait';
import {
  birdConfig, KeepingSink, RawSpeaker, realIpv4Routes, startBird, syntheticIpv6Routes, type Bird, type BirdNeighbor,
} from './fixtures';

const MERIDIAN_AS = 4200000001;
const BIRD_AS = 65010;
const RAW_AS = 65100;
const AS4: UpdateContext = { as4: true, addPathV4: false, addPathV6: false };

function peerDowns(sink: KeepingSink, peer: string): PeerDown[] {
  return sink.all.filter((r): r is PeerDown => r.kind === 'peer-down' && r.peer === peer);
}

describe('BGP sessions with BIRD 2 under faults', function () {
  this.timeout(60_000);
  const routes4 = (): ReturnType<typeof realIpv4Routes> => realIpv4Routes().slice(0, 1000);
  const routes6 = (): ReturnType<typeof syntheticIpv6Routes> => syntheticIpv6Routes(200);
  let channel: BgpChannel | undefined;
  let bird: Bird | undefined;
  let birdAddr: string;
  let me: string;
  let sink: KeepingSink;
  let config: string;

  async function setup(neighbor: Partial<BirdNeighbor>, holdTimeSeconds = 90): Promise<void> {
    me = loopbackAddress();
    birdAddr = loopbackAddress();
    sink = new KeepingSink();
    channel = new BgpChannel({
      listen: { address: me, port: 0 }, localAs: MERIDIAN_AS, routerId: '10.255.1.1', connectRetrySeconds: 0.5, holdTimeSeconds,
      peers: [{ address: birdAddr, peerAs: BIRD_AS }],
    });
    await channel.start(sink);
    config = birdConfig({
      address: birdAddr, port: 1179, as: BIRD_AS, routerId: '10.255.1.2', routes4: routes4(), routes6: routes6(),
      neighbors: [{ name: 'meridian', address: me, port: channel.listenPort!, as: MERIDIAN_AS, ...neighbor }],
    });
    bird = await startBird(config);
    await waitFor('BIRD\'s 1,200 routes', () => channel!.health().prefixes === 1200, 30_000);
  }

  const status = () => channel!.peers()[0];

  afterEach(async () => {
    await channel?.stop();
    await bird?.stop();
    channel = undefined;
    bird = undefined;
  });

  it('drops a peer\'s routes when BIRD ends the session, and learns them again when it comes back', async () => {
    await setup({});
    bird!.birdc('disable', 'meridian');
    await waitFor('routes dropped', () => channel!.health().prefixes === 0, 10_000);
    assert.equal(peerDowns(sink, `bgp:${birdAddr}`).length, 1);
    assert.match(status().lastError ?? '', /received NOTIFICATION Cease/);
    assert.equal(channel!.health().state, 'down');
    bird!.birdc('enable', 'meridian');
    await waitFor('routes back', () => channel!.health().prefixes === 1200 && status().state === 'Established', 20_000);
    assert.equal(channel!.health().state, 'up');
  });

  it('ends the session with Hold Timer Expired when BIRD stops answering, and recovers when it resumes', async () => {
    await setup({ holdTimeSeconds: 3 }, 3);
    assert.equal(status().negotiated?.holdTimeSeconds, 3);
    const stoppedAt = Date.now();
    bird!.daemon.proc.kill('SIGSTOP');
    try {
      await waitFor('the hold timer to expire', () => status().state !== 'Established', 10_000);
      assert.ok(Date.now() - stoppedAt >= 2_000, 'not before the hold time');
      assert.match(status().lastError ?? '', /sent NOTIFICATION Hold Timer Expired/);
      await waitFor('routes dropped', () => channel!.health().prefixes === 0, 5_000);
    } finally {
      bird!.daemon.proc.kill('SIGCONT');
    }
    await waitFor('the session back with its routes', () => status().state === 'Established' && channel!.health().prefixes === 1200, 30_000);
  });

  it('keeps a restarting peer\'s routes as stale for its graceful-restart time, then drops them', async () => {
    await setup({ gracefulRestartSeconds: 5 });
    assert.equal(status().negotiated?.restartTimeSeconds, 5);
    const killedAt = Date.now();
    bird!.daemon.proc.kill('SIGKILL');
    await waitFor('routes marked stale', () => status().staleRoutes === 1200, 5_000);
    assert.equal(channel!.health().prefixes, 1200, 'still held');
    assert.equal(peerDowns(sink, `bgp:${birdAddr}`).length, 0);
    await waitFor('routes dropped after the restart time', () => channel!.health().prefixes === 0, 15_000, 20);
    assert.ok(Date.now() - killedAt >= 4_900, `dropped after ${Date.now() - killedAt} ms, before the 5 s restart time`);
    assert.equal(peerDowns(sink, `bgp:${birdAddr}`).length, 1);
  });

  it('keeps the routes through a restart within the restart time and clears the stale mark on End-of-RIB', async () => {
    await setup({ gracefulRestartSeconds: 30 });
    bird!.daemon.proc.kill('SIGKILL');
    await waitFor('routes marked stale', () => status().staleRoutes === 1200, 5_000);
    await bird!.stop();
    bird = await startBird(config);
    await waitFor('stale mark cleared', () => status().state === 'Established' && status().staleRoutes === 0, 30_000);
    assert.equal(channel!.health().prefixes, 1200);
    assert.equal(peerDowns(sink, `bgp:${birdAddr}`).length, 0, 'never flushed');
  });
});

describe('BGP sessions with misbehaving peers on raw sockets', function () {
  this.timeout(60_000);
  const me = loopbackAddress();
  const birdAddr = loopbackAddress();
  const raw = { malformed: loopbackAddress(), badAs: loopbackAddress(), badHold: loopbackAddress(), maxPrefix: loopbackAddress(), withdraw: loopbackAddress(), addPath: loopbackAddress() };
  let channel: BgpChannel;
  let bird: Bird | undefined;
  const sink = new KeepingSink();
  const speakers: RawSpeaker[] = [];

  before(async () => {
    channel = new BgpChannel({
      listen: { address: me, port: 0 }, localAs: MERIDIAN_AS, routerId: '10.255.2.1', connectRetrySeconds: 0.5,
      peers: [
        { address: birdAddr, peerAs: BIRD_AS },
        ...Object.entries(raw).map(([k, address]) => ({ address, peerAs: RAW_AS, maxPrefixes: k === 'maxPrefix' ? 10 : 1000 })),
      ],
    });
    await channel.start(sink);
    bird = await startBird(birdConfig({
      address: birdAddr, port: 1179, as: BIRD_AS, routerId: '10.255.2.2', routes4: realIpv4Routes().slice(0, 1000), routes6: [],
      neighbors: [{ name: 'meridian', address: me, port: channel.listenPort!, as: MERIDIAN_AS }],
    }));
    await waitFor('BIRD\'s routes', () => channel.health().prefixes === 1000, 30_000);
  });

  after(async () => {
    for (const s of speakers) s.close();
    await channel?.stop();
    await bird?.stop();
  });

  async function speaker(from: string): Promise<RawSpeaker> {
    const s = await RawSpeaker.connect(me, channel.listenPort!, from);
    speakers.push(s);
    return s;
  }

  function birdStillUp(): void {
    const b = channel.peers().find((p) => p.address === birdAddr)!;
    assert.equal(b.state, 'Established');
    assert.equal(b.prefixes, 1000);
  }

  it('answers an UPDATE with a prefix longer than 32 bits with UPDATE Message Error / Invalid Network Field and resets, while BIRD\'s session lives on', async () => {
    const s = await speaker(raw.malformed);
    await s.establish(RAW_AS, '10.0.0.1');
    const good = encodeUpdate({ announce: [{ prefix: '198.51.100.0/24', pathId: 0 }], asPath: [RAW_AS] }, AS4);
    s.send({ ...good, nlri: Uint8Array.of(33, 198, 51, 100, 0, 0) });
    const n = await s.notification();
    assert.deepEqual([n.code, n.subcode], [3, 10]);
    await waitFor('the connection closed', () => s.closed);
    birdStillUp();
  });

  it('answers an OPEN from the wrong AS with OPEN Message Error / Bad Peer AS', async () => {
    const s = await speaker(raw.badAs);
    s.send({ type: 1, version: 4, myAs: 64999, holdTimeSeconds: 90, bgpId: '10.0.0.2', capabilities: [{ code: 65, asn: 64999 }] });
    const n = await s.notification();
    assert.deepEqual([n.code, n.subcode], [2, 2]);
    await waitFor('the connection closed', () => s.closed);
    birdStillUp();
  });

  it('answers an OPEN with a hold time of 1 s with OPEN Message Error / Unacceptable Hold Time', async () => {
    const s = await speaker(raw.badHold);
    s.send({ type: 1, version: 4, myAs: RAW_AS, holdTimeSeconds: 1, bgpId: '10.0.0.3', capabilities: [{ code: 65, asn: RAW_AS }] });
    const n = await s.notification();
    assert.deepEqual([n.code, n.subcode], [2, 6]);
    birdStillUp();
  });

  it('answers a message with a broken marker with Message Header Error / Connection Not Synchronized', async () => {
    const s = await speaker(raw.badHold);
    const bytes = encodeMessage({ type: 1, version: 4, myAs: RAW_AS, holdTimeSeconds: 90, bgpId: '10.0.0.3', capabilities: [] });
    bytes[0] = 0;
    s.send(bytes);
    const n = await s.notification();
    assert.deepEqual([n.code, n.subcode], [1, 1]);
    birdStillUp();
  });

  it('refuses a connection from an address that is not a configured neighbour with Cease / Connection Rejected', async () => {
    const s = await speaker(loopbackAddress());
    const n = await s.notification();
    assert.deepEqual([n.code, n.subcode], [6, 5]);
    await waitFor('the connection closed', () => s.closed);
    assert.match(channel.health().lastError ?? '', /refused a connection/);
    birdStillUp();
  });

  it('ends a session that exceeds its maximum prefixes with Cease / Maximum Number of Prefixes Reached and drops its routes', async () => {
    const s = await speaker(raw.maxPrefix);
    await s.establish(RAW_AS, '10.0.0.4');
    const announce = Array.from({ length: 11 }, (_, i) => ({ prefix: `198.51.${i}.0/24`, pathId: 0 }));
    s.send(encodeUpdate({ announce, asPath: [RAW_AS] }, AS4));
    const n = await s.notification();
    assert.deepEqual([n.code, n.subcode], [6, 1]);
    await waitFor('its routes dropped', () => channel.peers().find((p) => p.address === raw.maxPrefix)!.prefixes === 0);
    assert.ok(sink.all.some((r) => r.kind === 'peer-down' && r.peer === `bgp:${raw.maxPrefix}`));
    birdStillUp();
  });

  it('withdraws a route whose UPDATE carries a malformed ORIGIN and keeps the session (RFC 7606 treat-as-withdraw)', async () => {
    const s = await speaker(raw.withdraw);
    await s.establish(RAW_AS, '10.0.0.5');
    const route = { prefix: '203.0.113.0/24', pathId: 0 };
    s.send(encodeUpdate({ announce: [route], asPath: [RAW_AS, 64512] }, AS4));
    await waitFor('the route', () => channel.route(raw.withdraw, route.prefix)?.originAs === 64512);
    const bad = encodeUpdate({ announce: [route], asPath: [RAW_AS, 64513] }, AS4);
    const attrs = encodeAttributes({ origin: 0, asPath: [{ type: 2, asns: [RAW_AS, 64513] }], nextHop: '192.0.2.1' }, { as4: true });
    attrs[3] = 9;
    s.send({ ...bad, pathAttributes: attrs });
    await waitFor('the route withdrawn', () => channel.route(raw.withdraw, route.prefix) === undefined);
    const last = sink.all.filter((r): r is RoutingUpdate => r.kind === 'routing' && r.peer === `bgp:${raw.withdraw}`).at(-1);
    assert.deepEqual(last?.withdraw, [route.prefix]);
    assert.equal(s.received.some((m) => m.type === 3), false, 'no NOTIFICATION');
    assert.equal(channel.peers().find((p) => p.address === raw.withdraw)!.state, 'Established');
  });

  it('keeps each ADD-PATH path of a prefix and still holds the prefix when one of its paths is withdrawn', async () => {
    const s = await speaker(raw.addPath);
    await s.establish(RAW_AS, '10.0.0.6', [{ code: 65, asn: RAW_AS }, { code: 1, afi: 1, safi: 1 }, { code: 69, families: [{ afi: 1, safi: 1, sendReceive: 2 }] }]);
    await waitFor('Established', () => channel.peers().find((p) => p.address === raw.addPath)!.state === 'Established');
    assert.equal(channel.peers().find((p) => p.address === raw.addPath)!.negotiated?.addPathV4, true);
    const ctx = { as4: true, addPathV4: true, addPathV6: false };
    s.send(encodeUpdate({ announce: [{ prefix: '192.0.2.0/24', pathId: 1 }], asPath: [RAW_AS, 64600] }, ctx));
    s.send(encodeUpdate({ announce: [{ prefix: '192.0.2.0/24', pathId: 2 }], asPath: [RAW_AS, 64700, 64601] }, ctx));
    await waitFor('both paths', () => channel.route(raw.addPath, '192.0.2.0/24', 2)?.originAs === 64601);
    assert.equal(channel.route(raw.addPath, '192.0.2.0/24', 1)?.originAs, 64600);
    s.send(encodeUpdate({ withdraw: [{ prefix: '192.0.2.0/24', pathId: 1 }] }, ctx));
    await waitFor('path 1 withdrawn', () => channel.route(raw.addPath, '192.0.2.0/24', 1) === undefined);
    assert.equal(channel.route(raw.addPath, '192.0.2.0/24', 2)?.originAs, 64601);
    const last = sink.all.filter((r): r is RoutingUpdate => r.kind === 'routing' && r.peer === `bgp:${raw.addPath}`).at(-1);
    assert.deepEqual(last?.withdraw, [], 'the prefix is not withdrawn while a path remains');
    assert.equal(last?.announce[0]?.originAs, 64601);
  });
});
