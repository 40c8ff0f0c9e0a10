/**
 * The hot-prefix cache's in-memory index: a bounded map from a prefix key to a location and a
 * last-seen time, kept least recently seen first. Everything lives in two typed arrays allocated
 * once at the bound, so 2,000,000 prefixes cost no objects for the garbage collector to trace and
 * the pages of unused capacity are never touched:
 *
 * - entries: 8 words (32 bytes) per entry, every field of an entry side by side (key, location,
 *   last seen, recency links), so that evicting or refreshing one touches one cache line, not one
 *   per field;
 * - hash slots: open addressing with linear probing, at most half full, 2 words per slot (the
 *   key's 32-bit hash and the entry id + 1), so that a probe past another key, and the backward
 *   shift after a deletion, read only the slots and never another entry.
 *
 * A key is two u32 words: IPv4 `(network address of the /24, 1)`, IPv6 `(first word, second word
 * with its low 16 bits clear)` of the /48. The second word tells the families apart: an IPv6 key's
 * is a multiple of 65536, an IPv4 key's is 1.
 */

/** The second key word of every IPv4 key. */
export const V4_KEY_TAG = 1;
/** The largest bound an index may have. */
export const MAX_PREFIX_LRU_CAPACITY = 2 ** 26;

// Words of an entry. Keys and the last-seen time are u32 kept as int32 (read back with >>> 0).
const STRIDE = 8;
const KEY_A = 0;
const KEY_B = 1;
const LAT = 2;
const LON = 3;
const SEEN = 4;
const COUNTRY = 5;
const PREV = 6;
const NEXT = 7;
// Marks a free entry's second key word (0xffffffff as int32): never a real one (IPv4's is 1,
// IPv6's has its low 16 bits clear).
const FREE = -1;
// Keys per group of `upsertMany`: about as many reads as a core keeps in flight at once.
const READ_AHEAD = 16;

/** 32-bit mix of a two-word key (murmur3's finalizer over the words combined). */
export function mixKey(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h >>> 0;
}

/** An order of the entries frozen at one moment: walk `prev` from `tail` for `count` steps. */
export interface LruOrder {
  readonly prev: Int32Array;
  readonly tail: number;
  readonly count: number;
}

/** A bounded least-recently-seen index of prefix keys to locations. */
export class PrefixLru {
  /** The bound: at most this many entries. */
  readonly capacity: number;
  /** Entries dropped to make room for new ones, since creation. */
  evictions = 0;
  /** What `upsertMany`'s reads ahead loaded, folded: meaningless, kept so the compiler keeps those reads. */
  readAheadSink = 0;

  private readonly entries: Int32Array;
  private readonly slots: Int32Array;
  // Slot count - 1 (a power of two, at least twice the capacity).
  private readonly mask: number;
  // Doubly linked list over entry ids through PREV/NEXT, most recently seen at the head; -1 ends it.
  private head = -1;
  private tailId = -1;
  private live = 0;
  // Ids below this have been used; free ones among them are chained through NEXT.
  private highWater = 0;
  private freeList = -1;

  /** An empty index for at most `capacity` entries (1 to `MAX_PREFIX_LRU_CAPACITY`). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_PREFIX_LRU_CAPACITY) {
      throw new RangeError(`PrefixLru capacity must be an integer from 1 to ${MAX_PREFIX_LRU_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.entries = new Int32Array(capacity * STRIDE);
    let slots = 16;
    while (slots < 2 * capacity) slots *= 2;
    this.slots = new Int32Array(2 * slots);
    this.mask = slots - 1;
  }

  /** Entries held. */
  get count(): number {
    return this.live;
  }

  /** The least recently seen entry's id, -1 when empty. */
  get tail(): number {
    return this.tailId;
  }

  /** Ids below this may be live; iterate `0..idLimit` and test `isLive`. */
  get idLimit(): number {
    return this.highWater;
  }

  /** True when `id` holds an entry. */
  isLive(id: number): boolean {
    return id >= 0 && id < this.highWater && this.entries[id * STRIDE + KEY_B] !== FREE;
  }

  /** First key word (u32) of live entry `id`. */
  keyA(id: number): number {
    return this.entries[id * STRIDE + KEY_A]! >>> 0;
  }

  /** Second key word (u32) of live entry `id`: `V4_KEY_TAG` for IPv4. */
  keyB(id: number): number {
    return this.entries[id * STRIDE + KEY_B]! >>> 0;
  }

  /** Latitude of live entry `id`, 1e-7 degree units. */
  latE7(id: number): number {
    return this.entries[id * STRIDE + LAT]!;
  }

  /** Longitude of live entry `id`, 1e-7 degree units. */
  lonE7(id: number): number {
    return this.entries[id * STRIDE + LON]!;
  }

  /** `packCountry()` code of live entry `id`. */
  country(id: number): number {
    return this.entries[id * STRIDE + COUNTRY]!;
  }

  /** Last seen, seconds since the epoch, of live entry `id`. */
  seen(id: number): number {
    return this.entries[id * STRIDE + SEEN]! >>> 0;
  }

  /** The entry id of key `(a, b)`, or -1. */
  find(a: number, b: number): number {
    const r = this.probe(a, b, mixKey(a, b));
    return r >= 0 ? r : -1;
  }

  /**
   * Records key `(a, b)` as seen at `seenSeconds` with this location, as the most recently seen
   * entry; when the index is full, the least recently seen entry makes room. Returns the entry id.
   */
  upsert(a: number, b: number, latE7: number, lonE7: number, country: number, seenSeconds: number): number {
    const e = this.entries;
    const h = mixKey(a, b);
    let id = this.probe(a, b, h);
    if (id >= 0) {
      this.unlink(id);
    } else {
      if (this.live === this.capacity) {
        this.removeLive(this.tailId);
        this.evictions++;
        // The removal may have shifted this key's probe run: find its empty slot again.
        id = this.probe(a, b, h);
      }
      const slot = -1 - id;
      id = this.allocate();
      const o = id * STRIDE;
      e[o + KEY_A] = a;
      e[o + KEY_B] = b;
      this.slots[2 * slot] = h;
      this.slots[2 * slot + 1] = id + 1;
      this.live++;
    }
    const o = id * STRIDE;
    e[o + LAT] = latE7;
    e[o + LON] = lonE7;
    e[o + SEEN] = seenSeconds;
    e[o + COUNTRY] = country & 0xffff;
    this.linkHead(id);
    return id;
  }

  /**
   * `upsert` of `n` keys from columns (`a[i]`, `b[i]`, `latE7[i]`, `lonE7[i]`, `country[i]`), all
   * seen at `seenSeconds`, in order: the same result as `n` calls. Keys go in groups whose
   * memory is read ahead first, independent reads the processor overlaps: each key's hash slot,
   * and, when the index is full, the entries about to be evicted and their slots. Each of those
   * reads otherwise misses the processor's caches one after another (the index spans ~100 MiB).
   */
  upsertMany(a: Uint32Array, b: Uint32Array, latE7: Int32Array, lonE7: Int32Array, country: Uint16Array, n: number, seenSeconds: number): void {
    const e = this.entries;
    const slots = this.slots;
    const mask = this.mask;
    let sink = 0;
    for (let first = 0; first < n; first += READ_AHEAD) {
      const end = Math.min(n, first + READ_AHEAD);
      for (let i = first; i < end; i++) sink ^= slots[2 * (mixKey(a[i]!, b[i]!) & mask) + 1]!;
      // The least recently seen entries, in eviction order: a chain of dependent reads, each
      // overlapped with the previous one's slot read.
      if (this.live + (end - first) > this.capacity) {
        for (let k = first, t = this.tailId; k < end && t >= 0; k++) {
          const o = t * STRIDE;
          sink ^= slots[2 * (mixKey(e[o + KEY_A]!, e[o + KEY_B]!) & mask) + 1]!;
          t = e[o + PREV]!;
        }
      }
      for (let i = first; i < end; i++) this.upsert(a[i]!, b[i]!, latE7[i]!, lonE7[i]!, country[i]!, seenSeconds);
    }
    // Kept so that the compiler does not drop the reads ahead as unused.
    this.readAheadSink = sink;
  }

  // The id of key (a, b) with hash h, or -1 - (the empty slot where it would go).
  private probe(a: number, b: number, h: number): number {
    const slots = this.slots;
    const e = this.entries;
    const mask = this.mask;
    const hi = h | 0;
    const ai = a | 0;
    const bi = b | 0;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = slots[2 * s + 1]!;
      if (v === 0) return -1 - s;
      if (slots[2 * s] === hi) {
        const o = (v - 1) * STRIDE;
        if (e[o + KEY_A] === ai && e[o + KEY_B] === bi) return v - 1;
      }
    }
  }

  /** Removes entry `id` (a live one). */
  remove(id: number): void {
    if (!this.isLive(id)) throw new RangeError(`PrefixLru: entry ${id} is not live`);
    this.removeLive(id);
  }

  /** Removes the least recently seen entries last seen before `cutoffSeconds`; returns how many. */
  expireBefore(cutoffSeconds: number): number {
    let n = 0;
    while (this.tailId >= 0 && this.seen(this.tailId) < cutoffSeconds) {
      this.removeLive(this.tailId);
      n++;
    }
    return n;
  }

  /**
   * The order of the entries now, least recently seen first, as a copy of the list links, so that
   * a writer can walk it in pieces while the index keeps changing (4 bytes per used id).
   */
  order(): LruOrder {
    const n = this.highWater;
    const e = this.entries;
    const prev = new Int32Array(n);
    for (let id = 0, o = PREV; id < n; id++, o += STRIDE) prev[id] = e[o]!;
    return { prev, tail: this.tailId, count: this.live };
  }

  /** Calls `fn(id)` for every entry, least recently seen first. `fn` must not change the index. */
  forEachOldestFirst(fn: (id: number) => void): void {
    const e = this.entries;
    for (let id = this.tailId; id >= 0; id = e[id * STRIDE + PREV]!) fn(id);
  }

  private removeLive(id: number): void {
    this.deleteSlot(id);
    this.unlink(id);
    const o = id * STRIDE;
    this.entries[o + KEY_B] = FREE;
    this.entries[o + NEXT] = this.freeList;
    this.freeList = id;
    this.live--;
  }

  private allocate(): number {
    if (this.freeList >= 0) {
      const id = this.freeList;
      this.freeList = this.entries[id * STRIDE + NEXT]!;
      return id;
    }
    return this.highWater++;
  }

  private linkHead(id: number): void {
    const e = this.entries;
    const o = id * STRIDE;
    e[o + PREV] = -1;
    e[o + NEXT] = this.head;
    if (this.head >= 0) e[this.head * STRIDE + PREV] = id;
    this.head = id;
    if (this.tailId < 0) this.tailId = id;
  }

  private unlink(id: number): void {
    const e = this.entries;
    const o = id * STRIDE;
    const p = e[o + PREV]!;
    const n = e[o + NEXT]!;
    if (p >= 0) e[p * STRIDE + NEXT] = n;
    else this.head = n;
    if (n >= 0) e[n * STRIDE + PREV] = p;
    else this.tailId = p;
  }

  // Backward-shift deletion (Knuth 6.4, algorithm R): later entries of the probe run move up into
  // the hole unless their home slot lies cyclically after it, so no tombstones accumulate. Homes
  // come from the hashes kept in the slots: no other entry is read.
  private deleteSlot(id: number): void {
    const { slots, mask } = this;
    const o = id * STRIDE;
    const tag = id + 1;
    let i = mixKey(this.entries[o + KEY_A]!, this.entries[o + KEY_B]!) & mask;
    while (slots[2 * i + 1] !== tag) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = slots[2 * j + 1]!;
      if (v === 0) break;
      const hj = slots[2 * j]!;
      const home = hj & mask;
      // Move slot j into the hole at i unless its home is cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[2 * i] = hj;
        slots[2 * i + 1] = v;
        i = j;
      }
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = 0;
  }
}
