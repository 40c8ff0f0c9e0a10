/**
 * MaxMind DB (`.mmdb`: GeoLite2/GeoIP2 City, DB-IP, IPinfo) to table columns. mmdb-lib reads and
 * checks the metadata; its reader answers one address at a time and cannot list networks, so the search
 * tree is walked here (MaxMind DB format spec 2.0, "Search Tree Section") in address order, which
 * yields sorted, disjoint ranges directly.
 */
import { Reader, type CityResponse } from 'mmdb-lib';
import { GeoIpError, packCountry, type GeoTableData } from '../../index';

/** The fields of a City-like record the table needs. */
interface CityFields {
  latitude?: number;
  longitude?: number;
  country?: string;
  registeredCountry?: string;
}

// Data field types (MaxMind DB format spec 2.0, "Output Data Section").
const T_POINTER = 1;
const T_STRING = 2;
const T_DOUBLE = 3;
const T_MAP = 7;
const T_ARRAY = 11;
const T_BOOLEAN = 14;

/**
 * Reads only the fields a table needs from data records: mmdb-lib decodes whole records (names
 * in every language, subdivisions), which for the hundreds of thousands of distinct records of a
 * City database costs more than the whole tree walk. Bounds-checked: throws `GeoIpError`.
 */
class DataSection {
  constructor(private readonly db: Buffer, private readonly base: number) {}

  private need(o: number, n: number): void {
    if (o < 0 || o + n > this.db.length) throw new GeoIpError('GEOIP_BAD_DATA', `MaxMind DB data record at ${o} runs past the file`);
  }

  // The field at `o`: its type, size and payload offset, through one pointer; `next` is after the field at `o`.
  private field(o: number, follow = true): { type: number; size: number; payload: number; next: number } {
    this.need(o, 1);
    const ctrl = this.db[o]!;
    let type = ctrl >> 5;
    let p = o + 1;
    if (type === T_POINTER) {
      const ss = (ctrl >> 3) & 3;
      this.need(p, ss + 1);
      const v = ctrl & 7;
      let target: number;
      if (ss === 0) target = (v << 8) | this.db[p]!;
      else if (ss === 1) target = ((v << 16) | this.db.readUInt16BE(p)) + 2048;
      else if (ss === 2) target = (v * 0x1000000 + this.db.readUIntBE(p, 3)) + 526_336;
      else target = this.db.readUInt32BE(p);
      const next = p + ss + 1;
      if (!follow) return { type: T_POINTER, size: 0, payload: next, next };
      const f = this.field(this.base + target, false);
      if (f.type === T_POINTER) throw new GeoIpError('GEOIP_BAD_DATA', `MaxMind DB pointer at ${o} points to a pointer`);
      return { ...f, next };
    }
    if (type === 0) {
      this.need(p, 1);
      type = 7 + this.db[p]!;
      p++;
    }
    let size = ctrl & 0x1f;
    if (size >= 29) {
      const extra = size - 28;
      this.need(p, extra);
      const n = this.db.readUIntBE(p, extra);
      size = size === 29 ? 29 + n : size === 30 ? 285 + n : 65_821 + n;
      p += extra;
    }
    // Containers' ends are found by `skip` only when needed: most lookups stop inside them.
    const next = type === T_MAP || type === T_ARRAY || type === T_BOOLEAN ? p : p + size;
    if (next > p) this.need(p, size);
    return { type, size, payload: p, next };
  }

  // The offset just after the field at `o` (a pointer counts as its own bytes).
  private skip(o: number): number {
    const f = this.field(o, false);
    if (f.type === T_POINTER || f.type === T_BOOLEAN) return f.next;
    if (f.type !== T_MAP && f.type !== T_ARRAY) return f.next;
    let p = f.payload;
    for (let i = 0; i < (f.type === T_MAP ? 2 * f.size : f.size); i++) p = this.skip(p);
    return p;
  }

  private string(o: number): string | undefined {
    const f = this.field(o);
    return f.type === T_STRING ? this.db.toString('utf8', f.payload, f.payload + f.size) : undefined;
  }

  // Calls `each(key, valueOffset)` for the entries of the map at `o`.
  private entries(o: number, each: (key: string | undefined, value: number) => void): void {
    const f = this.field(o);
    if (f.type !== T_MAP) return;
    let p = f.payload;
    for (let i = 0; i < f.size; i++) {
      const key = this.string(p);
      const valueAt = this.skip(p);
      each(key, valueAt);
      p = this.skip(valueAt);
    }
  }

  private double(o: number): number | undefined {
    const f = this.field(o);
    return f.type === T_DOUBLE && f.size === 8 ? this.db.readDoubleBE(f.payload) : undefined;
  }

  /** location.latitude/longitude, country.iso_code and registered_country.iso_code of the record at `offset`. */
  cityFields(offset: number): CityFields {
    const out: CityFields = {};
    this.entries(this.base + offset, (key, at) => {
      if (key === 'location') {
        this.entries(at, (k, v) => {
          if (k === 'latitude') out.latitude = this.double(v);
          else if (k === 'longitude') out.longitude = this.double(v);
        });
      } else if (key === 'country' || key === 'registered_country') {
        this.entries(at, (k, v) => {
          if (k !== 'iso_code') return;
          if (key === 'country') out.country = this.string(v);
          else out.registeredCountry = this.string(v);
        });
      }
    });
    return out;
  }
}

/** Reads a MaxMind DB with City-like records into table columns (source `dataset`); ranges without coordinates are left out. Throws `GeoIpError`. */
export function readMmdb(db: Buffer): GeoTableData {
  let reader: Reader<CityResponse>;
  try {
    reader = new Reader<CityResponse>(db);
  } catch (err) {
    throw new GeoIpError('GEOIP_BAD_DATA', `not a MaxMind DB: ${(err as Error).message}`, { cause: err });
  }
  const { nodeCount, recordSize, ipVersion } = reader.metadata;
  const nodeBytes = recordSize / 4;
  if (![24, 28, 32].includes(recordSize)) throw new GeoIpError('GEOIP_BAD_DATA', `MaxMind DB record size ${recordSize} is not 24, 28 or 32`);
  if (nodeCount * nodeBytes > db.length) throw new GeoIpError('GEOIP_BAD_DATA', `MaxMind DB search tree (${nodeCount} nodes) runs past the file`);
  const record = (node: number, right: number): number => {
    const o = node * nodeBytes;
    if (recordSize === 24) return right ? db.readUIntBE(o + 3, 3) : db.readUIntBE(o, 3);
    if (recordSize === 32) return right ? db.readUInt32BE(o + 4) : db.readUInt32BE(o);
    // 28-bit records: the middle octet's high nibble belongs to the left record, its low one to the right.
    return right ? ((db[o + 3]! & 0x0f) * 0x1000000) + db.readUIntBE(o + 4, 3) : ((db[o + 3]! >> 4) * 0x1000000) + db.readUIntBE(o, 3);
  };

  const locIds = new Map<string, number>();
  const lat: number[] = [];
  const lon: number[] = [];
  const country: number[] = [];
  const byPointer = new Map<number, number>();
  const data = new DataSection(db, nodeCount * nodeBytes + 16);
  const locate = (value: number): number => {
    let id = byPointer.get(value);
    if (id !== undefined) return id;
    // A data record value is the node count plus 16 plus the record's offset in the data section.
    const rec = data.cityFields(value - nodeCount - 16);
    const la = rec.latitude;
    const lo = rec.longitude;
    const cc = rec.country ?? rec.registeredCountry ?? '';
    if (la === undefined || lo === undefined || !(la >= -90 && la <= 90 && lo >= -180 && lo <= 180)) {
      id = -1;
    } else {
      const c = /^[A-Z]{2}$/.test(cc) ? cc : '';
      const key = `${c},${la},${lo}`;
      id = locIds.get(key);
      if (id === undefined) {
        id = lat.length;
        locIds.set(key, id);
        lat.push(la);
        lon.push(lo);
        country.push(packCountry(c));
      }
    }
    byPointer.set(value, id);
    return id;
  };

  // IPv4 lives at ::/96 of an IPv6 tree; ::ffff:0:0/96 and 2002::/16 are aliases of that subtree.
  // It becomes the IPv4 ranges only: the table answers ::ffff:0:0/96 from them, while copies at
  // ::/96 (IPv4-compatible, deprecated by RFC 4291 §2.5.5.1) and 2002::/16 would double the size.
  let v4Root = 0;
  if (ipVersion === 6) for (let i = 0; i < 96 && v4Root < nodeCount; i++) v4Root = record(v4Root, 0);

  const v4: number[] = [];
  const v4Loc: number[] = [];
  walk(v4Root, 32, (start, bits, value) => {
    const s = Number(start);
    const e = s + 2 ** (32 - bits) - 1;
    const id = locate(value);
    if (id < 0) return;
    const n = v4Loc.length;
    if (n > 0 && v4Loc[n - 1] === id && v4[2 * n - 1]! + 1 === s) v4[2 * n - 1] = e;
    else { v4.push(s, e); v4Loc.push(id); }
  }, -1);

  const v6: number[] = [];
  const v6Loc: number[] = [];
  if (ipVersion === 6) {
    let prevEnd = -1n;
    walk(0, 128, (start, bits, value) => {
      const end = start + (1n << BigInt(128 - bits)) - 1n;
      const id = locate(value);
      if (id < 0) return;
      const n = v6Loc.length;
      if (n > 0 && v6Loc[n - 1] === id && prevEnd + 1n === start) {
        const w = words(end);
        for (let k = 0; k < 4; k++) v6[8 * n - 4 + k] = w[k]!;
      } else {
        v6.push(...words(start), ...words(end));
        v6Loc.push(id);
      }
      prevEnd = end;
    }, v4Root);
  }

  // Walks the subtree at `root` (covering `depth` address bits) in address order, calling `leaf`
  // with each network's first address, prefix length and data record value; never enters `skip`.
  function walk(root: number, depth: number, leaf: (start: bigint, bits: number, value: number) => void, skip: number): void {
    if (root >= nodeCount) return;
    const stack: Array<[number, number, bigint]> = [[root, 0, 0n]];
    while (stack.length > 0) {
      const [value, bits, start] = stack.pop()!;
      if (value > nodeCount) { leaf(start, bits, value); continue; }
      if (bits > 0 && value === skip) continue;
      if (bits >= depth) throw new GeoIpError('GEOIP_BAD_DATA', 'MaxMind DB search tree is deeper than the address');
      // Right pushed first so that the left (lower addresses) is popped first.
      const right = record(value, 1);
      const left = record(value, 0);
      if (right !== nodeCount) stack.push([right, bits + 1, start | (1n << BigInt(depth - bits - 1))]);
      if (left !== nodeCount) stack.push([left, bits + 1, start]);
    }
  }

  return {
    source: 'dataset',
    locationLat: Float64Array.from(lat), locationLon: Float64Array.from(lon), locationCountry: Uint16Array.from(country),
    v4Bounds: Uint32Array.from(v4), v4Locations: Uint32Array.from(v4Loc), v6Bounds: Uint32Array.from(v6), v6Locations: Uint32Array.from(v6Loc),
  };
}

function words(v: bigint): [number, number, number, number] {
  return [Number((v >> 96n) & 0xffffffffn), Number((v >> 64n) & 0xffffffffn), Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
}
