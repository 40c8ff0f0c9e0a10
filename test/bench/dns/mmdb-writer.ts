/**
 * Writes GeoIP table columns as a MaxMind DB (MaxMind DB format spec 2.0), so a server that reads
 * `.mmdb` files (gdnsd's geoip plugin) can serve the very data Meridian's table holds, e.g.
 * geoip-lite's. One IPv6 tree (ip_version 6) with IPv4 under ::/96, as libmaxminddb looks IPv4
 * addresses up; 32-bit records; each record a City-like map with `location.latitude`,
 * `location.longitude` and `country.iso_code`.
 */
import { writeFileSync } from 'node:fs';
import { unpackCountry, type GeoTableData } from '../../../dns/geoip/index';

// Data field types (spec "Output Data Section"); types above 7 are written as extended types.
const T_STRING = 2;
const T_DOUBLE = 3;
const T_UINT16 = 5;
const T_UINT32 = 6;
const T_MAP = 7;
const T_UINT64 = 9;
const T_ARRAY = 11;

const EMPTY = 0xffffffff;
const LEAF = 0x80000000;

/** A value the writer encodes: strings, doubles, unsigned ints (tagged), arrays and maps. */
type Value = string | { readonly double: number } | { readonly uint: number; readonly bits: 16 | 32 | 64 } | readonly Value[] | { readonly [key: string]: Value };

function control(type: number, size: number): Buffer {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) { sizeBits = 29; extra.push(size - 29); }
  else if (size < 285 + 65536) { sizeBits = 30; const v = size - 285; extra.push(v >> 8, v & 255); }
  else { sizeBits = 31; const v = size - 65821; extra.push((v >> 16) & 255, (v >> 8) & 255, v & 255); }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return Buffer.from([...head, ...extra]);
}

function encodeValue(v: Value): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(T_STRING, b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(T_ARRAY, v.length), ...v.map(encodeValue)]);
  const o = v as Record<string, unknown>;
  if (typeof o.double === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(o.double);
    return Buffer.concat([control(T_DOUBLE, 8), b]);
  }
  if (typeof o.uint === 'number') {
    // Unsigned integers are big-endian with leading zero bytes left out.
    const bytes: number[] = [];
    for (let n = o.uint; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    const type = o.bits === 16 ? T_UINT16 : o.bits === 32 ? T_UINT32 : T_UINT64;
    return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
  }
  const entries = Object.entries(v as { readonly [key: string]: Value });
  return Buffer.concat([control(T_MAP, entries.length), ...entries.flatMap(([k, x]) => [encodeValue(k), encodeValue(x)])]);
}

/** A binary trie over 128-bit keys: two 32-bit slots per node, each empty, a child node, or a leaf with a location. */
class Trie {
  slots = new Uint32Array(1 << 22).fill(EMPTY);
  nodes = 1;

  private node(): number {
    if (2 * (this.nodes + 1) > this.slots.length) {
      const bigger = new Uint32Array(this.slots.length * 2).fill(EMPTY);
      bigger.set(this.slots);
      this.slots = bigger;
    }
    return this.nodes++;
  }

  /** The node reached from `from` along `bits` zero bits, made as needed. */
  zeros(from: number, bits: number): number {
    let n = from;
    for (let i = 0; i < bits; i++) {
      const s = 2 * n;
      if (this.slots[s] === EMPTY) this.slots[s] = this.node();
      n = this.slots[s]!;
    }
    return n;
  }

  /** Sets the block of the first `len` bits of `words` (big-endian u32s) under `from` to location `loc`; blocks never overlap. */
  insert(from: number, words: readonly number[], len: number, loc: number): void {
    const bit = (k: number): number => (words[k >> 5]! >>> (31 - (k & 31))) & 1;
    let n = from;
    for (let i = 0; i < len - 1; i++) {
      const s = 2 * n + bit(i);
      let next = this.slots[s]!;
      if (next === EMPTY) { next = this.node(); this.slots[s] = next; }
      if (next & LEAF) throw new Error('overlapping ranges');
      n = next;
    }
    this.slots[2 * n + bit(len - 1)] = LEAF | loc;
  }
}

// Each IPv4 range [start, end] as aligned blocks: (network, length) pairs.
function v4Blocks(start: number, end: number, out: (net: number, len: number) => void): void {
  let s = start;
  while (s <= end) {
    let size = 1;
    while (size < 2 ** 32 && s % (size * 2) === 0 && s + size * 2 - 1 <= end) size *= 2;
    out(s, 32 - Math.log2(size));
    s += size;
  }
}

function v6Blocks(start: bigint, end: bigint, out: (net: bigint, len: number) => void): void {
  let s = start;
  while (s <= end) {
    // The block's host bits: no more than the start's trailing zeros, and it must end by `end`.
    const aligned = s === 0n ? 128 : (s & -s).toString(2).length - 1;
    const fits = (end - s + 1n).toString(2).length - 1;
    const bits = Math.min(aligned, fits);
    out(s, 128 - bits);
    s += 1n << BigInt(bits);
  }
}

function wordsToBig(w: Uint32Array, o: number): bigint {
  return (BigInt(w[o]!) << 96n) | (BigInt(w[o + 1]!) << 64n) | (BigInt(w[o + 2]!) << 32n) | BigInt(w[o + 3]!);
}

/** Writes `data` (sorted, disjoint ranges) to `file` as a MaxMind DB; returns the number of tree nodes. */
export function writeGeoMmdb(data: GeoTableData, file: string, description: string): number {
  const trie = new Trie();
  const v4Root = trie.zeros(0, 96);
  for (let i = 0; i < data.v4Locations.length; i++) {
    const loc = data.v4Locations[i]!;
    v4Blocks(data.v4Bounds[2 * i]!, data.v4Bounds[2 * i + 1]!, (net, len) => {
      if (len === 0) throw new Error('a range covers all of IPv4');
      trie.insert(v4Root, [net], len, loc);
    });
  }
  for (let i = 0; i < data.v6Locations.length; i++) {
    const loc = data.v6Locations[i]!;
    const start = wordsToBig(data.v6Bounds, 8 * i);
    const end = wordsToBig(data.v6Bounds, 8 * i + 4);
    // ::/96 holds IPv4; IPv6 ranges inside it (the IPv4-compatible block) would shadow it.
    if (start >> 32n === 0n) continue;
    v6Blocks(start, end, (net, len) => {
      const words = [Number((net >> 96n) & 0xffffffffn), Number((net >> 64n) & 0xffffffffn), Number((net >> 32n) & 0xffffffffn), Number(net & 0xffffffffn)];
      trie.insert(0, words, len, loc);
    });
  }
  // Data section: one record per location used.
  const used = new Uint8Array(data.locationLat.length);
  for (const loc of data.v4Locations) used[loc] = 1;
  for (const loc of data.v6Locations) used[loc] = 1;
  const offsets = new Uint32Array(used.length);
  const records: Buffer[] = [];
  let size = 0;
  for (let loc = 0; loc < used.length; loc++) {
    if (!used[loc]) continue;
    const country = unpackCountry(data.locationCountry[loc]!);
    const record: Record<string, Value> = { location: { latitude: { double: data.locationLat[loc]! }, longitude: { double: data.locationLon[loc]! } } };
    if (country) record.country = { iso_code: country };
    const b = encodeValue(record);
    offsets[loc] = size;
    records.push(b);
    size += b.length;
  }
  const n = trie.nodes;
  // Record values: a node number, n for "no data", or n + 16 + the data offset (spec "Search Tree Section").
  const tree = Buffer.alloc(8 * n);
  const view = new DataView(tree.buffer, tree.byteOffset, tree.byteLength);
  for (let i = 0; i < 2 * n; i++) {
    const v = trie.slots[i]!;
    view.setUint32(4 * i, v === EMPTY ? n : v >= LEAF ? n + 16 + offsets[v - LEAF]! : v);
  }
  const metadata = encodeValue({
    node_count: { uint: n, bits: 32 }, record_size: { uint: 32, bits: 16 }, ip_version: { uint: 6, bits: 16 },
    database_type: 'GeoLite2-City', languages: ['en'], binary_format_major_version: { uint: 2, bits: 16 },
    binary_format_minor_version: { uint: 0, bits: 16 }, build_epoch: { uint: Math.floor(Date.now() / 1000), bits: 64 },
    description: { en: description },
  });
  writeFileSync(file, Buffer.concat([tree, Buffer.alloc(16), ...records, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]));
  return n;
}
