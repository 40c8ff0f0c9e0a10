/**
 * Decision runs shared by every workload that has the same region set: per (region set, family),
 * the whole IPv4 space as sorted runs of equal decisions, built for one GeoIP table at a time.
 * Memory grows with the number of distinct region sets, not with workloads times table ranges.
 *
 * Runs are built off the query path in slices of a few milliseconds (`RunsBuilder`), so neither a
 * table swap nor a new region set ever stalls answering; until the runs for the table in force are
 * built, `locate.ts` answers from the table's ranges directly (the same decisions, with the ECS
 * scope of one range instead of the merged run).
 */
import { type GeoTable, NO_PROVENANCE } from '../geoip';
import type { Family, RegionChooser } from './select';

/**
 * Per family: every IPv4 address mapped to a decision, as sorted runs of equal decisions over the
 * whole IPv4 space (gaps in the table count as "unknown location"). Adjacent table entries with the
 * same decision and the same provenance (layer and channel) are merged, which gives the
 * gdnsd-style widest ECS scope while each answer still knows what decided it. Runs are contiguous:
 * each run starts right after the previous one ends (run 0 at 0) and the last one ends at 255.255.255.255.
 */
export interface DecisionRuns {
  readonly table: GeoTable;
  /** Number of runs. */
  readonly count: number;
  /**
   * Two words per run, side by side so that one cache line serves the search and the answer: the
   * last address (u32, inclusive) at `2r`, and at `2r + 1` the decision + 2 (bits 0-15) and the
   * provenance code (`NO_PROVENANCE` for gaps, bits 16-23). Read them with `runEnd`,
   * `runDecision` and `runProvenance`.
   */
  readonly cells: Uint32Array;
  /** Bucket index over the top `RUN_INDEX_BITS` bits: `index[b]` = first run ending at or after bucket b's first address. */
  readonly index: Uint32Array;
}

/** Bits of the address the run index buckets by (256 KiB of index per runs). */
export const RUN_INDEX_BITS = 16;
const RUN_INDEX_SHIFT = 32 - RUN_INDEX_BITS;

/** First address of run `r`. */
export function runStart(runs: DecisionRuns, r: number): number {
  return r === 0 ? 0 : runs.cells[2 * r - 2]! + 1;
}

/** Last address (inclusive) of run `r`. */
export function runEnd(runs: DecisionRuns, r: number): number {
  return runs.cells[2 * r]!;
}

/** Decision of run `r`. */
export function runDecision(runs: DecisionRuns, r: number): number {
  return (runs.cells[2 * r + 1]! & 0xffff) - 2;
}

/** Provenance code of run `r`. */
export function runProvenance(runs: DecisionRuns, r: number): number {
  return runs.cells[2 * r + 1]! >>> 16;
}

/** Index of the run holding IPv4 `ip` (u32). Allocation-free: one index read and a short search. */
export function runIndex(runs: DecisionRuns, ip: number): number {
  const a = ip >>> 0;
  const cells = runs.cells;
  const b = a >>> RUN_INDEX_SHIFT;
  // Invariant: the first run whose end >= a lies in [lo, hi].
  let lo = runs.index[b]!;
  let hi = runs.index[b + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cells[2 * mid]! < a) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Growable cells of runs under construction.
class RunColumns {
  cells = new Uint32Array(2048);
  count = 0;

  push(end: number, decision: number, provenance: number): void {
    if (2 * this.count === this.cells.length) {
      const grown = new Uint32Array(2 * this.cells.length);
      grown.set(this.cells);
      this.cells = grown;
    }
    const n = this.count++;
    this.cells[2 * n] = end;
    this.cells[2 * n + 1] = ((decision + 2) | (provenance << 16)) >>> 0;
  }
}

const NOT_COMPUTED = -32768;

/**
 * One build of the runs of `chooser` over `table`, advanced a slice of ranges at a time
 * (`step`). Pure computation over the table's columns: nothing is shared until `finish`.
 */
export class RunsBuild {
  private next = 0;
  private cursor = 0;
  private runStart = 0;
  private runEnd = -1;
  private runDecision: number;
  private runProv = NO_PROVENANCE;
  private readonly out = new RunColumns();
  // Decision per location id, for this build only (dropped with it).
  private readonly byLocation: Int16Array;

  constructor(readonly chooser: RegionChooser, readonly table: GeoTable) {
    this.runDecision = chooser.unknown;
    this.byLocation = new Int16Array(table.locationCount).fill(NOT_COMPUTED);
  }

  /** True once every range has been taken in. */
  get done(): boolean {
    return this.next >= this.table.v4Count;
  }

  /** Takes in up to `ranges` more table ranges. */
  step(ranges: number): void {
    const t = this.table;
    const chooser = this.chooser;
    const unknown = chooser.unknown;
    const byLoc = this.byLocation;
    // The table keeps coordinates as typed columns: scanning them beats touching location objects.
    const lat = t.columns.locationLat;
    const lon = t.columns.locationLon;
    const end = Math.min(t.v4Count, this.next + ranges);
    for (let i = this.next; i < end; i++) {
      const s = t.v4RangeStart(i);
      const e = t.v4RangeEnd(i);
      const id = t.locationIdOfV4(i);
      const p = t.provenanceOfV4(i);
      let d = byLoc[id]!;
      if (d === NOT_COMPUTED) {
        d = chooser.choose(lat[id]!, lon[id]!);
        byLoc[id] = d;
      }
      // A gap before this range is "unknown location".
      if (s > this.cursor) {
        if (this.runDecision !== unknown || this.runProv !== NO_PROVENANCE) {
          this.emit();
          this.runStart = this.cursor;
          this.runDecision = unknown;
          this.runProv = NO_PROVENANCE;
        }
        this.runEnd = s - 1;
      }
      if (d !== this.runDecision || p !== this.runProv) {
        this.emit();
        this.runStart = s;
        this.runDecision = d;
        this.runProv = p;
      }
      this.runEnd = e;
      this.cursor = e + 1;
    }
    this.next = end;
  }

  /** The runs, once `done`. */
  finish(): DecisionRuns {
    if (this.cursor <= 0xffffffff) {
      if (this.runDecision !== this.chooser.unknown || this.runProv !== NO_PROVENANCE) {
        this.emit();
        this.runStart = this.cursor;
        this.runDecision = this.chooser.unknown;
        this.runProv = NO_PROVENANCE;
      }
      this.runEnd = 0xffffffff;
    }
    const o = this.out;
    o.push(this.runEnd, this.runDecision, this.runProv);
    const count = o.count;
    const cells = o.cells.slice(0, 2 * count);
    const buckets = 2 ** RUN_INDEX_BITS;
    const index = new Uint32Array(buckets + 1);
    let r = 0;
    for (let b = 0; b < buckets; b++) {
      const first = b * 2 ** RUN_INDEX_SHIFT;
      while (cells[2 * r]! < first) r++;
      index[b] = r;
    }
    index[buckets] = count - 1;
    return { table: this.table, count, cells, index };
  }

  private emit(): void {
    if (this.runEnd >= this.runStart) this.out.push(this.runEnd, this.runDecision, this.runProv);
  }
}

/** Builds runs in slices between queries; one queue for every region set of a server. */
export class RunsBuilder {
  /** Table ranges taken in per slice (a few ms of work). */
  static readonly SLICE_RANGES = 65_536;
  private readonly queue: SharedDecisions[] = [];
  private scheduled = false;
  private readonly tick = (): void => { this.scheduled = false; this.runSlice(); };

  /** Queues `d` for a build (once). */
  enqueue(d: SharedDecisions): void {
    if (!this.queue.includes(d)) this.queue.push(d);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
  }

  /** Region sets waiting for or in a build. */
  get pending(): number {
    return this.queue.length;
  }

  private runSlice(): void {
    const d = this.queue[0];
    if (d === undefined) return;
    if (d.advance(RunsBuilder.SLICE_RANGES)) this.queue.shift();
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
  }
}

/**
 * The decision structures of one (region set, family): its chooser and its runs. Shared by every
 * workload whose region set gives the same `key` and reference-counted by `DecisionRegistry`.
 */
export class SharedDecisions {
  /** Workloads holding this. */
  refs = 0;
  /** The runs of the newest table built, or undefined before the first build. */
  private runs: DecisionRuns | undefined;
  private build: RunsBuild | undefined;
  private released = false;

  constructor(readonly key: string, readonly family: Family, readonly chooser: RegionChooser, private readonly builder: RunsBuilder) {}

  /**
   * The runs for `table` when built; otherwise undefined, and a build for `table` is queued.
   * Hot path: a reference compare, allocation-free but for the rare queueing.
   */
  runsFor(table: GeoTable): DecisionRuns | undefined {
    const r = this.runs;
    if (r !== undefined && r.table === table) return r;
    if (this.build === undefined || this.build.table !== table) this.request(table);
    return undefined;
  }

  /** The runs for `table`, built now in one go (admin and tests; the query path uses `runsFor`). */
  runsNow(table: GeoTable): DecisionRuns {
    const r = this.runs;
    if (r !== undefined && r.table === table) return r;
    const b = new RunsBuild(this.chooser, table);
    b.step(table.v4Count);
    this.runs = b.finish();
    if (this.build?.table === table) this.build = undefined;
    return this.runs;
  }

  /** Queues a build for `table` unless its runs are built or building. */
  request(table: GeoTable): void {
    // A family without addresses answers NODATA everywhere: no runs to build.
    if (this.released || this.chooser.noAddresses) return;
    if (this.runs?.table === table) return;
    if (this.build?.table !== table) this.build = new RunsBuild(this.chooser, table);
    this.builder.enqueue(this);
  }

  /** Drops the runs (no workload holds this any more); a queued build is abandoned. */
  release(): void {
    this.released = true;
    this.runs = undefined;
    this.build = undefined;
  }

  /** Bytes of the runs held (memory figures). */
  get byteLength(): number {
    const r = this.runs;
    return r === undefined ? 0 : r.cells.byteLength + r.index.byteLength;
  }

  /** Advances the build by up to `ranges`; true when there is nothing left to build. */
  advance(ranges: number): boolean {
    const b = this.build;
    if (b === undefined || this.released) return true;
    b.step(ranges);
    if (!b.done) return false;
    this.runs = b.finish();
    this.build = undefined;
    return true;
  }
}

/**
 * The shared decision structures of a server, by region-set key: a workload takes one per family
 * when it is made (`acquire`) and gives it back when replaced or removed (`release`).
 */
export class DecisionRegistry {
  private readonly byKey = new Map<string, SharedDecisions>();
  private readonly builder = new RunsBuilder();

  /** The shared structures for `chooser` (made on first use). */
  acquire(family: Family, chooser: RegionChooser): SharedDecisions {
    const key = `${family}|${chooser.key}`;
    let d = this.byKey.get(key);
    if (d === undefined) {
      d = new SharedDecisions(key, family, chooser, this.builder);
      this.byKey.set(key, d);
    }
    d.refs++;
    return d;
  }

  /** Gives back one reference; the last one frees the structures. */
  release(d: SharedDecisions): void {
    d.refs--;
    if (d.refs > 0) return;
    if (this.byKey.get(d.key) === d) this.byKey.delete(d.key);
    d.release();
  }

  /** Queues builds of every region set's runs for `table` (after a swap), so that queries find them ready. */
  prepare(table: GeoTable): void {
    for (const d of this.byKey.values()) d.request(table);
  }

  /** Distinct (region set, family) structures held. */
  get size(): number {
    return this.byKey.size;
  }

  /** Region sets with a build queued or under way. */
  get building(): number {
    return this.builder.pending;
  }

  /** Bytes of every runs held (memory figures). */
  get byteLength(): number {
    let n = 0;
    for (const d of this.byKey.values()) n += d.byteLength;
    return n;
  }
}
