import { strict as assert } from 'node:assert';
import { greatCircleKm, listRegions } from '../../providers';
import { countryLocation, isKnownCountry } from '../../policies';

describe('policies/countries', () => {
  it('knows the country of every catalog region, so residency and demand can name it', () => {
    for (const r of listRegions()) assert.ok(isKnownCountry(r.country), `${r.cloud}:${r.id} is in unknown country ${r.country}`);
  });

  it('locates countries at their main population centre, within range', () => {
    for (const code of ['US', 'DE', 'JP', 'BR', 'AU', 'IN', 'CN', 'ZA']) {
      const at = countryLocation(code);
      assert.ok(at && Math.abs(at.lat) <= 90 && Math.abs(at.lon) <= 180, code);
    }
    // Germany's users are near Frankfurt (eu-central-1), Japan's near Tokyo.
    const de = countryLocation('DE');
    const jp = countryLocation('JP');
    assert.ok(de && greatCircleKm(de.lat, de.lon, 50.11, 8.68) < 100);
    assert.ok(jp && greatCircleKm(jp.lat, jp.lon, 35.68, 139.69) < 100);
    assert.equal(countryLocation('ZZ'), undefined);
    assert.equal(isKnownCountry('de'), false);
  });
});
