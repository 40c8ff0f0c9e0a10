import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv4, GeoIpError, GeoTable, loadGeoipLite, readGeoipLite } from '../../../dns/geoip';
import { writeGeoipLiteFixture } from './fixtures';

function isGeoIpError(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof GeoIpError && err.code === code;
}

describe('Reading geoip-lite data files', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-geoip-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeSample(): void {
    writeGeoipLiteFixture(dir, ['GB', 'US', ''], [
      { start: '1.0.0.0', end: '1.0.0.255', nameId: 0, lat: 51.5, lon: -0.1 },
      { start: '1.0.1.0', end: '1.0.1.255', nameId: 0, lat: 51.5, lon: -0.1 },
      { start: '1.0.2.0', end: '1.0.2.255', nameId: 0, lat: 53.48, lon: -2.24 },
      { start: '2.0.0.0', end: '2.0.0.255', nameId: 1, lat: 37.751, lon: -97.822 },
      { start: '3.0.0.7', end: '3.0.0.7', nameId: -1, lat: 0, lon: 0 },
    ], [
      { start: '2001:db8::', end: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', nameId: 1, lat: 37.751, lon: -97.822 },
      { start: '2001:db8:5::', end: '2001:db8:5:ffff:ffff:ffff:ffff:ffff', nameId: 0, lat: 51.5, lon: -0.1 },
    ]);
  }

  it('reads ranges and locations, merging contiguous ranges with the same location', () => {
    writeSample();
    const table = GeoTable.fromGeoipLite({ dataDir: dir });
    assert.equal(table.v4Count, 4);
    assert.equal(table.v4RangeStart(0), 0x01000000);
    assert.equal(table.v4RangeEnd(0), 0x010001ff);
    assert.deepEqual(table.lookup('1.0.1.9'), {
      lat: 51.5, lon: -0.1, country: 'GB', continent: 'EU', prefix: '1.0.0.0/23', prefixLength: 23, source: 'static', channel: 'static',
    });
    assert.equal(table.lookup('1.0.2.1')?.lat, 53.48);
    assert.equal(table.lookup('2.0.0.1')?.continent, 'NA');
    assert.deepEqual(table.lookup('3.0.0.7'), {
      lat: 0, lon: 0, country: '', continent: '', prefix: '3.0.0.7/32', prefixLength: 32, source: 'static', channel: 'static',
    });
    assert.equal(table.lookup('1.0.3.0'), undefined);
    // GB at 51.5,-0.1 is one location although three v4 records and one v6 record use it.
    assert.equal(table.locations.filter((l) => l.country === 'GB' && l.lat === 51.5).length, 1);
  });

  it('resolves nested IPv6 ranges by longest prefix match', () => {
    writeSample();
    const table = GeoTable.fromGeoipLite({ dataDir: dir, source: 'dataset' });
    assert.equal(table.lookup('2001:db8:5::1')?.country, 'GB');
    assert.equal(table.lookup('2001:db8:5::1')?.prefix, '2001:db8:5::/48');
    assert.equal(table.lookup('2001:db8:4::1')?.country, 'US');
    assert.equal(table.lookup('2001:db8:6::1')?.country, 'US');
    assert.equal(table.lookup('2001:db8:6::1')?.prefix, '2001:db8:6::/47');
    assert.equal(table.lookup('2001:db8:6::1')?.source, 'dataset');
    assert.equal(table.v6Count, 3);
  });

  it('merges across read chunks into columns of exactly the merged size', () => {
    // Enough records for several 256 KiB chunks of each file. Runs of 7 contiguous /24s share a
    // location, so runs straddle chunk ends; name ids run past the names file's first chunk.
    const names = Array.from({ length: 5_000 }, (_, i) => (i % 2 === 0 ? 'DE' : 'FR'));
    const records = 30_000;
    writeGeoipLiteFixture(dir, names, Array.from({ length: records }, (_, i) => {
      const run = Math.floor(i / 7);
      const start = 0x0a000000 + 256 * i;
      return { start: formatIpv4(start), end: formatIpv4(start + 255), nameId: run % 2 === 1 ? 4_991 : run % 4 === 0 ? 4_990 : 4_992, lat: 1, lon: 2 };
    }), []);
    const data = readGeoipLite({ dataDir: dir });
    const runs = Math.ceil(records / 7);
    assert.equal(data.v4Locations.length, runs);
    assert.equal(data.v4Bounds.buffer.byteLength, 8 * runs, 'bounds sized exactly');
    assert.equal(data.v4Locations.buffer.byteLength, 4 * runs, 'locations sized exactly');
    assert.deepEqual([data.v4Bounds[0], data.v4Bounds[1]], [0x0a000000, 0x0a000000 + 7 * 256 - 1]);
    assert.equal(data.v4Bounds[2 * runs - 1], 0x0a000000 + 256 * records - 1);
    // Runs alternate DE and FR; name ids 4990 and 4992 are both DE at the same coordinates: one location.
    const table = GeoTable.fromGeoipLite({ dataDir: dir });
    assert.equal(table.locationCount, 2);
    assert.equal(table.lookup('10.0.0.1')?.country, 'DE');
    assert.equal(table.lookup(formatIpv4(0x0a000000 + 7 * 256))?.country, 'FR');
    assert.equal(table.lookup(formatIpv4(0x0a000000 + 256 * records))?.country, undefined);
  });

  it('treats "no location" and a name without a country at the same coordinates as one location', () => {
    writeGeoipLiteFixture(dir, ['GB', ''], [
      { start: '3.0.0.0', end: '3.0.0.255', nameId: -1, lat: 0, lon: 0 },
      { start: '3.0.1.0', end: '3.0.1.255', nameId: 1, lat: 0, lon: 0 },
      { start: '3.0.2.0', end: '3.0.2.255', nameId: 0, lat: 0, lon: 0 },
    ], []);
    const table = GeoTable.fromGeoipLite({ dataDir: dir });
    assert.equal(table.v4Count, 2);
    assert.equal(table.lookup('3.0.1.1')?.prefix, '3.0.0.0/23');
    assert.equal(table.lookup('3.0.2.1')?.country, 'GB');
  });

  it('reports a missing folder, a truncated file and a dangling location id as bad data', () => {
    assert.throws(() => readGeoipLite({ dataDir: join(dir, 'nope') }), isGeoIpError('GEOIP_BAD_DATA'));
    writeSample();
    writeFileSync(join(dir, 'geoip-city.dat'), Buffer.alloc(25));
    assert.throws(() => readGeoipLite({ dataDir: dir }), (err: unknown) => isGeoIpError('GEOIP_BAD_DATA')(err)
      && (err as Error).message.includes('geoip-city.dat'));
    writeGeoipLiteFixture(dir, ['GB'], [{ start: '1.0.0.0', end: '1.0.0.255', nameId: 5, lat: 1, lon: 1 }], []);
    assert.throws(() => readGeoipLite({ dataDir: dir }), isGeoIpError('GEOIP_BAD_DATA'));
  });

  it('builds the table in a worker thread with the same answers as building it in place', async () => {
    writeSample();
    const inPlace = GeoTable.fromGeoipLite({ dataDir: dir });
    const loaded = await loadGeoipLite({ dataDir: dir });
    assert.equal(loaded.v4Count, inPlace.v4Count);
    assert.equal(loaded.v6Count, inPlace.v6Count);
    for (const ip of ['1.0.1.9', '1.0.2.1', '2.0.0.1', '3.0.0.7', '9.9.9.9', '2001:db8:5::1', '2001:db8:6::1']) {
      assert.deepEqual(loaded.lookup(ip), inPlace.lookup(ip), ip);
    }
  });

  it('rejects with a coded error when the worker cannot read the data', async () => {
    await assert.rejects(loadGeoipLite({ dataDir: join(dir, 'nope') }), isGeoIpError('GEOIP_BAD_DATA'));
  });

  it('keeps the event loop turning while the worker loads the full dataset', async () => {
    let ticks = 0;
    let longestGapMs = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      ticks++;
    }, 5);
    try {
      const started = Date.now();
      const table = await loadGeoipLite();
      const tookMs = Date.now() - started;
      assert.equal(table.lookup('8.8.8.8')?.country, 'US');
      // The load takes seconds; the serving thread must have kept running through it (a stall of
      // the whole load would show as one gap as long as the load).
      assert.ok(ticks > 10, `only ${ticks} timer ticks in ${tookMs} ms`);
      assert.ok(longestGapMs < tookMs / 2, `event loop stalled ${longestGapMs} ms of a ${tookMs} ms load`);
    } finally {
      clearInterval(timer);
    }
  });
});
