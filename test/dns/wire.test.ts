import assert from 'node:assert/strict';
import {
  CLASS_IN, decode, decodeClientSubnet, decodeName, DnsDecodeError, type DnsMessage, encode, encodeClientSubnet, FastQuery, FastStatus,
  bytesToIpv6, encodeFastAnswer, fastAnswerLength, ipv4ToUint, ipv6ToBytes, optRecord, parseQuery, QTYPE, uintToIpv4, writeFastAnswer,
} from '../../dns/wire/index';
import { buildQuery } from './fixtures';

function expectDecodeError(buf: Buffer, code: string): void {
  assert.throws(() => decode(buf), (e: unknown) => e instanceof DnsDecodeError && e.code === code);
}

describe('DNS wire address codec', () => {
  it('turns IPv6 text of every form into its 16 bytes and back to canonical text', () => {
    const cases: Array<[string, string, string]> = [
      ['2001:db8::1', '20010db8000000000000000000000001', '2001:db8::1'],
      ['2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201', '::ffff:c000:201'],
      ['::', '00000000000000000000000000000000', '::'],
      ['fe80::1%eth0', 'fe800000000000000000000000000001', 'fe80::1'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ];
    for (const [text, hex, canonical] of cases) {
      const bytes = ipv6ToBytes(text);
      assert.equal(bytes.toString('hex'), hex, text);
      assert.equal(bytesToIpv6(bytes), canonical, text);
    }
    assert.equal(bytesToIpv6(Buffer.concat([Buffer.alloc(3), ipv6ToBytes('2001:db8::2')]), 3), '2001:db8::2');
  });

  it('rejects text that is not an IPv6 address, naming it', () => {
    for (const bad of ['1.2.3.4', '2001:db8::1::2', 'fe80::1%', '%eth0', 'web.meridian.test', '12345::1']) {
      assert.throws(() => ipv6ToBytes(bad), (e: Error) => e instanceof TypeError && e.message.includes(`'${bad}'`), bad);
    }
  });

  it('reads and writes dotted-quad IPv4 without allocating objects, -1 for anything else', () => {
    assert.equal(ipv4ToUint('192.0.2.255'), 0xc00002ff);
    assert.equal(uintToIpv4(0xc00002ff), '192.0.2.255');
    for (const bad of ['192.0.2', '192.0.2.256', '1..2.3', '1.2.3.4.5', '::1', '']) assert.equal(ipv4ToUint(bad), -1, bad);
  });
});

describe('DNS wire codec', () => {
  it('round-trips a message with every supported record type and compresses repeated names', () => {
    const msg: DnsMessage = {
      id: 0xbeef, flags: 0x8400, questions: [{ name: 'web.meridian.test', type: QTYPE.A, class: CLASS_IN }],
      answers: [
        { name: 'web.meridian.test', type: QTYPE.A, class: CLASS_IN, ttl: 30, data: { kind: 'address', address: '192.0.2.1' } },
        { name: 'web.meridian.test', type: QTYPE.AAAA, class: CLASS_IN, ttl: 30, data: { kind: 'address', address: '2001:db8::1' } },
        { name: 'www.meridian.test', type: QTYPE.CNAME, class: CLASS_IN, ttl: 300, data: { kind: 'name', name: 'web.meridian.test' } },
        { name: 'meridian.test', type: QTYPE.TXT, class: CLASS_IN, ttl: 300, data: { kind: 'txt', strings: [Buffer.from('a'), Buffer.from('bc')] } },
      ],
      authorities: [{ name: 'meridian.test', type: QTYPE.SOA, class: CLASS_IN, ttl: 60, data: { kind: 'soa', soa: {
        mname: 'ns1.meridian.test', rname: 'hostmaster.meridian.test', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 } } }],
      additionals: [optRecord(1232, [encodeClientSubnet({ family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, address: Buffer.from([81, 2, 69, 9]) })])],
    };
    const wire = encode(msg);
    const back = decode(wire);
    assert.equal(back.questions[0]!.name, 'web.meridian.test');
    const lower = (d: DnsMessage['answers'][number]['data']): unknown => (d.kind === 'name' ? { ...d, name: d.name.toLowerCase() } : d);
    // Names compressed against the question come back in the question's case (DNS names compare case-insensitively).
    assert.deepEqual(back.answers.map((r) => lower(r.data)), msg.answers.map((r) => lower(r.data)));
    assert.deepEqual(back.authorities[0]!.data, msg.authorities[0]!.data);
    const ecs = back.additionals[0]!.data.kind === 'opt' ? back.additionals[0]!.data.options[0]! : undefined;
    assert.deepEqual(decodeClientSubnet(ecs!.data).address, Buffer.from([81, 2, 69]), 'ECS address truncated to the prefix');
    assert.ok(wire.length < 200, `compressed length ${wire.length}`);
  });

  it('decodes a name at a non-zero offset through a backward pointer', () => {
    const buf = Buffer.from([0xff, 0xff, 3, 0x61, 0x62, 0x63, 0, 1, 0x78, 0xc0, 2]);
    assert.deepEqual(decodeName(buf, 7), { name: 'x.abc', next: 11 });
  });

  it('rejects pointer loops, forward pointers, overlong names and truncation with stable codes', () => {
    const header = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expectDecodeError(Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1])]), 'DNS_ERR_POINTER_LOOP');
    expectDecodeError(Buffer.concat([header, Buffer.from([0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0])]), 'DNS_ERR_POINTER_LOOP');
    const long = Buffer.concat([header, ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0, 0, 1, 0, 1])]);
    expectDecodeError(long, 'DNS_ERR_NAME_TOO_LONG');
    expectDecodeError(Buffer.from([0, 1, 0]), 'DNS_ERR_TRUNCATED');
    expectDecodeError(Buffer.concat([header, Buffer.from([0x40, 0, 0, 1, 0, 1])]), 'DNS_ERR_BAD_LABEL');
    const hugeCounts = Buffer.from(header);
    hugeCounts.writeUInt16BE(65535, 6);
    expectDecodeError(hugeCounts, 'DNS_ERR_TRUNCATED');
  });

  it('writes a fast answer at a non-zero offset byte for byte as it encodes one, with ECS scope and TC', () => {
    const q = new FastQuery();
    const wire = buildQuery('Web.Meridian.Test', QTYPE.A, { id: 4242, ecs: '81.2.69.0/24' });
    assert.equal(parseQuery(wire, q), FastStatus.OK);
    const answer = encode({ id: 0, flags: 0, questions: [], authorities: [], additionals: [], answers: [
      { name: 'web.meridian.test', type: QTYPE.A, class: CLASS_IN, ttl: 30, data: { kind: 'address', address: '192.0.2.1' } }] }).subarray(12);
    for (const limit of [1232, 60]) {
      const alone = encodeFastAnswer(wire, q, answer, 1, 20, 1232, limit);
      const out = Buffer.alloc(alone.length + 16, 0xee);
      assert.equal(fastAnswerLength(q, answer.length, limit), alone.length);
      assert.equal(writeFastAnswer(out, 7, wire, q, answer, 1, 20, 1232, limit), alone.length);
      assert.deepEqual(out.subarray(7, 7 + alone.length), alone);
      assert.ok(out.subarray(0, 7).every((b) => b === 0xee) && out.subarray(7 + alone.length).every((b) => b === 0xee), 'nothing outside');
      const back = decode(alone);
      assert.equal(back.id, 4242);
      assert.equal(back.answers.length, limit === 60 ? 0 : 1);
      assert.equal((back.flags & 0x0200) !== 0, limit === 60, 'TC when the records do not fit');
      const opt = back.additionals[0]!.data;
      assert.ok(opt.kind === 'opt');
      assert.equal(decodeClientSubnet(opt.options[0]!.data).scopePrefixLength, 20);
    }
  });

  it('parses the question and ECS straight from the buffer, agreeing with the full decoder', () => {
    const q = new FastQuery();
    const wire = buildQuery('WWW.Meridian.Test', QTYPE.AAAA, { id: 77, ecs: '81.2.69.0/23' });
    assert.equal(parseQuery(wire, q), FastStatus.OK);
    const full = decode(wire);
    assert.equal(q.id, 77);
    assert.equal(q.qtype, full.questions[0]!.type);
    assert.equal(q.ecsFamily, 1);
    assert.equal(q.ecsSourcePrefix, 23);
    assert.equal(q.ecsV4, (81 << 24 >>> 0) + (2 << 16) + (68 << 8));
    const lower = new FastQuery();
    parseQuery(buildQuery('www.meridian.test', QTYPE.AAAA), lower);
    assert.equal(lower.nameHash, q.nameHash, 'hash ignores case');
  });

  it('flags malformed ECS for FORMERR and leaves compressed questions to the full decoder', () => {
    const q = new FastQuery();
    const bad = buildQuery('web.meridian.test', QTYPE.A, { extraOptions: [{ code: 8, data: Buffer.from([0, 1, 23, 0, 81, 2, 69]) }] });
    assert.equal(parseQuery(bad, q), FastStatus.FORMERR);
    const header = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(parseQuery(Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1])]), q), FastStatus.SLOW);
    const response = buildQuery('web.meridian.test', QTYPE.A);
    response[2] = response[2]! | 0x80;
    assert.equal(parseQuery(response, q), FastStatus.DROP);
    assert.throws(() => decodeClientSubnet(Buffer.from([0, 2, 129, 0])), DnsDecodeError);
  });
});
