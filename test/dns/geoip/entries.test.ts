import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  continentOf, GeoIpError, GeoTable, knownCountries, makeLocation, normalizeRanges, normalizeV6Columns, type GeoLocation,
  type RangeRecord,
} from '../../../dns/geoip';

function isGeoIpError(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof GeoIpError && err.code === code;
}

describe('Building a GeoTable from entries', function () {
  this.timeout(30_000);
  it('lets a more specific prefix win inside a wider one, for both families', () => {
    const table = GeoTable.fromEntries([
      { range: '10.0.0.0/8', lat: 40.7, lon: -74, country: 'US' },
      { range: '10.1.0.0/16', lat: 51.5, lon: -0.1, country: 'GB' },
      { range: '2001:db8::/32', lat: 40.7, lon: -74, country: 'US' },
      { range: '2001:db8:1::/48', lat: 35.7, lon: 139.7, country: 'JP' },
    ], 'overlay');
    assert.equal(table.lookup('10.1.2.3')?.country, 'GB');
    assert.equal(table.lookup('10.1.2.3')?.prefix, '10.1.0.0/16');
    assert.equal(table.lookup('10.2.0.1')?.country, 'US');
    assert.equal(table.lookup('10.2.0.1')?.prefix, '10.2.0.0/15');
    assert.equal(table.lookup('10.0.0.1')?.prefix, '10.0.0.0/16');
    assert.equal(table.lookup('2001:db8:1::5')?.country, 'JP');
    assert.equal(table.lookup('2001:db8:2::5')?.country, 'US');
    assert.equal(table.lookup('2001:db8:2::5')?.source, 'overlay');
    assert.equal(table.lookup('11.0.0.1'), undefined);
  });

  it('accepts inclusive first-last ranges', () => {
    const table = GeoTable.fromEntries([{ range: '198.51.100.10-198.51.100.20', lat: 1, lon: 2, country: 'SG' }]);
    assert.equal(table.lookup('198.51.100.9'), undefined);
    assert.equal(table.lookup('198.51.100.16')?.prefix, '198.51.100.16/30');
    assert.equal(table.lookup('198.51.100.20')?.prefix, '198.51.100.20/32');
  });

  it('names the entry and the problem for bad ranges and locations', () => {
    const cases: Array<[string, number, number, string, string]> = [
      ['10.0.0.1/8', 1, 1, 'US', 'GEOIP_BAD_ADDRESS'],
      ['10.0.0.0/33', 1, 1, 'US', 'GEOIP_BAD_ADDRESS'],
      ['10.0.0.9-10.0.0.1', 1, 1, 'US', 'GEOIP_BAD_ADDRESS'],
      ['10.0.0.1-::1', 1, 1, 'US', 'GEOIP_BAD_ADDRESS'],
      ['nowhere', 1, 1, 'US', 'GEOIP_BAD_ADDRESS'],
      ['10.0.0.0/8', 91, 1, 'US', 'GEOIP_BAD_LOCATION'],
      ['10.0.0.0/8', 1, 1, 'usa', 'GEOIP_BAD_LOCATION'],
    ];
    for (const [range, lat, lon, country, code] of cases) {
      assert.throws(() => GeoTable.fromEntries([{ range: '192.0.2.0/24', lat: 0, lon: 0, country: '' }, { range, lat, lon, country }]),
        (err: unknown) => isGeoIpError(code)(err) && (err as Error).message.includes('entry 1'), range);
    }
  });

  it('refuses columns with unsorted or overlapping ranges', () => {
    const base = {
      source: 'static' as const, locationLat: new Float64Array([1]), locationLon: new Float64Array([1]),
      locationCountry: new Uint16Array([0]), v6Bounds: new Uint32Array(0), v6Locations: new Uint32Array(0),
    };
    assert.throws(() => new GeoTable({ ...base, v4Bounds: Uint32Array.from([10, 20, 15, 30]), v4Locations: Uint32Array.from([0, 0]) }),
      isGeoIpError('GEOIP_BAD_RANGE'));
    assert.throws(() => new GeoTable({ ...base, v4Bounds: Uint32Array.from([20, 10]), v4Locations: Uint32Array.from([0]) }),
      isGeoIpError('GEOIP_BAD_RANGE'));
    assert.throws(() => new GeoTable({ ...base, v4Bounds: Uint32Array.from([1, 2]), v4Locations: Uint32Array.from([3]) }),
      isGeoIpError('GEOIP_BAD_DATA'));
  });

  it('answers nothing from an empty table', () => {
    const table = GeoTable.empty();
    assert.equal(table.lookup('8.8.8.8'), undefined);
    assert.equal(table.lookup('2001:db8::1'), undefined);
    assert.equal(table.findV4(0), -1);
    assert.equal(table.findV6Words(0xffffffff, 0, 0, 0), -1);
  });

  it('finds the same range as a linear scan for random small tables', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 1 << 20 })),
      { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 50 }), (raw, probes) => {
      const records: RangeRecord[] = raw.map(([s, w], i) => ({ start: BigInt(s), end: BigInt(Math.min(0xffffffff, s + w)), loc: i % 3 }));
      const ranges = normalizeRanges(records);
      const table = new GeoTable({
        source: 'static', locationLat: new Float64Array(3), locationLon: new Float64Array(3), locationCountry: new Uint16Array(3),
        v4Bounds: Uint32Array.from(ranges.flatMap((r) => [Number(r.start), Number(r.end)])), v4Locations: Uint32Array.from(ranges, (r) => r.loc),
        v6Bounds: new Uint32Array(0), v6Locations: new Uint32Array(0),
      });
      const edges = ranges.flatMap((r) => [Number(r.start), Number(r.end), Number(r.start) - 1, Number(r.end) + 1])
        .filter((x) => x >= 0 && x <= 0xffffffff);
      for (const ip of [...probes, ...edges]) {
        const expected = ranges.findIndex((r) => BigInt(ip) >= r.start && BigInt(ip) <= r.end);
        if (table.findV4(ip) !== expected) return false;
      }
      return true;
    }), { numRuns: 300 });
  });
});

describe('Normalizing overlapping ranges', function () {
  this.timeout(30_000);
  // Reference meaning: among the ranges covering an address, the one starting last wins; on equal
  // starts the narrower one; on equal ranges the later one in the input.
  function winner(records: readonly RangeRecord[], a: bigint): number {
    let best = -1;
    records.forEach((r, i) => {
      if (r.start > a || r.end < a) return;
      if (best < 0) { best = i; return; }
      const b = records[best];
      if (r.start > b.start || (r.start === b.start && r.end <= b.end)) best = i;
    });
    return best < 0 ? -1 : records[best].loc;
  }

  it('matches the reference meaning on every address of a small universe', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 4 })),
      { maxLength: 12 }), (raw) => {
      const records = raw.map(([a, b, loc]) => ({ start: BigInt(Math.min(a, b)), end: BigInt(Math.max(a, b)), loc }));
      const out = normalizeRanges(records);
      for (let i = 1; i < out.length; i++) {
        if (out[i].start <= out[i - 1].end) return false;
        if (out[i].start === out[i - 1].end + 1n && out[i].loc === out[i - 1].loc) return false;
      }
      for (let a = 0n; a < 64n; a++) {
        const got = out.find((r) => r.start <= a && r.end >= a)?.loc ?? -1;
        if (got !== winner(records, a)) return false;
      }
      return true;
    }), { numRuns: 2000 });
  });

  it('gives the same IPv6 result from typed columns as from bigint records', () => {
    // Values near both ends of the space and around word boundaries exercise the carries.
    const pick = fc.oneof(
      fc.bigInt({ min: 0n, max: 40n }),
      fc.bigInt({ min: (1n << 128n) - 40n, max: (1n << 128n) - 1n }),
      fc.bigInt({ min: (1n << 64n) - 20n, max: (1n << 64n) + 20n }),
      fc.bigInt({ min: (1n << 32n) - 20n, max: (1n << 32n) + 20n }),
    );
    // Short lists explore the cases; long ones exercise the in-place sort at depth.
    const list = fc.oneof(fc.array(fc.tuple(pick, pick, fc.integer({ min: 0, max: 3 })), { maxLength: 12 }),
      fc.array(fc.tuple(pick, pick, fc.integer({ min: 0, max: 3 })), { minLength: 100, maxLength: 300 }));
    fc.assert(fc.property(list, (raw) => {
      const records = raw.map(([a, b, loc]) => ({ start: a < b ? a : b, end: a < b ? b : a, loc }));
      const bounds = new Uint32Array(8 * records.length);
      const words = (v: bigint): number[] => [96n, 64n, 32n, 0n].map((s) => Number((v >> s) & 0xffffffffn));
      records.forEach((r, i) => bounds.set([...words(r.start), ...words(r.end)], 8 * i));
      const columns = normalizeV6Columns({ bounds, locations: Uint32Array.from(records, (r) => r.loc) });
      const expected = normalizeRanges(records);
      if (columns.locations.length !== expected.length) return false;
      // Sized exactly: no spare capacity behind the views.
      if (columns.bounds.buffer.byteLength !== 32 * expected.length || columns.locations.buffer.byteLength !== 4 * expected.length) return false;
      return expected.every((r, i) => columns.locations[i] === r.loc
        && words(r.start).every((w, k) => columns.bounds[8 * i + k] === w)
        && words(r.end).every((w, k) => columns.bounds[8 * i + 4 + k] === w));
    }), { numRuns: 2000 });
  });
});

describe('Continents and locations', () => {
  it('maps countries to their continent and unknown codes to nothing', () => {
    assert.equal(continentOf('DE'), 'EU');
    assert.equal(continentOf('de'), 'EU');
    assert.equal(continentOf('BR'), 'SA');
    assert.equal(continentOf('AU'), 'OC');
    assert.equal(continentOf('AQ'), 'AN');
    assert.equal(continentOf('KE'), 'AF');
    assert.equal(continentOf('JP'), 'AS');
    assert.equal(continentOf('CA'), 'NA');
    assert.equal(continentOf(''), '');
    assert.equal(continentOf('ZZ'), '');
    assert.ok(knownCountries().length >= 249);
    assert.ok(knownCountries().every((c) => /^[A-Z]{2}$/.test(continentOf(c))));
  });

  it('exposes locations as a read-only array of the very objects lookups return', () => {
    const table = GeoTable.fromEntries([
      { range: '192.0.2.0/25', lat: 48.85, lon: 2.35, country: 'FR' },
      { range: '192.0.2.128/25', lat: 52.52, lon: 13.4, country: 'DE' },
    ]);
    const all = table.locations;
    assert.equal(all.length, 2);
    assert.ok(Array.isArray(all));
    assert.deepEqual(all.map((l) => l.country), ['FR', 'DE']);
    assert.equal(all[table.locationIdOfV4(table.findV4(0xc0000281))], table.locationOfV4(table.findV4(0xc0000281)));
    assert.equal(all[2], undefined);
    assert.throws(() => { (all as GeoLocation[])[0] = all[1]; }, TypeError);
    assert.equal(all[0].country, 'FR');
  });

  it('freezes locations and checks their coordinates and country code', () => {
    const loc = makeLocation(1.29, 103.85, 'SG');
    assert.ok(Object.isFrozen(loc));
    assert.equal(loc.continent, 'AS');
    assert.throws(() => makeLocation(100, 0, 'SG'), isGeoIpError('GEOIP_BAD_LOCATION'));
    assert.throws(() => makeLocation(0, 181, 'SG'), isGeoIpError('GEOIP_BAD_LOCATION'));
    assert.throws(() => makeLocation(0, 0, 'S'), isGeoIpError('GEOIP_BAD_LOCATION'));
  });
});
