import assert from 'node:assert/strict';
import { GeoIpError, GeoTable, GeoTableHolder } from '../../../dns/geoip';

describe('GeoTableHolder', function () {
  this.timeout(30_000);
  const first = GeoTable.fromEntries([{ range: '192.0.2.0/24', lat: 48.85, lon: 2.35, country: 'FR' }], 'static');
  const second = GeoTable.fromEntries([{ range: '192.0.2.0/24', lat: 52.52, lon: 13.4, country: 'DE' }], 'dataset');

  it('serves the new table to every reader after a swap and returns the old one', () => {
    const holder = new GeoTableHolder(first);
    assert.equal(holder.current.lookup('192.0.2.1')?.country, 'FR');
    assert.equal(holder.swap(second), first);
    assert.equal(holder.current.lookup('192.0.2.1')?.country, 'DE');
    assert.equal(holder.current.lookup('192.0.2.1')?.source, 'dataset');
    assert.equal(holder.generation, 1);
  });

  it('lets a reader that took the table finish on it while a swap happens', () => {
    const holder = new GeoTableHolder(first);
    const table = holder.current;
    const i = table.findV4(0xc0000201);
    holder.swap(second);
    // The range index stays valid for the table it came from, not the new one.
    assert.equal(table.locationOfV4(i).country, 'FR');
    assert.equal(holder.current.locationOfV4(holder.current.findV4(0xc0000201)).country, 'DE');
  });

  it('answers every query during a burst of swaps without a miss or an error', async () => {
    const holder = new GeoTableHolder(first);
    let answered = 0;
    const reader = (async () => {
      for (let round = 0; round < 200; round++) {
        for (let k = 0; k < 100; k++) {
          const m = holder.current.lookup('192.0.2.77');
          assert.ok(m && (m.country === 'FR' || m.country === 'DE'));
          answered++;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    for (let s = 0; s < 200; s++) {
      holder.swap(s % 2 === 0 ? second : first);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await reader;
    assert.equal(answered, 20_000);
    assert.equal(holder.generation, 200);
  });

  it('refuses to swap in something that is not a table', () => {
    const holder = new GeoTableHolder(first);
    assert.throws(() => holder.swap({} as GeoTable), (err: unknown) => err instanceof GeoIpError && err.code === 'GEOIP_BAD_DATA');
    assert.equal(holder.current, first);
  });
});
