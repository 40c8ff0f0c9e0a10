/**
 * MaxMind DB (`.mmdb`: GeoLite2/GeoIP2 City, DB-IP, IPinfo) to table columns. mmdb-lib decodes the
 * data records; its reader answers one address at a time and cannot list networks, so the search
 * tree is walked here (MaxMind DB format spec 2.0, "Search Tree Section") in address order, which
 * yields sorted, disjoint ranges directly.
 */
import { Reader, type CityResponse } from 'mmdb-lib';
import { GeoIpError, formatIpv4, formatIpv6, packCountry, type GeoTableData } from '../../index';

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
  const locate = (pointer: number, firstAddress: string): number => {
    let id = byPointer.get(pointer);
    if (id !== undefined) return id;
    const rec = reader.get(firstAddress);
    const la = rec?.location?.latitude;
    const lo = rec?.location?.longitude;
    const cc = rec?.country?.iso_code ?? rec?.registered_country?.iso_code ?? '';
    if (typeof la !== 'number' || typeof lo !== 'number' || !(la >= -90 && la <= 90 && lo >= -180 && lo <= 180)) {
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
    byPointer.set(pointer, id);
    return id;
  };

  // IPv4 lives at ::/96 of an IPv6 tree; ::ffff:0:0/96 and 2002::/16 are aliases of that subtree.
  let v4Root = 0;
  if (ipVersion === 6) for (let i = 0; i < 96 && v4Root < nodeCount; i++) v4Root = record(v4Root, 0);

  const v4: number[] = [];
  const v4Loc: number[] = [];
  walk(v4Root, 32, (start, bits, value) => {
    const s = Number(start);
    const e = s + 2 ** (32 - bits) - 1;
    const id = locate(value, formatIpv4(s));
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
      const id = locate(value, formatIpv6(words(start)));
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
