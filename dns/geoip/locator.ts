import type { GeoTableData } from './columns';
import { GeoIpError } from './errors';

// geoip-lite marks "no location" with location id 0xffffffff.
const NO_LOCATION = 0xffffffff;

/**
 * Gives each distinct (country, lat, lon) of geoip-lite's records one location id, in order of
 * first use. Coordinates are geoip-lite's integers (1e-4 degrees). Everything lives in typed
 * arrays (an open-addressing hash over the location columns): a Map of 150k+ keys would grow the
 * loading thread's heap by tens of MB.
 */
export class Locator {
  private lat = new Int32Array(1024);
  private lon = new Int32Array(1024);
  private country = new Uint16Array(1024);
  private count = 0;
  // Slot -> location id + 1 (0 = empty); a power of two, at most half full.
  private slots = new Uint32Array(4096);

  /** `countryOfName[nameId]`: the packed country of each record of geoip-city-names.dat. */
  constructor(private readonly countryOfName: Uint16Array) {}

  /**
   * The packed country of a record's name id (0 for "no location"). Throws `GEOIP_BAD_DATA` when
   * the id is not in the names file.
   */
  countryOf(nameId: number): number {
    if (nameId === NO_LOCATION) return 0;
    if (nameId >= this.countryOfName.length) throw new GeoIpError('GEOIP_BAD_DATA', `location id ${nameId} is not in geoip-city-names.dat`);
    return this.countryOfName[nameId];
  }

  /** The location id of a record's (name id, lat, lon), assigning the next one on first use. */
  locate(nameId: number, lat: number, lon: number): number {
    const country = this.countryOf(nameId);
    const mask = this.slots.length - 1;
    for (let s = hash(country, lat, lon) & mask; ; s = (s + 1) & mask) {
      const held = this.slots[s];
      if (held === 0) break;
      const id = held - 1;
      if (this.lat[id] === lat && this.lon[id] === lon && this.country[id] === country) return id;
    }
    return this.add(country, lat, lon);
  }

  /** The location columns in id order, sized exactly; coordinates in degrees. */
  columns(): Pick<GeoTableData, 'locationLat' | 'locationLon' | 'locationCountry'> {
    const n = this.count;
    const locationLat = new Float64Array(n);
    const locationLon = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      locationLat[i] = this.lat[i] / 10_000;
      locationLon[i] = this.lon[i] / 10_000;
    }
    return { locationLat, locationLon, locationCountry: this.country.slice(0, n) };
  }

  private add(country: number, lat: number, lon: number): number {
    if (this.count === this.lat.length) {
      this.lat = grown(this.lat, new Int32Array(2 * this.count));
      this.lon = grown(this.lon, new Int32Array(2 * this.count));
      this.country = grown(this.country, new Uint16Array(2 * this.count));
    }
    const id = this.count++;
    this.lat[id] = lat;
    this.lon[id] = lon;
    this.country[id] = country;
    if (2 * this.count > this.slots.length) this.rehash(2 * this.slots.length);
    else this.place(id);
    return id;
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size);
    for (let id = 0; id < this.count; id++) this.place(id);
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    let s = hash(this.country[id], this.lat[id], this.lon[id]) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = id + 1;
  }
}

function grown<T extends Int32Array | Uint16Array>(from: T, into: T): T {
  into.set(from);
  return into;
}

// Multiplicative mixing of the three integers; the low bits index the slots.
function hash(country: number, lat: number, lon: number): number {
  const h = Math.imul(lat ^ Math.imul(lon, 0x27d4eb2d) ^ Math.imul(country, 0x165667b1), 0x9e3779b1);
  return h ^ (h >>> 15);
}
