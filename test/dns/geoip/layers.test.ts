import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GeoTable, LayerBuilder, mergeLayers, type GeoEntry, type GeoLayerData } from '../../../dns/geoip';

const dataset = (): GeoTable => GeoTable.fromEntries([
  { range: '10.0.0.0/16', lat: 48.85, lon: 2.35, country: 'FR' },
  { range: '2001:db8::/32', lat: 48.85, lon: 2.35, country: 'FR' },
], 'dataset');
const cache = (): GeoTable => GeoTable.fromEntries([
  { range: '10.0.5.0/24', lat: 35.68, lon: 139.69, country: 'JP' },
  { range: '10.1.0.0/24', lat: 35.68, lon: 139.69, country: 'JP' },
  { range: '2001:db8:5::/48', lat: 35.68, lon: 139.69, country: 'JP' },
  { range: '2001:db9::/48', lat: 35.68, lon: 139.69, country: 'JP' },
], 'cache');
const overlay = (): GeoTable => GeoTable.fromEntries([
  { range: '10.0.7.0/24', lat: 40.71, lon: -74.0, country: 'US' },
  { range: '2001:db8:7::/48', lat: 40.71, lon: -74.0, country: 'US' },
], 'overlay');

describe('Merging GeoIP layers by priority', function () {
  this.timeout(60_000);

  it('lets an overlay entry override the dataset and never lets a cached /24 override it, whatever the prefix lengths', () => {
    const t = new GeoTable(mergeLayers([
      { layer: 'overlay', channel: 'bgp', data: overlay().columns },
      { layer: 'dataset', channel: 'signed', data: dataset().columns },
      { layer: 'cache', channel: 'static', data: cache().columns },
    ], 'dataset'));
    assert.deepEqual([t.lookup('10.0.7.9')?.country, t.lookup('10.0.7.9')?.source, t.lookup('10.0.7.9')?.channel], ['US', 'overlay', 'bgp']);
    // The cache's /24 lies inside the dataset's /16: the dataset decides.
    assert.deepEqual([t.lookup('10.0.5.1')?.country, t.lookup('10.0.5.1')?.source, t.lookup('10.0.5.1')?.channel], ['FR', 'dataset', 'signed']);
    // Where the dataset has nothing, the cache answers.
    assert.deepEqual([t.lookup('10.1.0.1')?.country, t.lookup('10.1.0.1')?.source], ['JP', 'cache']);
    assert.equal(t.lookup('10.2.0.1'), undefined);
    assert.deepEqual([t.lookup('2001:db8:7::1')?.source, t.lookup('2001:db8:5::1')?.source, t.lookup('2001:db9::1')?.source],
      ['overlay', 'dataset', 'cache']);
    // The dataset's /16 is cut around the overlay's /24: the ECS scope never spans a range another layer decides.
    assert.equal(t.lookup('10.0.6.1')?.prefix, '10.0.6.0/24');
    assert.equal(t.lookup('10.0.8.1')?.prefix, '10.0.8.0/21');
  });

  it('puts the cache above a dataset when it is told to (a stale dataset)', () => {
    const t = new GeoTable(mergeLayers([
      { layer: 'cache', channel: 'static', data: cache().columns },
      { layer: 'static', channel: 'static', data: dataset().columns },
    ], 'static'));
    assert.deepEqual([t.lookup('10.0.5.1')?.country, t.lookup('10.0.5.1')?.source], ['JP', 'cache']);
    assert.deepEqual([t.lookup('10.0.4.1')?.country, t.lookup('10.0.4.1')?.source], ['FR', 'static']);
  });

  it('answers every address from the first layer that holds it (random layers of both families)', () => {
    const v4Cidr = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 32 }))
      .map(([b, len]) => `10.${b}.${(b * 7) % 256}.0/${len}`).map((c) => {
        const [addr, len] = c.split('/');
        const parts = addr!.split('.').map(Number);
        const value = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
        const n = Number(len);
        const base = n === 32 ? value : value - (value % 2 ** (32 - n));
        return `${[base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].join('.')}/${n}`;
      });
    const v6Cidr = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.constantFrom(36, 40, 44, 48))
      .map(([b, len]) => `2001:db8:${(b << 12).toString(16)}::/${len}`);
    const layer = fc.array(fc.oneof(v4Cidr, v6Cidr), { maxLength: 12 });
    fc.assert(fc.property(fc.array(layer, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 20, maxLength: 20 }),
      (layers, probes) => {
        const tables = layers.map((cidrs, li) => GeoTable.fromEntries(cidrs.map((range, k): GeoEntry => ({ range, lat: li, lon: k, country: '' }))));
        const data: GeoLayerData[] = tables.map((t, li) => ({ layer: li === 0 ? 'overlay' : li === 1 ? 'dataset' : 'cache', channel: 'static', data: t.columns }));
        const merged = new GeoTable(mergeLayers(data, 'dataset'));
        for (const p of probes) {
          for (const ip of [`10.${p >>> 8}.${p & 255}.${(p * 13) & 255}`, `2001:db8:${((p & 15) << 12).toString(16)}:${p.toString(16)}::1`]) {
            const expected = tables.map((t) => t.lookup(ip)).find((m) => m !== undefined);
            const got = merged.lookup(ip);
            assert.deepEqual(got && [got.lat, got.lon], expected && [expected.lat, expected.lon], ip);
          }
        }
      }), { numRuns: 100 });
  });

  it('builds the merged table in a worker and hands back a table that answers like the inline merge', async () => {
    const builder = new LayerBuilder();
    try {
      const t = await builder.build([
        { layer: 'overlay', channel: 'ris', table: overlay() },
        { layer: 'static', channel: 'static', table: dataset() },
      ], 'static');
      assert.deepEqual([t.lookup('10.0.7.1')?.source, t.lookup('10.0.7.1')?.channel, t.lookup('10.0.1.1')?.source], ['overlay', 'ris', 'static']);
      assert.equal(t.v4Count, 3);
      // The layers' own tables are intact: their columns were copied, not moved.
      assert.equal(overlay().v4Count, 1);
    } finally {
      await builder.close();
    }
  });
});
