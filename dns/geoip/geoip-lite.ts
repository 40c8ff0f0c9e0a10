import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GeoIpError } from './errors';
import { normalizeV6Columns } from './ranges';
import { LocationColumns, type GeoTableData } from './columns';
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
// geoip-lite marks "no location" with location id 0xffffffff.
const NO_LOCATION = 0xffffffff;

/** The folder of the installed geoip-lite package's data files. */
export function geoipLiteDataDir(): string {
  return join(dirname(require.resolve('geoip-lite/package.json')), 'data');
}

function recordFileSize(dir: string, name: string, recordSize: number): number {
  let size: number;
  try {
    size = statSync(join(dir, name)).size;
  } catch (err) {
    throw new GeoIpError('GEOIP_BAD_DATA', `cannot read geoip-lite data file ${join(dir, name)}`, { cause: err });
  }
  if (size % recordSize !== 0) {
    throw new GeoIpError('GEOIP_BAD_DATA', `${name} is ${size} bytes, not a multiple of its ${recordSize}-byte record`);
  }
  return size;
}

// Calls `fn` with consecutive whole-record chunks of the file (about 1 MiB each).
function forEachChunk(dir: string, name: string, recordSize: number, fn: (chunk: Buffer, firstRecord: number, count: number) => void): void {
  const path = join(dir, name);
  const chunk = Buffer.allocUnsafe(recordSize * Math.floor(1_048_576 / recordSize));
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new GeoIpError('GEOIP_BAD_DATA', `cannot read geoip-lite data file ${path}`, { cause: err });
  }
  try {
    let record = 0;
    let pending = 0;
    for (;;) {
      const got = readSync(fd, chunk, pending, chunk.length - pending, null);
      const filled = pending + got;
      const whole = Math.floor(filled / recordSize);
      if (whole > 0) fn(chunk, record, whole);
      record += whole;
      // A short read can split a record: carry its bytes to the front of the next chunk.
      pending = filled - whole * recordSize;
      if (pending > 0) chunk.copy(chunk, 0, whole * recordSize, filled);
      if (got === 0) break;
    }
    if (pending !== 0) throw new GeoIpError('GEOIP_BAD_DATA', `${name} ends inside a record`);
  } finally {
    closeSync(fd);
  }
}

function readFile(dir: string, name: string, recordSize: number): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(join(dir, name));
  } catch (err) {
    throw new GeoIpError('GEOIP_BAD_DATA', `cannot read geoip-lite data file ${join(dir, name)}`, { cause: err });
  }
  if (buf.length % recordSize !== 0) {
    throw new GeoIpError('GEOIP_BAD_DATA', `${name} is ${buf.length} bytes, not a multiple of its ${recordSize}-byte record`);
  }
  return buf;
}

/**
 * Reads geoip-lite's city data files into table columns: distinct (country, lat, lon) locations,
 * adjacent ranges with the same location merged. Throws `GEOIP_BAD_DATA` on unreadable files.
 */
export function readGeoipLite(options: GeoipLiteOptions = {}): GeoTableData {
  // Country codes below are packed as two character codes in a u16 (0 = unknown).
  const dir = options.dataDir ?? geoipLiteDataDir();
  const names = readFile(dir, 'geoip-city-names.dat', NAME_RECORD);
  // The range files are read in chunks: holding 100 MB of file while building would double the peak.
  const v4Size = recordFileSize(dir, 'geoip-city.dat', V4_RECORD);
  const v6Size = recordFileSize(dir, 'geoip-city6.dat', V6_RECORD);

  const nameCount = names.length / NAME_RECORD;
  const countryOfName = new Uint16Array(nameCount);
  for (let i = 0; i < nameCount; i++) {
    const o = i * NAME_RECORD;
    countryOfName[i] = names[o] === 0 ? 0 : (names[o] << 8) | names[o + 1];
  }

  // Locations are identified by (country, lat, lon); columns keep them compact and transferable.
  const locations = new LocationColumns();
  // Keyed by packed country, then by lat and lon (1e-4 degrees) packed into one exact double.
  const locationIds = new Map<number, Map<number, number>>();
  // Most consecutive uses of a name id repeat its last coordinates: remember them per name id so
  // the map is consulted rarely.
  const lastLat = new Int32Array(nameCount + 1);
  const lastLon = new Int32Array(nameCount + 1);
  const lastId = new Int32Array(nameCount + 1).fill(-1);
  const locate = (nameId: number, lat: number, lon: number): number => {
    const slot = nameId === NO_LOCATION ? nameCount : nameId;
    if (slot > nameCount) throw new GeoIpError('GEOIP_BAD_DATA', `location id ${nameId} is not in geoip-city-names.dat`);
    if (lastId[slot] >= 0 && lastLat[slot] === lat && lastLon[slot] === lon) return lastId[slot];
    const country = slot === nameCount ? 0 : countryOfName[slot];
    let byCoords = locationIds.get(country);
    if (byCoords === undefined) {
      byCoords = new Map();
      locationIds.set(country, byCoords);
    }
    const key = (lat + 900_000) * 3_600_001 + (lon + 1_800_000);
    let id = byCoords.get(key);
    if (id === undefined) {
      id = locations.add(lat / 10_000, lon / 10_000, country);
      byCoords.set(key, id);
    }
    lastLat[slot] = lat;
    lastLon[slot] = lon;
    lastId[slot] = id;
    return id;
  };

  const v4Records = v4Size / V4_RECORD;
  const v4Bounds = new Uint32Array(2 * v4Records);
  const v4Locations = new Uint32Array(v4Records);
  let n4 = 0;
  forEachChunk(dir, 'geoip-city.dat', V4_RECORD, (chunk, _first, count) => {
    // DataView reads are big-endian by default and inline in optimized code.
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let k = 0; k < count; k++) {
      const o = k * V4_RECORD;
      const start = view.getUint32(o);
      const end = view.getUint32(o + 4);
      const loc = locate(view.getUint32(o + 8), view.getInt32(o + 12), view.getInt32(o + 16));
      // Merge with the previous range when contiguous and equally located: fewer, wider entries.
      if (n4 > 0 && v4Locations[n4 - 1] === loc && v4Bounds[2 * n4 - 1] + 1 === start) {
        v4Bounds[2 * n4 - 1] = end;
      } else {
        v4Bounds[2 * n4] = start;
        v4Bounds[2 * n4 + 1] = end;
        v4Locations[n4] = loc;
        n4++;
      }
    }
  });

  // geoip-city6.dat is sorted on the upper 64 bits only (geoip-lite compares just those) and has
  // nested or overlapping sub-/64 ranges; normalize to sorted, disjoint, most-specific-wins ranges.
  const v6Records = v6Size / V6_RECORD;
  const rawBounds = new Uint32Array(8 * v6Records);
  const rawLocations = new Uint32Array(v6Records);
  forEachChunk(dir, 'geoip-city6.dat', V6_RECORD, (chunk, first, count) => {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let k = 0; k < count; k++) {
      const o = k * V6_RECORD;
      const r = first + k;
      for (let w = 0; w < 8; w++) rawBounds[8 * r + w] = view.getUint32(o + 4 * w);
      rawLocations[r] = locate(view.getUint32(o + 32), view.getInt32(o + 36), view.getInt32(o + 40));
    }
  });
  const v6 = normalizeV6Columns({ bounds: rawBounds, locations: rawLocations });

  return {
    source: options.source ?? 'static',
    ...locations.columns(),
    v4Bounds: v4Bounds.slice(0, 2 * n4),
    v4Locations: v4Locations.slice(0, n4),
    v6Bounds: v6.bounds,
    v6Locations: v6.locations,
  };
}
