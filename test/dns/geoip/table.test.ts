import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  compareV6, formatIpv4, formatIpv6, GeoIpError, geoipLiteDataDir, GeoTable, widestPrefixWithinV6, type GeoMatch,
} from '../../../dns/geoip';
import { geoipLite, xorshift32, type GeoipLiteModule, type GeoipLiteResult } from './reference';

function agree(ours: GeoMatch | undefined, theirs: GeoipLiteResult | null, ip: string): void {
  if (theirs === null) {
    assert.equal(ours, undefined, `${ip}: geoip-lite has no entry, we answered ${JSON.stringify(ours)}`);
    return;
  }
  assert.ok(ours, `${ip}: geoip-lite says ${theirs.country}, we have no entry`);
  assert.equal(ours.country, theirs.country, `${ip}: country`);
  assert.equal(ours.lat, theirs.ll[0], `${ip}: lat`);
  assert.equal(ours.lon, theirs.ll[1], `${ip}: lon`);
}

function wordsHex(w: readonly number[]): string {
  return w.map((x) => x.toString(16).padStart(8, '0')).join('');
}

describe('GeoTable built from geoip-lite data', function () {
  this.timeout(60_000);
  let table: GeoTable;
  let reference: GeoipLiteModule;

  before(() => {
    table = GeoTable.fromGeoipLite();
    reference = geoipLite();
  });

  it('agrees with geoip-lite on country and coordinates for 100,000 random IPv4 addresses', () => {
    const next = xorshift32(0x5eed4);
    let hits = 0;
    for (let n = 0; n < 100_000; n++) {
      const ip = formatIpv4(next());
      const ours = table.lookup(ip);
      agree(ours, reference.lookup(ip), ip);
      if (ours) hits++;
    }
    // Most of the IPv4 space is allocated: a test that never hits would prove nothing.
    assert.ok(hits > 50_000, `only ${hits} hits`);
  });

  it('agrees with geoip-lite for 10,000 random IPv6 addresses inside and around its ranges', () => {
    // geoip-lite compares only the upper 64 bits and bisects records that are not all disjoint
    // (a /48 followed by /64s inside it, sub-/64 pieces). Where records overlap, or a boundary
    // falls inside a /64, its answer depends on its search order rather than on the data, so
    // those addresses are left out; our table answers them by longest prefix match instead.
    const file = readFileSync(join(geoipLiteDataDir(), 'geoip-city6.dat'));
    const records = file.length / 48;
    const ambiguous = new Set<string>();
    const spans: Array<[bigint, bigint]> = [];
    for (let r = 0; r < records; r++) {
      const o = r * 48;
      if (file.readBigUInt64BE(o + 8) !== 0n) ambiguous.add(file.toString('hex', o, o + 8));
      if (file.readBigUInt64BE(o + 24) !== 0xffffffffffffffffn) ambiguous.add(file.toString('hex', o + 16, o + 24));
      spans.push([BigInt(`0x${file.toString('hex', o, o + 16)}`), BigInt(`0x${file.toString('hex', o + 16, o + 32)}`)]);
    }
    spans.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const overlapZones: Array<[bigint, bigint]> = [];
    let groupStart = -1n;
    let groupEnd = -1n;
    let groupSize = 0;
    for (const [s, e] of [...spans, [2n ** 129n, 2n ** 129n] as [bigint, bigint]]) {
      if (s <= groupEnd) {
        groupSize++;
        if (e > groupEnd) groupEnd = e;
        continue;
      }
      if (groupSize > 1) overlapZones.push([groupStart, groupEnd]);
      groupStart = s;
      groupEnd = e;
      groupSize = 1;
    }
    const inOverlap = (v: bigint): boolean => {
      let lo = 0;
      let hi = overlapZones.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (overlapZones[mid][1] < v) lo = mid + 1;
        else hi = mid;
      }
      return lo < overlapZones.length && overlapZones[lo][0] <= v;
    };
    const next = xorshift32(0x5eed6);
    let compared = 0;
    let hits = 0;
    for (let n = 0; n < 10_000; n++) {
      let words: number[];
      if (n % 2 === 0) {
        // Inside a random record: its start with random low bits below its /64.
        const o = (next() % records) * 48;
        words = [file.readUInt32BE(o), file.readUInt32BE(o + 4), next(), next()];
      } else {
        // Anywhere in global unicast 2000::/3.
        words = [((next() & 0x1fffffff) | 0x20000000) >>> 0, next(), next(), next()];
      }
      if (ambiguous.has(wordsHex(words.slice(0, 2))) || inOverlap(BigInt(`0x${wordsHex(words)}`))) continue;
      const ip = formatIpv6(words as [number, number, number, number]);
      const ours = table.lookup(ip);
      agree(ours, reference.lookup(ip), ip);
      compared++;
      if (ours) hits++;
    }
    assert.ok(compared > 8_000 && hits > 3_000, `compared ${compared}, hits ${hits}`);
  });

  it('answers the first and last address of ranges and nothing just outside a range next to a gap', () => {
    const next = xorshift32(77);
    let gapsSeen = 0;
    for (let n = 0; n < 2_000; n++) {
      const i = next() % table.v4Count;
      const start = table.v4RangeStart(i);
      const end = table.v4RangeEnd(i);
      assert.equal(table.findV4(start), i);
      assert.equal(table.findV4(end), i);
      agree(table.lookup(formatIpv4(start)), reference.lookup(formatIpv4(start)), formatIpv4(start));
      agree(table.lookup(formatIpv4(end)), reference.lookup(formatIpv4(end)), formatIpv4(end));
      if (start > 0 && (i === 0 || table.v4RangeEnd(i - 1) < start - 1)) {
        gapsSeen++;
        assert.equal(table.findV4(start - 1), -1);
        assert.equal(reference.lookup(formatIpv4(start - 1)), null);
      }
    }
    assert.ok(gapsSeen > 0);
  });

  it('keeps ranges sorted and disjoint after merging adjacent equal locations', () => {
    const overlapping: number[] = [];
    const unmerged: number[] = [];
    for (let i = 1; i < table.v4Count; i++) {
      if (table.v4RangeStart(i) <= table.v4RangeEnd(i - 1)) overlapping.push(i);
      else if (table.v4RangeStart(i) === table.v4RangeEnd(i - 1) + 1 && table.locationIdOfV4(i) === table.locationIdOfV4(i - 1)) unmerged.push(i);
    }
    assert.deepEqual(overlapping.slice(0, 5), []);
    assert.deepEqual(unmerged.slice(0, 5), []);
    const records = statSync(join(geoipLiteDataDir(), 'geoip-city.dat')).size / 24;
    assert.ok(table.v4Count < records, `merging should shrink the ${records} records of geoip-city.dat`);
  });

  it('has no entry for 0.0.0.0, 255.255.255.255, ::, private space and loopback', () => {
    for (const ip of ['0.0.0.0', '255.255.255.255', '::', '::1', '10.1.2.3', '192.168.1.1', '172.16.5.4', '127.0.0.1', 'fe80::1']) {
      assert.equal(table.lookup(ip), undefined, ip);
    }
    assert.equal(table.findV4(0), -1);
    assert.equal(table.findV4(0xffffffff), -1);
  });

  it('looks up IPv4-mapped IPv6 addresses as IPv4 and reports an IPv4 prefix', () => {
    const v4 = table.lookup('81.2.69.160');
    assert.ok(v4);
    assert.deepEqual(table.lookup('::ffff:81.2.69.160'), v4);
    assert.deepEqual(table.lookup('::ffff:5102:45a0'), v4);
    assert.match(v4.prefix, /^81\.2\.\d+\.\d+\/\d+$/);
  });

  it('reports the widest prefix inside the matched range and the static source', () => {
    const ip = 0x08080808;
    const m = table.lookup(formatIpv4(ip));
    assert.ok(m);
    assert.equal(m.source, 'static');
    assert.equal(m.continent, 'NA');
    const i = table.findV4(ip);
    const size = 2 ** (32 - m.prefixLength);
    const start = ip - (ip % size);
    assert.equal(m.prefix, `${formatIpv4(start)}/${m.prefixLength}`);
    assert.ok(start >= table.v4RangeStart(i) && start + size - 1 <= table.v4RangeEnd(i), 'prefix leaves the range');
    // One bit wider would leave the range.
    const widerStart = ip - (ip % (2 * size));
    assert.ok(m.prefixLength === 0 || widerStart < table.v4RangeStart(i) || widerStart + 2 * size - 1 > table.v4RangeEnd(i));
    assert.equal(table.prefixLengthV4(i, ip), m.prefixLength);
  });

  it('rejects text that is not an address with a coded error naming it', () => {
    for (const bad of ['', 'example.com', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', 'fe80::1%eth0', ' 1.2.3.4']) {
      assert.throws(() => table.lookup(bad), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_ADDRESS'
        && err.message.includes(JSON.stringify(bad)), bad);
    }
  });

  it('computes the IPv6 ECS scope without allocating exactly as the reference helper does', () => {
    const next = xorshift32(0x6006);
    let checked = 0;
    for (let n = 0; n < 3_000; n++) {
      const i = next() % table.v6Count;
      // An address inside range i: its start with some low bits replaced at random.
      const start = table.v6RangeStart(i);
      const end = table.v6RangeEnd(i);
      const words: [number, number, number, number] = [start[0], start[1], next(), next()];
      if (compareV6(words, start) < 0 || compareV6(words, end) > 0) continue;
      assert.equal(table.prefixLengthV6(i, words), widestPrefixWithinV6(words, start, end), formatIpv6(words));
      checked++;
    }
    assert.ok(checked > 500, `only ${checked} addresses checked`);
    const before = table.v6RangeStart(0);
    assert.throws(() => table.prefixLengthV6Words(1, before[0], before[1], before[2], before[3]), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_RANGE');
  });

  it('finds IPv6 addresses from a buffer at an offset and rejects a short buffer', () => {
    const m = table.lookup('2001:4860::1');
    assert.ok(m);
    const buf = Buffer.alloc(20);
    buf.writeUInt32BE(0x20014860, 3);
    buf[18] = 1;
    const i = table.findV6(buf, 3);
    assert.ok(i >= 0);
    assert.equal(table.locationOfV6(i).country, m.country);
    assert.throws(() => table.findV6(buf, 5), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_ADDRESS');
  });

  it('returns the same frozen location object for every range of one location', () => {
    const i = table.findV4(0x08080808);
    const loc = table.locationOfV4(i);
    assert.ok(Object.isFrozen(loc));
    assert.equal(table.locationOfV4(i), loc);
    assert.equal(table.locations[table.locationIdOfV4(i)], loc);
    assert.equal(table.locations.length, table.locationCount);
  });

  it('gives every located country of the data a continent', () => {
    const missing = new Set(table.locations.filter((l) => l.country !== '' && l.continent === '').map((l) => l.country));
    assert.deepEqual([...missing], []);
  });

  it('treats a signed 32-bit number as the same unsigned address', () => {
    assert.equal(table.findV4(0xd1000001 | 0), table.findV4(0xd1000001));
  });
});
