// Small geoip-lite data files written from records, in geoip-lite 2.x's binary layout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One range of a fixture: bounds as text, a name id (or -1 for "no location"), lat/lon in degrees. */
export interface FixtureRange {
  readonly start: string;
  readonly end: string;
  readonly nameId: number;
  readonly lat: number;
  readonly lon: number;
}

function v4(text: string): number {
  return text.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function v6(text: string): Buffer {
  const [head, tail = ''] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = text.includes('::') ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), 2 * i));
  return buf;
}

/** Writes geoip-city-names.dat, geoip-city.dat and geoip-city6.dat into `dir`. */
export function writeGeoipLiteFixture(dir: string, countries: readonly string[], ranges4: readonly FixtureRange[],
  ranges6: readonly FixtureRange[]): void {
  mkdirSync(dir, { recursive: true });
  const names = Buffer.alloc(88 * countries.length);
  countries.forEach((c, i) => names.write(c, 88 * i, 'latin1'));
  const city = Buffer.alloc(24 * ranges4.length);
  ranges4.forEach((r, i) => {
    const o = 24 * i;
    city.writeUInt32BE(v4(r.start), o);
    city.writeUInt32BE(v4(r.end), o + 4);
    city.writeUInt32BE(r.nameId < 0 ? 0xffffffff : r.nameId, o + 8);
    city.writeInt32BE(Math.round(r.lat * 10_000), o + 12);
    city.writeInt32BE(Math.round(r.lon * 10_000), o + 16);
  });
  const city6 = Buffer.alloc(48 * ranges6.length);
  ranges6.forEach((r, i) => {
    const o = 48 * i;
    v6(r.start).copy(city6, o);
    v6(r.end).copy(city6, o + 16);
    city6.writeUInt32BE(r.nameId < 0 ? 0xffffffff : r.nameId, o + 32);
    city6.writeInt32BE(Math.round(r.lat * 10_000), o + 36);
    city6.writeInt32BE(Math.round(r.lon * 10_000), o + 40);
  });
  writeFileSync(join(dir, 'geoip-city-names.dat'), names);
  writeFileSync(join(dir, 'geoip-city.dat'), city);
  writeFileSync(join(dir, 'geoip-city6.dat'), city6);
}
