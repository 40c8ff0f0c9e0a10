import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  BgpMessageError, decodeMessage, decodeUpdate, encodeMessage, encodeUpdate, endOfRib, messageLength, transition,
  type BgpMessage, type Capability, type UpdateContext,
} from '../../../../../dns/geoip/channels/bgp';
import { concat } from '../../../../../dns/geoip/channels/bgp/codec';
import { encodeAttributes } from '../../../../../dns/geoip/channels/bgp/attributes';
import { prefixArb } from './arbitraries';

const AS4: UpdateContext = { as4: true, addPathV4: false, addPathV6: false };

function at(offset: number, bytes: Uint8Array): Uint8Array {
  return concat([new Uint8Array(offset).fill(7), bytes, Uint8Array.of(1, 2, 3)]);
}

const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ code: fc.constant(1 as const), afi: fc.integer({ min: 1, max: 2 }), safi: fc.integer({ min: 1, max: 2 }) }),
  fc.constant({ code: 2 as const }),
  fc.record({
    code: fc.constant(64 as const), restarting: fc.boolean(), restartTimeSeconds: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: fc.integer({ min: 1, max: 2 }), safi: fc.constant(1), forwardingPreserved: fc.boolean() }), { maxLength: 3 }),
  }),
  fc.record({ code: fc.constant(65 as const), asn: fc.nat({ max: 0xffffffff }) }),
  fc.record({ code: fc.constant(69 as const), families: fc.array(fc.record({ afi: fc.integer({ min: 1, max: 2 }), safi: fc.constant(1), sendReceive: fc.constantFrom(1 as const, 2 as const, 3 as const) }), { maxLength: 3 }) }),
  fc.record({ code: fc.constantFrom(70, 71, 73, 128), raw: fc.uint8Array({ maxLength: 20 }) }),
);

const messageArb: fc.Arbitrary<BgpMessage> = fc.oneof(
  fc.record({
    type: fc.constant(1 as const), version: fc.constant(4), myAs: fc.nat({ max: 0xffff }), holdTimeSeconds: fc.nat({ max: 0xffff }),
    bgpId: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
    capabilities: fc.array(capabilityArb, { maxLength: 8 }),
  }),
  fc.record({ type: fc.constant(2 as const), withdrawnRoutes: fc.uint8Array({ maxLength: 40 }), pathAttributes: fc.uint8Array({ maxLength: 60 }), nlri: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant(3 as const), code: fc.nat(255), subcode: fc.nat(255), data: fc.uint8Array({ maxLength: 30 }) }),
  fc.constant({ type: 4 as const }),
  fc.record({ type: fc.constant(5 as const), afi: fc.nat({ max: 0xffff }), subtype: fc.nat(255), safi: fc.nat(255) }),
);

function plain(m: BgpMessage): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
}

describe('BGP message codec', () => {
  it('decodes every message it encodes, at any offset in a larger buffer', () => {
    fc.assert(fc.property(messageArb, fc.nat(40), (m, offset) => {
      const bytes = encodeMessage(m);
      const { message, length } = decodeMessage(at(offset, bytes), offset);
      assert.equal(length, bytes.length);
      assert.deepEqual(plain(message), plain(m));
    }), { numRuns: 500 });
  });

  it('throws only BgpMessageError on arbitrary bytes, and never reads past the message', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(5), (body, type) => {
      const len = 19 + body.length;
      const bytes = concat([new Uint8Array(16).fill(0xff), Uint8Array.of(len >> 8, len & 0xff, type), body]);
      try {
        const r = decodeMessage(bytes);
        assert.equal(r.length, len);
      } catch (e) {
        assert.ok(e instanceof BgpMessageError, String(e));
      }
    }), { numRuns: 2000 });
  });

  it('names the header error per RFC 4271 section 6.1: marker, length and type', () => {
    const ka = encodeMessage({ type: 4 });
    const badMarker = Uint8Array.from(ka); badMarker[3] = 0;
    const badLen = Uint8Array.from(ka); badLen[17] = 20;
    const badType = Uint8Array.from(ka); badType[18] = 9;
    const err = (b: Uint8Array): BgpMessageError => { try { messageLength(b); } catch (e) { return e as BgpMessageError; } throw new Error('no error'); };
    assert.deepEqual([err(badMarker).code, err(badMarker).subcode], [1, 1]);
    assert.deepEqual([err(badLen).code, err(badLen).subcode, [...err(badLen).data]], [1, 2, [0, 20]]);
    assert.deepEqual([err(badType).code, err(badType).subcode, [...err(badType).data]], [1, 3, [9]]);
    assert.equal(messageLength(ka.subarray(0, 18)), undefined, 'an incomplete header waits for more bytes');
  });

  it('rejects an OPEN of another version with Unsupported Version Number carrying version 4', () => {
    const open = encodeMessage({ type: 1, version: 4, myAs: 65001, holdTimeSeconds: 90, bgpId: '10.0.0.1', capabilities: [] });
    open[19] = 3;
    assert.throws(() => decodeMessage(open), (e: BgpMessageError) => e.code === 2 && e.subcode === 1 && e.data[1] === 4);
  });
});

describe('BGP UPDATE contents', () => {
  it('round-trips announcements and withdrawals of both families, with and without ADD-PATH', () => {
    const nlri = (afi: 1 | 2, addPath: boolean) => fc.uniqueArray(fc.tuple(prefixArb(afi), fc.nat({ max: 0xffffffff })).map(([prefix, id]) => ({ prefix, pathId: addPath ? id : 0 })), { maxLength: 6, selector: (n) => n.prefix });
    fc.assert(fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (as4, ap4, ap6) => {
      const ctx = { as4, addPathV4: ap4, addPathV6: ap6 };
      fc.assert(fc.property(nlri(1, ap4), nlri(2, ap6), nlri(1, ap4), nlri(2, ap6), fc.array(fc.integer({ min: 1, max: as4 ? 0xffffffff : 0xffff }), { minLength: 1, maxLength: 6 }),
        (a4, a6, w4, w6, path) => {
          const announce = [...a4, ...a6];
          const withdraw = [...w4, ...w6];
          const u = decodeUpdate(encodeUpdate({ announce, withdraw, asPath: path }, ctx), ctx);
          if (!announce.length && !withdraw.length) { assert.ok(u.endOfRib); return; }
          assert.deepEqual(u.announce, announce);
          assert.deepEqual([...u.withdraw].sort((x, y) => x.prefix.localeCompare(y.prefix)), [...withdraw].sort((x, y) => x.prefix.localeCompare(y.prefix)));
          if (announce.length) { assert.deepEqual(u.asPath, path); assert.equal(u.originAs, path[path.length - 1]); }
        }), { numRuns: 40 });
    }), { numRuns: 8 });
  });

  it('recognises End-of-RIB for IPv4 and IPv6 (RFC 4724 section 2)', () => {
    assert.deepEqual(decodeUpdate(endOfRib(1), AS4).endOfRib, { afi: 1, safi: 1 });
    assert.deepEqual(decodeUpdate(endOfRib(2), AS4).endOfRib, { afi: 2, safi: 1 });
  });

  it('withdraws the routes of an UPDATE with a malformed ORIGIN instead of resetting (RFC 7606 treat-as-withdraw)', () => {
    const m = encodeUpdate({ announce: [{ prefix: '192.0.2.0/24', pathId: 0 }, { prefix: '2001:db8::/32', pathId: 0 }], asPath: [65001] }, AS4);
    const attrs = Uint8Array.from(m.pathAttributes);
    assert.equal(attrs[1], 1, 'ORIGIN comes first');
    attrs[3] = 7;
    const u = decodeUpdate({ ...m, pathAttributes: attrs }, AS4);
    assert.deepEqual(u.announce, []);
    assert.deepEqual(u.withdraw.map((n) => n.prefix).sort(), ['192.0.2.0/24', '2001:db8::/32']);
    assert.match(u.treatAsWithdraw ?? '', /ORIGIN/);
  });

  it('withdraws the routes of an UPDATE missing AS_PATH (RFC 7606 section 3d)', () => {
    const m = encodeUpdate({ announce: [{ prefix: '192.0.2.0/24', pathId: 0 }], asPath: [65001] }, AS4);
    const u = decodeUpdate({ ...m, pathAttributes: encodeAttributes({ origin: 0, nextHop: '192.0.2.1' }, { as4: true }) }, AS4);
    assert.equal(u.treatAsWithdraw, 'AS_PATH is missing');
  });

  it('resets on an NLRI prefix longer than 32 bits with Invalid Network Field', () => {
    const m = encodeUpdate({ announce: [{ prefix: '192.0.2.0/24', pathId: 0 }], asPath: [65001] }, AS4);
    assert.throws(() => decodeUpdate({ ...m, nlri: Uint8Array.of(33, 1, 2, 3, 4, 5) }, AS4), (e: BgpMessageError) => e.code === 3 && e.subcode === 10);
  });

  it('reads 2-byte paths merged with AS4_PATH (RFC 6793 section 4.2.3)', () => {
    const two = { as4: false, addPathV4: false, addPathV6: false };
    const m = encodeUpdate({ announce: [{ prefix: '198.51.100.0/24', pathId: 0 }], asPath: [65001, 4200000001] }, two);
    const as4Path = Uint8Array.of(0xc0, 17, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x01);
    const u = decodeUpdate({ ...m, pathAttributes: concat([m.pathAttributes, as4Path]) }, two);
    assert.deepEqual(u.asPath, [65001, 4200000001]);
    assert.equal(u.originAs, 4200000001);
  });
});

describe('BGP finite state machine', () => {
  it('goes Idle -> Active -> OpenSent -> OpenConfirm -> Established for a passive peer, sending OPEN then KEEPALIVE', () => {
    let s = transition('Idle', { type: 'ManualStartPassive' });
    assert.equal(s.state, 'Active');
    s = transition(s.state, { type: 'TcpConnected' });
    assert.equal(s.state, 'OpenSent');
    assert.ok(s.actions.some((a) => a.type === 'sendOpen'));
    s = transition(s.state, { type: 'OpenReceived' });
    assert.equal(s.state, 'OpenConfirm');
    assert.ok(s.actions.some((a) => a.type === 'sendKeepalive'));
    s = transition(s.state, { type: 'KeepaliveReceived' });
    assert.equal(s.state, 'Established');
  });

  it('answers an UPDATE in OpenConfirm with a Finite State Machine Error (RFC 6608 subcode 2)', () => {
    const t = transition('OpenConfirm', { type: 'UpdateReceived' });
    assert.equal(t.state, 'Idle');
    assert.deepEqual(t.actions[0], { type: 'sendNotification', code: 5, subcode: 2, data: undefined });
  });

  it('sends Hold Timer Expired when the hold timer fires in Established', () => {
    const t = transition('Established', { type: 'HoldTimerExpires' });
    assert.equal(t.state, 'Idle');
    assert.ok(t.actions.some((a) => a.type === 'sendNotification' && a.code === 4));
    assert.ok(t.actions.some((a) => a.type === 'sessionDown' && !a.graceful));
  });

  it('marks a connection lost in Established as graceful (no NOTIFICATION either way)', () => {
    const t = transition('Established', { type: 'TcpFails' });
    assert.ok(t.actions.some((a) => a.type === 'sessionDown' && a.graceful));
  });
});
