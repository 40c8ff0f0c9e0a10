import { dirname, join } from 'node:path';
import { GeoIpError } from './errors';
import { normalizeV6Columns } from './ranges';
import type { GeoTableData } from './columns';
import { Locator } from './locator';
import { RecordFile } from './record-file';
import type { GeoSource } from './types';

/** Where to read geoip-lite's data and how to label it. */
export interface GeoipLiteOptions {
  /** Folder holding `geoip-city.dat`, `geoip-city6.dat`, `geoip-city-names.dat`; default: the installed package's `data/`. */
  readonly dataDir?: string;
  /** Source label of the resulting table; default `static` (geoip-lite's data is the always-available fallback). */
  readonly source?: GeoSource;
}

// Record layouts of geoip-lite 2.x (lib/geoip.js): all integers big-endian.
// geoip-city.dat, 24 bytes: start u32, end u32, location id u32, lat i32 (1e-4 deg), lon i32, area u32.
const V4_RECORD = 24;
// geoip-city6.dat, 48 bytes: start 16 bytes, end 16 bytes, location id u32, lat i32, lon i32, area u32.
const V6_RECORD = 48;
// geoip-city-names.dat, 88 bytes: country 2, region 3, metro i32, eu 1, timezone 32, city 46 (NUL padded).
const NAME_RECORD = 88;

/** The folder of the installed geoip-lite package's data files. */
export function geoipLiteDataDir(): string {
  return join(dirname(require.resolve('geoip-lite/package.json')), 'data');
}

/**
 * Reads geoip-lite's city data files into table columns: distinct (country, lat, lon) locations,
 * adjacent ranges with the same location merged. Throws `GEOIP_BAD_DATA` on unreadable files.
 */
export function readGeoipLite(options: GeoipLiteOptions = {}): GeoTableData {
  const dir = options.dataDir ?? geoipLiteDataDir();
  // The files are read in chunks and never held whole: holding 110 MB of file while building
  // the columns would nearly double the peak.
  const files: RecordFile[] = [];
  try {
    const names = RecordFile.open(dir, 'geoip-city-names.dat', NAME_RECORD);
    files.push(names);
    const v4File = RecordFile.open(dir, 'geoip-city.dat', V4_RECORD);
    files.push(v4File);
    const v6File = RecordFile.open(dir, 'geoip-city6.dat', V6_RECORD);
    files.push(v6File);
    const locator = new Locator(readCountries(names));
    const v4 = readV4(v4File, locator);
    const v6 = readV6(v6File, locator);
    return { source: options.source ?? 'static', ...locator.columns(), ...v4, ...v6 };
  } finally {
    for (const f of files) f.close();
  }
}

// The country of each name id, two character codes packed in a u16 (0 = unknown).
function readCountries(names: RecordFile): Uint16Array {
  const countries = new Uint16Array(names.records);
  names.forEachChunk((chunk, first, count) => {
    for (let k = 0; k < count; k++) {
      const o = k * NAME_RECORD;
      countries[first + k] = chunk[o] === 0 ? 0 : (chunk[o] << 8) | chunk[o + 1];
    }
  });
  return countries;
}

// IPv4 ranges, contiguous ones with the same location merged. Two passes over the file: the first
// counts the merged ranges so that the columns are allocated at their final size (no oversized
// arrays, no trimming copies).
function readV4(file: RecordFile, locator: Locator): Pick<GeoTableData, 'v4Bounds' | 'v4Locations'> {
  let count = 0;
  let prevEnd = -1;
  let prevCountry = -1;
  let prevLat = 0;
  let prevLon = 0;
  file.forEachChunk((chunk, _first, n) => {
    // DataView reads are big-endian by default and inline in optimized code.
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let k = 0; k < n; k++) {
      const o = k * V4_RECORD;
      const start = view.getUint32(o);
      // Same location means same (country, lat, lon), exactly as the locator decides it.
      const country = locator.countryOf(view.getUint32(o + 8));
      const lat = view.getInt32(o + 12);
      const lon = view.getInt32(o + 16);
      if (!(prevEnd + 1 === start && country === prevCountry && lat === prevLat && lon === prevLon)) count++;
      prevEnd = view.getUint32(o + 4);
      prevCountry = country;
      prevLat = lat;
      prevLon = lon;
    }
  });
  const bounds = new Uint32Array(2 * count);
  const locations = new Uint32Array(count);
  let n4 = 0;
  file.forEachChunk((chunk, _first, n) => {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let k = 0; k < n; k++) {
      const o = k * V4_RECORD;
      const start = view.getUint32(o);
      const end = view.getUint32(o + 4);
      const loc = locator.locate(view.getUint32(o + 8), view.getInt32(o + 12), view.getInt32(o + 16));
      // Merge with the previous range when contiguous and equally located: fewer, wider entries.
      if (n4 > 0 && locations[n4 - 1] === loc && bounds[2 * n4 - 1] + 1 === start) {
        bounds[2 * n4 - 1] = end;
      } else {
        if (n4 === count) throw new GeoIpError('GEOIP_BAD_DATA', `${file.name} changed while it was read`);
        bounds[2 * n4] = start;
        bounds[2 * n4 + 1] = end;
        locations[n4] = loc;
        n4++;
      }
    }
  });
  if (n4 !== count) throw new GeoIpError('GEOIP_BAD_DATA', `${file.name} changed while it was read`);
  return { v4Bounds: bounds, v4Locations: locations };
}

// geoip-city6.dat is ordered on the upper 64 bits only (geoip-lite compares just those), and not
// everywhere even on those, with nested or overlapping sub-/64 ranges: so all its ranges are
// needed at once, to normalize into sorted, disjoint, most-specific-wins ranges.
function readV6(file: RecordFile, locator: Locator): Pick<GeoTableData, 'v6Bounds' | 'v6Locations'> {
  const rawBounds = new Uint32Array(8 * file.records);
  const rawLocations = new Uint32Array(file.records);
  file.forEachChunk((chunk, first, n) => {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let k = 0; k < n; k++) {
      const o = k * V6_RECORD;
      const r = first + k;
      for (let w = 0; w < 8; w++) rawBounds[8 * r + w] = view.getUint32(o + 4 * w);
      rawLocations[r] = locator.locate(view.getUint32(o + 32), view.getInt32(o + 36), view.getInt32(o + 40));
    }
  });
  const v6 = normalizeV6Columns({ bounds: rawBounds, locations: rawLocations });
  return { v6Bounds: v6.bounds, v6Locations: v6.locations };
}
