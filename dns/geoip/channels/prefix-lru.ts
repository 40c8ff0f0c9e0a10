/**
 * The hot-prefix cache's in-memory index: a bounded map from a prefix key to a location and a
 * last-seen time, kept least recently seen first. Everything lives in typed arrays allocated once
 * at the bound (30 bytes per entry plus 8 per entry of hash slots), so 2,000,000 prefixes cost no
 * objects for the garbage collector to trace; the pages of unused capacity are never touched.
 *
 * A key is two u32 words: IPv4 `(network address of the /24, 1)`, IPv6 `(first word, second word
 * with its low 16 bits clear)` of the /48. The second word tells the families apart: an IPv6 key's
 * is a multiple of 65536, an IPv4 key's is 1.
 */

/** The second key word of every IPv4 key. */
export const V4_KEY_TAG = 1;
// Marks a free entry; never a real second key word (IPv4's is 1, IPv6's has its low 16 bits clear).
const FREE = 0xffffffff;
// A hash slot holds id + 1 in its low 27 bits and the key hash's top 5 bits above them, so that a
// probe past a slot of another key rarely needs to read that key (a cache miss per probe).
const ID_BITS = 27;
const ID_MASK = (1 << ID_BITS) - 1;
/** The largest bound an index may have. */
export const MAX_PREFIX_LRU_CAPACITY = 2 ** 26;

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
  /** First key word of entry `id`. */
  readonly keyA: Uint32Array;
  /** Second key word of entry `id` (`0xffffffff` when the entry is free). */
  readonly keyB: Uint32Array;
  /** Latitude of entry `id`, 1e-7 degree units. */
  readonly latE7: Int32Array;
  /** Longitude of entry `id`, 1e-7 degree units. */
  readonly lonE7: Int32Array;
  /** `packCountry()` code of entry `id`. */
  readonly country: Uint16Array;
  /** Last seen, seconds since the epoch, of entry `id`. */
  readonly seen: Uint32Array;
  /** Entries dropped to make room for new ones, since creation. */
  evictions = 0;

  // Doubly linked list over entry ids, most recently seen at the head; -1 ends it.
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  // Open addressing with linear probing: fingerprint and id + 1 per slot, 0 for empty; at most half full.
  private readonly slots: Uint32Array;
  private readonly mask: number;
  private head = -1;
  private tailId = -1;
  private live = 0;
  // Ids below this have been used; free ones among them are chained through `next`.
  private highWater = 0;
  private freeList = -1;

  /** An empty index for at most `capacity` entries (1 to `MAX_PREFIX_LRU_CAPACITY`). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_PREFIX_LRU_CAPACITY) {
      throw new RangeError(`PrefixLru capacity must be an integer from 1 to ${MAX_PREFIX_LRU_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.keyA = new Uint32Array(capacity);
    this.keyB = new Uint32Array(capacity);
    this.latE7 = new Int32Array(capacity);
    this.lonE7 = new Int32Array(capacity);
    this.country = new Uint16Array(capacity);
    this.seen = new Uint32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    let slots = 16;
    while (slots < 2 * capacity) slots *= 2;
    this.slots = new Uint32Array(slots);
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
    return id >= 0 && id < this.highWater && this.keyB[id] !== FREE;
  }

  /** The entry id of key `(a, b)`, or -1. */
  find(a: number, b: number): number {
    const r = this.probe(a >>> 0, b >>> 0, mixKey(a >>> 0, b >>> 0));
    return r >= 0 ? r : -1;
  }

  /**
   * Records key `(a, b)` as seen at `seenSeconds` with this location, as the most recently seen
   * entry; when the index is full, the least recently seen entry makes room. Returns the entry id.
   */
  upsert(a: number, b: number, latE7: number, lonE7: number, country: number, seenSeconds: number): number {
    a >>>= 0;
    b >>>= 0;
    const h = mixKey(a, b);
    let id = this.probe(a, b, h);
    if (id >= 0) {
      this.unlink(id);
    } else {
      if (this.live === this.capacity) {
        this.remove(this.tailId);
        this.evictions++;
        // The removal may have shifted this key's probe run: find its empty slot again.
        id = this.probe(a, b, h);
      }
      const slot = -1 - id;
      id = this.allocate();
      this.keyA[id] = a;
      this.keyB[id] = b;
      this.slots[slot] = (((h >>> ID_BITS) << ID_BITS) | (id + 1)) >>> 0;
      this.live++;
    }
    this.latE7[id] = latE7;
    this.lonE7[id] = lonE7;
    this.country[id] = country;
    this.seen[id] = seenSeconds;
    this.linkHead(id);
    return id;
  }

  // The id of key (a, b) with hash h, or -1 - (the empty slot where it would go).
  private probe(a: number, b: number, h: number): number {
    const slots = this.slots;
    const fp = h >>> ID_BITS;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const v = slots[s];
      if (v === 0) return -1 - s;
      if (v >>> ID_BITS === fp) {
        const id = (v & ID_MASK) - 1;
        if (this.keyA[id] === a && this.keyB[id] === b) return id;
      }
    }
  }

  /** Removes entry `id` (a live one). */
  remove(id: number): void {
    if (!this.isLive(id)) throw new RangeError(`PrefixLru: entry ${id} is not live`);
    this.deleteSlot(id);
    this.unlink(id);
    this.keyB[id] = FREE;
    this.next[id] = this.freeList;
    this.freeList = id;
    this.live--;
  }

  /** Removes the least recently seen entries last seen before `cutoffSeconds`; returns how many. */
  expireBefore(cutoffSeconds: number): number {
    let n = 0;
    while (this.tailId >= 0 && this.seen[this.tailId] < cutoffSeconds) {
      this.remove(this.tailId);
      n++;
    }
    return n;
  }

  /**
   * The order of the entries now, least recently seen first, as a copy of the list links, so that
   * a writer can walk it in pieces while the index keeps changing (8 bytes per used id).
   */
  order(): LruOrder {
    return { prev: this.prev.slice(0, this.highWater), tail: this.tailId, count: this.live };
  }

  /** Calls `fn(id)` for every entry, least recently seen first. `fn` must not change the index. */
  forEachOldestFirst(fn: (id: number) => void): void {
    for (let id = this.tailId; id >= 0; id = this.prev[id]) fn(id);
  }

  private allocate(): number {
    if (this.freeList >= 0) {
      const id = this.freeList;
      this.freeList = this.next[id];
      return id;
    }
    return this.highWater++;
  }

  private linkHead(id: number): void {
    this.prev[id] = -1;
    this.next[id] = this.head;
    if (this.head >= 0) this.prev[this.head] = id;
    this.head = id;
    if (this.tailId < 0) this.tailId = id;
  }

  private unlink(id: number): void {
    const p = this.prev[id];
    const n = this.next[id];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tailId = p;
  }

  // Backward-shift deletion (Knuth 6.4, algorithm R): later entries of the probe run move up into
  // the hole unless their home slot lies cyclically after it, so no tombstones accumulate.
  private deleteSlot(id: number): void {
    const { slots, mask } = this;
    let i = mixKey(this.keyA[id], this.keyB[id]) & mask;
    while ((slots[i] & ID_MASK) !== id + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = slots[j];
      if (v === 0) break;
      const other = (v & ID_MASK) - 1;
      const home = mixKey(this.keyA[other], this.keyB[other]) & mask;
      // Move v into the hole at i unless home is cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[i] = v;
        i = j;
      }
    }
    slots[i] = 0;
  }
}
