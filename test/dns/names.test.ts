import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exampleZoneConfig, type RunningDnsServer, startDnsServer } from '../../dns/index';
import { GeoTable } from '../../dns/geoip/index';
import { decodeName, encodeName, isInDomain, nameLabels, parentName, RCODE } from '../../dns/wire/index';
import { globalRegions, runClient, sendTcp, sendUdp, workload } from './fixtures';

const TABLE = GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 50, lon: 8, country: 'DE' }]);

/** A query for raw labels (bytes as given, dots included), type A, class IN. */
function rawQuery(labels: readonly string[], type = 1): Buffer {
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  return Buffer.concat([Buffer.from('beef01000001000000000000', 'hex'), name, Buffer.from([0, type, 0, 1])]);
}

describe('Names keep their label boundaries from the wire to the answer (RFC 1035 §3.1, RFC 4343)', function () {
  this.timeout(20_000);
  let server: RunningDnsServer;

  before(async () => {
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, workloads: [workload('web', globalRegions())],
      log: () => undefined });
  });
  after(async () => server?.close());

  it('answers by the true position of a label that holds a dot, echoing the question byte for byte', async () => {
    const cases: Array<[string[], number, number]> = [
      [['web.meridian', 'test'], RCODE.REFUSED, 1],
      [['meridian.test'], RCODE.REFUSED, 6],
      [['a.b', 'web', 'meridian', 'test'], RCODE.NXDOMAIN, 1],
      [['WeB', 'meridian', 'test'], RCODE.NOERROR, 1],
    ];
    for (const [labels, rcode, type] of cases) {
      const q = rawQuery(labels, type);
      for (const reply of [await sendUdp(server.port, q), await sendTcp(server.port, q)]) {
        assert.equal(reply[3]! & 0x0f, rcode, labels.join('|'));
        assert.deepEqual(reply.subarray(12, q.length), q.subarray(12), `question of ${labels.join('|')} echoed byte for byte`);
      }
    }
  });

  it('gives dig the same answers, with no question mismatch', async () => {
    const status = async (args: string[]): Promise<string> => {
      const out = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), ...args]);
      assert.doesNotMatch(out, /mismatch/i, out);
      return /status: (\w+)/.exec(out)![1]!;
    };
    assert.equal(await status(['web\\.meridian.test', 'A']), 'REFUSED');
    assert.equal(await status(['meridian\\.test', 'SOA']), 'REFUSED');
    assert.equal(await status(['x\\.y.web.meridian.test', 'A']), 'NXDOMAIN');
    assert.equal(await status(['web.meridian.test', 'A']), 'NOERROR');
  });
});

describe('Presentation-format names', () => {
  it('escape a dot or backslash inside a label and split only on the others', () => {
    const buf = Buffer.alloc(64);
    const end = encodeName('a\\.b.c\\\\d.test', buf, 0);
    assert.deepEqual([...buf.subarray(0, end)], [3, 97, 46, 98, 3, 99, 92, 100, 4, 116, 101, 115, 116, 0]);
    assert.equal(decodeName(buf, 0).name, 'a\\.b.c\\\\d.test');
    assert.deepEqual(nameLabels('A\\.b.test.'), ['a.b', 'test']);
    assert.deepEqual(nameLabels('a\\.'), ['a.'], 'an escaped final dot is part of the label');
    assert.equal(parentName('a\\.b.test'), 'test');
    assert.equal(isInDomain('web\\.meridian.test', 'meridian.test'), false);
    assert.equal(isInDomain('x.web.meridian.test', 'meridian.test'), true);
    assert.equal(isInDomain('xmeridian.test', 'meridian.test'), false);
  });

  it('round-trip any label bytes between wire and text', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 63 }), { minLength: 1, maxLength: 3 }), (labels) => {
      const wire = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
      const text = decodeName(wire, 0).name;
      const out = Buffer.alloc(wire.length);
      assert.equal(encodeName(text, out, 0), wire.length);
      assert.deepEqual(out, wire);
      assert.equal(nameLabels(text).length, labels.length);
    }));
  });
});
