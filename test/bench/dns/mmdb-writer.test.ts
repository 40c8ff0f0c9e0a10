import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, type CityResponse } from 'mmdb-lib';
import { readGeoipLite } from '../../../dns/geoip/index';
import { readMmdb } from '../../../dns/geoip/channels/signed/index';
import { writeGeoipLiteFixture } from '../../dns/geoip/fixtures';
import { writeGeoMmdb } from './mmdb-writer';

describe('MaxMind DB writer of GeoIP table columns', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-mmdb-writer-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes ranges that mmdb-lib and the table reader both read back with their places, IPv4 under ::/96', () => {
    // Unaligned ranges, so each becomes several blocks.
    writeGeoipLiteFixture(join(dir, 'src'), ['DE', 'JP'], [
      { start: '10.0.0.3', end: '10.0.1.200', nameId: 0, lat: 50.1, lon: 8.7 },
      { start: '192.0.2.0', end: '192.0.2.127', nameId: 1, lat: 35.7, lon: 139.7 },
    ], [
      { start: '2001:db8::', end: '2001:db8:0:5::ffff', nameId: 1, lat: 35.7, lon: 139.7 },
    ]);
    const file = join(dir, 'out.mmdb');
    writeGeoMmdb(readGeoipLite({ dataDir: join(dir, 'src') }), file, 'test');
    const bytes = readFileSync(file);
    const reader = new Reader<CityResponse>(bytes);
    assert.equal(reader.metadata.ipVersion, 6);
    const at = (ip: string): [number, number, string] | undefined => {
      const r = reader.get(ip);
      return r ? [r.location!.latitude, r.location!.longitude, r.country!.iso_code] : undefined;
    };
    assert.deepEqual(at('10.0.0.3'), [50.1, 8.7, 'DE']);
    assert.deepEqual(at('10.0.1.200'), [50.1, 8.7, 'DE']);
    assert.equal(at('10.0.0.2'), undefined);
    assert.equal(at('10.0.1.201'), undefined);
    assert.deepEqual(at('192.0.2.127'), [35.7, 139.7, 'JP']);
    assert.deepEqual(at('2001:db8:0:5::ffff'), [35.7, 139.7, 'JP']);
    assert.equal(at('2001:db8:0:5::1:0'), undefined);
    // The table reader walks the tree: the blocks cover exactly the ranges written.
    const table = readMmdb(bytes);
    const b = table.v4Bounds;
    assert.deepEqual([b[0], b[b.length - 1]], [0x0a000003, 0xc000027f]);
    let covered = 0;
    for (let i = 0; i < b.length; i += 2) covered += b[i + 1]! - b[i]! + 1;
    assert.equal(covered, (0x1c8 - 3 + 1) + 128);
    assert.ok(table.v6Locations.length >= 1);
  });
});
