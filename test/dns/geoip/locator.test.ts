import assert from 'node:assert/strict';
import { GeoIpError, packCountry } from '../../../dns/geoip';
import { Locator } from '../../../dns/geoip/locator';
import { xorshift32 } from './reference';

const NO_LOCATION = 0xffffffff;

describe('Assigning location ids to geoip-lite records', function () {
  it('gives each distinct (country, lat, lon) one id, in order of first use, across many growths', () => {
    const countries = Uint16Array.from(['GB', 'US', 'DE', '', 'FR'], packCountry);
    const locator = new Locator(countries);
    // The reference: a Map keyed by the triple, as the table's ids were assigned before.
    const ids = new Map<string, number>();
    const next = xorshift32(0x10ca7);
    for (let i = 0; i < 30_000; i++) {
      // Few distinct coordinates, so that most records repeat an earlier location.
      const nameId = next() % 6 === 5 ? NO_LOCATION : next() % 5;
      const lat = (next() % 200) * 4_500 - 900_000;
      const lon = (next() % 60) * -60_000 + 1_800_000;
      const country = nameId === NO_LOCATION ? 0 : countries[nameId];
      const key = `${country},${lat},${lon}`;
      if (!ids.has(key)) ids.set(key, ids.size);
      assert.equal(locator.locate(nameId, lat, lon), ids.get(key), `record ${i}: ${key}`);
    }
    const columns = locator.columns();
    assert.equal(columns.locationLat.length, ids.size);
    assert.equal(columns.locationLat.buffer.byteLength, 8 * ids.size, 'sized exactly');
    assert.equal(columns.locationCountry.buffer.byteLength, 2 * ids.size, 'sized exactly');
    for (const [key, id] of ids) {
      const [country, lat, lon] = key.split(',').map(Number);
      assert.deepEqual([columns.locationCountry[id], columns.locationLat[id], columns.locationLon[id]], [country, lat / 10_000, lon / 10_000]);
    }
  });

  it('treats "no location" and a name without a country at the same coordinates as one location', () => {
    const locator = new Locator(Uint16Array.from(['GB', ''], packCountry));
    const id = locator.locate(NO_LOCATION, 0, 0);
    assert.equal(locator.locate(1, 0, 0), id);
    assert.notEqual(locator.locate(0, 0, 0), id);
    assert.equal(locator.countryOf(NO_LOCATION), 0);
  });

  it('refuses a name id that the names file does not have', () => {
    const locator = new Locator(Uint16Array.from(['GB'], packCountry));
    const bad = (err: unknown): boolean => err instanceof GeoIpError && err.code === 'GEOIP_BAD_DATA'
      && err.message === 'location id 1 is not in geoip-city-names.dat';
    assert.throws(() => locator.locate(1, 0, 0), bad);
    assert.throws(() => locator.countryOf(1), bad);
  });
});
