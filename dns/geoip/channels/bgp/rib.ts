/**
 * Adj-RIB-In of one peer (RFC 4271 section 3.2): prefix -> origin AS, AS path, time first seen.
 * Compact: one map from prefix text to a slot, the slot's fields in typed arrays, and AS paths
 * interned and reference-counted (a real table has far fewer distinct paths than routes).
 */

/** One route as the RIB holds it. */
export interface RibRoute {
  readonly originAs: number;
  readonly asPath: readonly number[];
  /** When this origin was first seen for the prefix, ms since the epoch. */
  readonly firstSeenAt: number;
  /** Kept across a graceful restart and not yet refreshed (RFC 4724 section 4.2). */
  readonly stale: boolean;
}

/** What `set` did. */
export type SetResult = 'added' | 'changed' | 'same';

class PathStore {
  private readonly ids = new Map<string, number>();
  private paths: (readonly number[] | undefined)[] = [];
  private keys: (string | undefined)[] = [];
  private refs = new Uint32Array(1024);
  private readonly free: number[] = [];

  intern(key: string, path: readonly number[]): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.paths.length;
      if (id >= this.refs.length) {
        const r = new Uint32Array(this.refs.length * 2);
        r.set(this.refs);
        this.refs = r;
      }
      this.paths[id] = path;
      this.keys[id] = key;
      this.ids.set(key, id);
    }
    this.refs[id]++;
    return id;
  }

  release(id: number): void {
    if (--this.refs[id] === 0) {
      this.ids.delete(this.keys[id]!);
      this.paths[id] = undefined;
      this.keys[id] = undefined;
      this.free.push(id);
    }
  }

  path(id: number): readonly number[] {
    return this.paths[id] ?? [];
  }

  get size(): number {
    return this.ids.size;
  }
}

/** The routes one peer sent, keyed by prefix text (with `#<path id>` under ADD-PATH). */
export class AdjRibIn {
  private readonly index = new Map<string, number>();
  private readonly pathStore = new PathStore();
  private origin = new Uint32Array(1024);
  private pathRef = new Uint32Array(1024);
  // Seconds since the epoch: enough for "first seen" and half the size of milliseconds in a Float64Array.
  private firstSeen = new Uint32Array(1024);
  private staleFlag = new Uint8Array(1024);
  private readonly free: number[] = [];
  private next = 0;
  private staleCount = 0;

  /** Routes held. */
  get size(): number {
    return this.index.size;
  }

  /** Routes still marked stale. */
  get stale(): number {
    return this.staleCount;
  }

  /** Distinct AS paths held. */
  get distinctPaths(): number {
    return this.pathStore.size;
  }

  /** Adds or replaces a route; `pathKey` is a text key of `asPath` computed once per UPDATE. */
  set(key: string, originAs: number, asPath: readonly number[], pathKey: string, now: number): SetResult {
    let slot = this.index.get(key);
    if (slot !== undefined) {
      if (this.staleFlag[slot]) { this.staleFlag[slot] = 0; this.staleCount--; }
      const oldPath = this.pathRef[slot];
      const newPath = this.pathStore.intern(pathKey, asPath);
      this.pathStore.release(oldPath);
      this.pathRef[slot] = newPath;
      if (this.origin[slot] !== originAs) {
        this.origin[slot] = originAs;
        this.firstSeen[slot] = Math.floor(now / 1000);
        return 'changed';
      }
      return newPath === oldPath ? 'same' : 'changed';
    }
    slot = this.free.pop() ?? this.next++;
    if (slot >= this.origin.length) this.grow();
    this.index.set(key, slot);
    this.origin[slot] = originAs;
    this.pathRef[slot] = this.pathStore.intern(pathKey, asPath);
    this.firstSeen[slot] = Math.floor(now / 1000);
    this.staleFlag[slot] = 0;
    return 'added';
  }

  /** Removes a route; false when it was not there. */
  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.index.delete(key);
    this.pathStore.release(this.pathRef[slot]);
    if (this.staleFlag[slot]) { this.staleFlag[slot] = 0; this.staleCount--; }
    this.free.push(slot);
    return true;
  }

  /** The route under `key`, or undefined. */
  get(key: string): RibRoute | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    return {
      originAs: this.origin[slot],
      asPath: this.pathStore.path(this.pathRef[slot]),
      firstSeenAt: this.firstSeen[slot] * 1000,
      stale: this.staleFlag[slot] === 1,
    };
  }

  /** Every key held. */
  keys(): IterableIterator<string> {
    return this.index.keys();
  }

  /** Marks every route stale (the peer went down and is restarting, RFC 4724 section 4.2). */
  markAllStale(): void {
    for (const slot of this.index.values()) this.staleFlag[slot] = 1;
    this.staleCount = this.index.size;
  }

  /** Removes the routes still stale and returns their keys. */
  sweepStale(): string[] {
    const gone: string[] = [];
    for (const [key, slot] of this.index) if (this.staleFlag[slot]) gone.push(key);
    for (const key of gone) this.delete(key);
    return gone;
  }

  /** Removes everything. */
  clear(): void {
    for (const key of [...this.index.keys()]) this.delete(key);
    this.free.length = 0;
    this.next = 0;
  }

  private grow(): void {
    const n = this.origin.length * 2;
    const g = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => { const b = make(n); b.set(a); return b; };
    this.origin = g(this.origin, (k) => new Uint32Array(k));
    this.pathRef = g(this.pathRef, (k) => new Uint32Array(k));
    this.firstSeen = g(this.firstSeen, (k) => new Uint32Array(k));
    this.staleFlag = g(this.staleFlag, (k) => new Uint8Array(k));
  }
}
