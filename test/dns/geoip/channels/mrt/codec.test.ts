import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { AFI_IPV4, AFI_IPV6, type Afi } from '../../../../../dns/geoip/channels/bgp/attributes';
import {
  decodeRecord, elementsOf, encodeRecord, MrtDecodeError, readElements, readRecords,
  type Bgp4mpMessageRecord, type MrtElement, type MrtRecord, type RibRecord,
} from '../../../../../dns/geoip/channels/mrt';
import { attributesArb, nlriArb, prefixArb, ipv4Arb, ipv6Arb } from '../bgp/arbitraries';
import { mrtSamples } from './samples';

async function* chunks(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, Math.min(bytes.length, o + size));
}

async function readAll(bytes: Uint8Array, size = 7, maxRecordBytes?: number): Promise<{ elements: MrtElement[]; errors: MrtDecodeError[]; records: number; incomplete: boolean }> {
  const elements: MrtElement[] = [];
  const errors: MrtDecodeError[] = [];
  const stats = await readElements(chunks(bytes, size), (e) => elements.push(e), (e) => errors.push(e), { maxRecordBytes });
  return { elements, errors, records: stats.records, incomplete: stats.incomplete };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

const T = 1_700_000_000;
const peerIndex: MrtRecord = {
  kind: 'peer-index', timestamp: T, collectorId: '193.0.4.28', viewName: '',
  peers: [{ bgpId: '10.0.0.1', address: '192.0.2.1', asn: 64500 }, { bgpId: '10.0.0.2', address: '2001:db8::2', asn: 4200000000 }],
};
function rib(prefix: string, peerIndexes: number[], seq = 1): RibRecord {
  return {
    kind: 'rib', timestamp: T, subtype: 2, sequence: seq, afi: AFI_IPV4, safi: 1, prefix,
    entries: peerIndexes.map((i) => ({ peerIndex: i, originatedAt: T - 10, attributes: { origin: 0, asPath: [{ type: 2, asns: [64500, 3333] }], nextHop: '192.0.2.1' } })),
  };
}
const state: MrtRecord = {
  kind: 'bgp4mp-state', timestamp: T, microseconds: undefined, subtype: 5, peerAs: 64500, localAs: 12654, interfaceIndex: 0,
  afi: AFI_IPV4, peerAddress: '192.0.2.1', localAddress: '192.0.2.254', oldState: 1, newState: 2,
};

const u32 = fc.nat({ max: 0xffffffff });

function ribArb(): fc.Arbitrary<RibRecord> {
  return fc.constantFrom<[number, Afi]>([2, AFI_IPV4], [4, AFI_IPV6], [8, AFI_IPV4], [10, AFI_IPV6], [6, AFI_IPV4], [12, AFI_IPV6]).chain(([subtype, afi]) => {
    const addPath = subtype >= 8;
    return fc.record({
      kind: fc.constant('rib' as const), timestamp: u32, subtype: fc.constant(subtype), sequence: u32, afi: fc.constant(afi), safi: fc.constant(1),
      prefix: prefixArb(afi),
      entries: fc.array(fc.record({ peerIndex: fc.nat({ max: 0xffff }), originatedAt: u32, attributes: attributesArb(true, false, afi) }, { noNullPrototype: true })
        .chain((e) => (addPath ? u32.map((pathId) => ({ ...e, pathId })) : fc.constant(e))), { maxLength: 4 }),
    }, { noNullPrototype: true }).map((r) => ({ ...r, entries: r.entries.map((e) => (e.attributes.mpReach ? { ...e, attributes: { ...e.attributes, mpReach: { ...e.attributes.mpReach, safi: 1 } } } : e)) }));
  });
}

function messageArb(): fc.Arbitrary<Bgp4mpMessageRecord> {
  return fc.constantFrom(1, 4, 6, 7, 8, 9, 10, 11).chain((subtype) => {
    const as4 = [4, 7, 9, 11].includes(subtype);
    const addPath = subtype >= 8;
    const asn = as4 ? u32 : fc.nat({ max: 0xffff });
    return fc.constantFrom<Afi>(AFI_IPV4, AFI_IPV6).chain((afi) => fc.record({
      kind: fc.constant('bgp4mp-message' as const), timestamp: u32, microseconds: fc.option(fc.nat({ max: 999_999 }), { nil: undefined }),
      subtype: fc.constant(subtype), peerAs: asn, localAs: asn, interfaceIndex: fc.nat({ max: 0xffff }), afi: fc.constant(afi),
      peerAddress: afi === AFI_IPV4 ? ipv4Arb : ipv6Arb, localAddress: afi === AFI_IPV4 ? ipv4Arb : ipv6Arb,
      messageType: fc.constant(2), body: fc.constant(undefined),
      update: fc.record({ withdrawn: nlriArb(AFI_IPV4, addPath), attributes: attributesArb(as4, addPath, undefined), announce: nlriArb(AFI_IPV4, addPath) }, { noNullPrototype: true }),
    }, { noNullPrototype: true }));
  });
}

describe('MRT record codec and streaming reader', function () {
  this.timeout(120_000);

  it('round-trips RIB, PEER_INDEX_TABLE, BGP4MP(_ET) message and state records at a non-zero offset', () => {
    const any = fc.oneof(ribArb(), messageArb(), fc.constant(peerIndex), fc.constant(state));
    fc.assert(fc.property(any, fc.nat({ max: 20 }), (record, pad) => {
      const bytes = encodeRecord(record);
      const buf = new Uint8Array(pad + bytes.length + 3);
      buf.set(bytes, pad);
      const { record: back, next } = decodeRecord(buf, pad);
      assert.equal(next, pad + bytes.length);
      assert.deepEqual(back, record);
    }), { numRuns: 400 });
  });

  it('reads records split across arbitrary chunk boundaries the same as whole', async () => {
    const file = concat(encodeRecord(peerIndex), encodeRecord(rib('198.51.100.0/24', [0, 1])), encodeRecord(state));
    for (const size of [1, 5, 13, 4096]) {
      const r = await readAll(file, size);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.elements.map((e) => `${e.type} ${e.peerAddress} ${e.prefix}`), ['B 192.0.2.1 198.51.100.0/24', 'B 2001:db8::2 198.51.100.0/24', 'STATE 192.0.2.1 ']);
    }
  });

  it('reports a record whose body is shorter than its fields, then reads the next record', async () => {
    const bad = encodeRecord(state);
    const shortened = concat(bad.subarray(0, 8), Uint8Array.of(0, 0, 0, 10), bad.subarray(12, 22));
    const r = await readAll(concat(shortened, encodeRecord(state)));
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].code, 'MRT_ERR_TRUNCATED');
    assert.equal(r.elements.length, 1);
    assert.equal(r.incomplete, false);
  });

  it('reports a file that ends inside a record, after the records before it', async () => {
    const whole = encodeRecord(state);
    const r = await readAll(concat(whole, whole.subarray(0, whole.length - 3)));
    assert.equal(r.elements.length, 1);
    assert.deepEqual(r.errors.map((e) => e.code), ['MRT_ERR_TRUNCATED']);
    assert.equal(r.incomplete, true);
  });

  it('skips a BGP4MP record longer than 64 KiB without holding it, then reads the next record', async () => {
    const big = encodeRecord(state);
    const header = concat(big.subarray(0, 8), Uint8Array.of(0, 1, 0x20, 0));   // 73,728 bytes claimed
    const r = await readAll(concat(header, new Uint8Array(73_728), encodeRecord(state)), 1000);
    assert.deepEqual(r.errors.map((e) => e.code), ['MRT_ERR_TOO_LONG']);
    assert.match(r.errors[0].message, /its type allows/);
    assert.equal(r.elements.length, 1);
    assert.equal(r.elements[0].type, 'STATE');
  });

  it('reads a TABLE_DUMP_V2 RIB record longer than 64 KiB, as RFC 6396 allows, and bounds it by the reader limit', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => i % 2);
    const record = rib('203.0.113.0/24', many);
    const bytes = concat(encodeRecord(peerIndex), encodeRecord(record), encodeRecord(state));
    assert.ok(encodeRecord(record).length > 65_536);
    const r = await readAll(bytes, 4096);
    assert.deepEqual(r.errors, []);
    assert.equal(r.elements.filter((e) => e.type === 'B').length, 3000);
    const bounded = await readAll(bytes, 4096, 32 * 1024);
    assert.deepEqual(bounded.errors.map((e) => e.code), ['MRT_ERR_TOO_LONG']);
    assert.equal(bounded.elements.length, 1);
  });

  it('reports a RIB entry whose peer index is past the PEER_INDEX_TABLE, and one before any table, then goes on', async () => {
    const r = await readAll(concat(encodeRecord(rib('192.0.2.0/24', [0])), encodeRecord(peerIndex), encodeRecord(rib('198.51.100.0/24', [0, 7])),
      encodeRecord(rib('203.0.113.0/24', [1]))));
    assert.deepEqual(r.errors.map((e) => e.code), ['MRT_ERR_PEER_INDEX', 'MRT_ERR_PEER_INDEX']);
    assert.match(r.errors[0].message, /before any PEER_INDEX_TABLE/);
    assert.match(r.errors[1].message, /names peer 7, the PEER_INDEX_TABLE has 2/);
    assert.deepEqual(r.elements.map((e) => e.prefix), ['203.0.113.0/24']);
  });

  it('reports an attribute length past its record, then reads the next record', async () => {
    const bytes = encodeRecord(rib('198.51.100.0/24', [0]));
    // The entry's attribute length sits after seq(4) prefix(4) count(2) peer(2) time(4).
    const at = 12 + 4 + 4 + 2 + 2 + 4;
    const bad = Uint8Array.from(bytes);
    bad[at] = 0x7f;
    const r = await readAll(concat(encodeRecord(peerIndex), bad, encodeRecord(rib('203.0.113.0/24', [1]))));
    assert.deepEqual(r.errors.map((e) => e.code), ['MRT_ERR_ATTRIBUTES']);
    assert.match(r.errors[0].message, /run \d+ bytes past the record/);
    assert.deepEqual(r.elements.map((e) => e.prefix), ['203.0.113.0/24']);
  });

  it('reports an attribute malformed inside its record with the BGP decode error as the cause', async () => {
    const record = rib('198.51.100.0/24', [0]);
    const bytes = Uint8Array.from(encodeRecord(record));
    // ORIGIN is the first attribute: flags, type, length, value.
    const originValue = 12 + 4 + 4 + 2 + 2 + 4 + 2 + 3;
    assert.equal(bytes[originValue], 0);
    bytes[originValue] = 9;
    const r = await readAll(concat(encodeRecord(peerIndex), bytes));
    assert.equal(r.errors[0].code, 'MRT_ERR_ATTRIBUTES');
    assert.equal((r.errors[0].cause as { code?: string }).code, 'BGP_ERR_BAD_ORIGIN');
  });

  it('reports a corrupt gzip stream and stops, keeping what it read', async () => {
    const file = readFileSync(mrtSamples().find((f) => f.includes('rrc06')) as string);
    const broken = Uint8Array.from(file);
    for (let i = 5000; i < 5200; i++) broken[i] ^= 0x5a;
    const elements: MrtElement[] = [];
    const errors: MrtDecodeError[] = [];
    const stats = await readElements(chunks(broken, 4096), (e) => elements.push(e), (e) => errors.push(e));
    assert.equal(stats.incomplete, true);
    assert.ok(errors.some((e) => e.code === 'MRT_ERR_COMPRESSION'), errors.map((e) => e.message).join('; '));
  });

  it('never throws on random bytes or on randomly damaged real records: every failure is a reported MrtDecodeError', async () => {
    const real = gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('add_path')) as string));
    const realUpdates = gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('rrc06')) as string)).subarray(0, 20_000);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
      await readRecords(chunks(bytes, 97), () => undefined, (e) => { assert.ok(e instanceof MrtDecodeError); });
    }), { numRuns: 300 });
    for (const base of [real, realUpdates]) {
      await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (edits) => {
        const damaged = Uint8Array.from(base);
        for (const [i, v] of edits) damaged[i] = v;
        await readElements(chunks(damaged, 4096), () => undefined, (e) => { assert.ok(e instanceof MrtDecodeError); });
      }), { numRuns: 150 });
    }
  });

  it('names each element of an UPDATE in bgpdump order: withdrawn, MP_UNREACH, NLRI, MP_REACH', () => {
    const record: Bgp4mpMessageRecord = {
      kind: 'bgp4mp-message', timestamp: T, microseconds: 12, subtype: 4, peerAs: 64500, localAs: 12654, interfaceIndex: 0, afi: AFI_IPV6,
      peerAddress: '2001:db8::1', localAddress: '2001:db8::fe', messageType: 2, body: undefined,
      update: {
        withdrawn: [{ prefix: '192.0.2.0/24' }],
        attributes: {
          origin: 0, asPath: [{ type: 2, asns: [64500, 3333] }], nextHop: '192.0.2.1',
          mpReach: { afi: AFI_IPV6, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], announce: [{ prefix: '2001:db8:1::/48' }] },
          mpUnreach: { afi: AFI_IPV6, safi: 1, withdraw: [{ prefix: '2001:db8:2::/48' }] },
        },
        announce: [{ prefix: '198.51.100.0/24' }],
      },
    };
    const back = decodeRecord(encodeRecord(record), 0).record;
    assert.deepEqual(elementsOf(back, undefined).map((e) => `${e.source} ${e.type} ${e.prefix} ${e.nextHop}`), [
      'BGP4MP_ET W 192.0.2.0/24 ', 'BGP4MP_ET W 2001:db8:2::/48 ', 'BGP4MP_ET A 198.51.100.0/24 192.0.2.1', 'BGP4MP_ET A 2001:db8:1::/48 2001:db8::1',
    ]);
  });
});
