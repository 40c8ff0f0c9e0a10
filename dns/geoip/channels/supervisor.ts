/**
 * The supervisor: the only code that swaps the GeoIP table. It watches each channel's health,
 * keeps the routing overlay and the latest verified dataset, merges the layers (overlay > dataset
 * > hot-prefix cache) off the serving thread, refuses a merged table that would empty or shrink
 * the table past a configured share, rate-limits swaps, and swaps atomically. Runs once per host.
 */
import { LayerBuilder, type GeoLayer } from '../layer-builder';
import { GeoTable, type GeoTableHolder, type PreparedGeoTable } from '../table';
import type { GeoSource } from '../types';
import {
  CHANNEL_KINDS, type ChannelHealth, type ChannelKind, type ChannelRecord, type ChannelSink, type GeoChannel, type LocationUpdate,
  type OverlayEntry, type RouteExplanation, type RoutingOverlay,
} from './index';
import { describeHijack, HijackLog, type HijackSummary } from './hijacks';

/** One channel as `GET /geo/channels` shows it. */
export interface ChannelStatus {
  readonly name: string;
  readonly kind: ChannelKind;
  readonly state: string;
  /** True for the one channel whose data currently leads the table (see `GeoChannelsStatus.driving`). */
  readonly driving: boolean;
  /** ms since the epoch, or null before any data. */
  readonly lastDataAt: number | null;
  readonly prefixes: number;
  readonly lastError: string | null;
}

/** `GET /geo/channels`: the channels, the table's layers and sizes, and the last refused update. */
export interface GeoChannelsStatus {
  /** Every configured channel, most trusted first, then the static fallback. */
  readonly channels: readonly ChannelStatus[];
  /** The kind of the most trusted channel that is up (`static` when none is). */
  readonly driving: ChannelKind;
  /** Layers of the table in force, highest priority first, with their range counts before merging. */
  readonly layers: readonly { readonly layer: GeoSource; readonly channel: ChannelKind; readonly prefixes: number }[];
  readonly table: { readonly v4Ranges: number; readonly v6Ranges: number; readonly generation: number; readonly builtAt: number | null };
  /** The last merged table or dataset the supervisor refused, and why; null when none. */
  readonly lastRefusal: { readonly at: number; readonly reason: string } | null;
  /** Origin changes the routing overlay did not follow because they look like hijacks: the count and the newest. */
  readonly suspectedHijacks: HijackSummary;
}

/** The hot-prefix cache as the supervisor sees it: a table of its entries, rebuilt off the hot path. */
export interface CacheLayerSource {
  table(): GeoTable;
  size(): number;
}

/** Settings of `GeoSupervisor` (the `geoip` section of the server's settings, in milliseconds where noted). */
export interface SupervisorOptions {
  /** geoip-lite's shipped table: the dataset when no verified package is in force. */
  readonly staticTable: GeoTable;
  /** When the static data was made, ms since the epoch (its age decides whether the cache overrides it). */
  readonly staticCreatedAt: number;
  /** The channels, any order (the supervisor orders them by kind). Names must be unique. */
  readonly channels: readonly GeoChannel[];
  /** The routing overlay the BGP and RIS channels feed; absent: no overlay layer. */
  readonly overlay?: RoutingOverlay;
  /** The hot-prefix cache; absent: no cache layer. */
  readonly cache?: CacheLayerSource;
  /** Least time between two swaps. */
  readonly minSwapIntervalSeconds: number;
  /** Largest share (0..1) of the table's ranges an update may remove; more is refused. */
  readonly maxDropShare: number;
  /** A dataset older than this loses to the hot-prefix cache (the cache then sits above it). */
  readonly cacheOverridesDatasetAfterHours: number;
  /** How often the cache's newest entries are merged into the table. */
  readonly cacheMergeIntervalSeconds: number;
  /** How often channel health and dataset expiry are checked (besides the channels' own reports). */
  readonly healthCheckIntervalSeconds: number;
  /** Told each new table's columns after it is swapped in (to hand it to other processes). */
  readonly onTable?: (prepared: PreparedGeoTable) => void;
  readonly log?: (line: string) => void;
  /** Clock, ms since the epoch (tests). */
  readonly now?: () => number;
  /** Suspected hijacks kept for `GET /geo/channels` (newest first); default 100. */
  readonly hijackListSize?: number;
}

/** What became of one build. */
export type BuildOutcome = { readonly swapped: true } | { readonly swapped: false; readonly reason: string };

interface Dataset {
  readonly update: LocationUpdate;
  readonly channel: string;
}

type Override = 'paused' | 'failed';

const rank = (k: ChannelKind): number => CHANNEL_KINDS.indexOf(k);

/** Supervises the GeoIP channels and owns the table holder's swaps. */
export class GeoSupervisor {
  private readonly channels: readonly GeoChannel[];
  private readonly overrides = new Map<string, Override>();
  private readonly errors = new Map<string, string>();
  private readonly builder = new LayerBuilder();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private dataset: Dataset | undefined;
  /** A dataset received but not yet in a swapped table. */
  private pendingDataset: Dataset | undefined;
  private layers: GeoChannelsStatus['layers'] = [];
  private builtAt: number | undefined;
  private lastSwapAt = -Infinity;
  private refusal: { at: number; reason: string } | undefined;
  private building: Promise<BuildOutcome> | undefined;
  private dirty = false;
  private forcedPending = false;
  private timer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  // Wakes a build when time alone changes the overlay (a re-homing confirmed, a hijack due for report).
  private overlayTimer: NodeJS.Timeout | undefined;
  private readonly hijacks: HijackLog;
  private planKey = '';
  private cacheSizeAtBuild = -1;
  private running = false;

  /** Supervises `holder`; nothing runs before `start`. */
  constructor(private readonly holder: GeoTableHolder, private readonly options: SupervisorOptions) {
    const names = new Set<string>();
    for (const c of options.channels) {
      if (names.has(c.name)) throw new RangeError(`two GeoIP channels are named '${c.name}'`);
      names.add(c.name);
    }
    if (!(options.maxDropShare >= 0 && options.maxDropShare <= 1)) throw new RangeError(`maxDropShare must be within 0..1, got ${options.maxDropShare}`);
    this.channels = [...options.channels].sort((a, b) => rank(a.kind) - rank(b.kind));
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.hijacks = new HijackLog(options.hijackListSize ?? 100);
  }

  /**
   * Builds and swaps in the first table (static data and cache; no refusal applies), then starts
   * the channels. A channel that rejects its start is reported as failed; the others run.
   */
  async start(): Promise<void> {
    this.running = true;
    const first = await this.buildNow(true);
    if (!first.swapped) throw new Error(`the first GeoIP table could not be built: ${first.reason}`);
    for (const c of this.channels) await this.startChannel(c);
    this.planKey = this.plan();
    const every = (seconds: number, fn: () => void): NodeJS.Timeout => {
      const t = setInterval(fn, Math.max(1, seconds * 1000));
      t.unref();
      return t;
    };
    this.healthTimer = every(this.options.healthCheckIntervalSeconds, () => this.checkPlan());
    // Only a cache that changed is worth a rebuild (its size is the cheap sign of that).
    const cache = this.options.cache;
    if (cache) this.cacheTimer = every(this.options.cacheMergeIntervalSeconds, () => { if (cache.size() !== this.cacheSizeAtBuild) this.request(false); });
  }

  /** Stops the channels, the timers and the merge worker; the table in force stays. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.healthTimer);
    clearInterval(this.cacheTimer);
    clearTimeout(this.overlayTimer);
    await Promise.all(this.channels.map(async (c) => {
      try {
        await c.stop();
      } catch (e) {
        this.log(`geoip: stopping channel ${c.name}: ${(e as Error).message}`);
      }
    }));
    await this.building?.catch(() => undefined);
    await this.builder.close();
  }

  /** The kind of the most trusted channel that is up and not paused or failed; `static` when none. */
  driving(): ChannelKind {
    for (const c of this.channels) if (this.stateOf(c) === 'up') return c.kind;
    return 'static';
  }

  /** What `GET /geo/channels` shows. */
  status(): GeoChannelsStatus {
    const driving = this.driving();
    const t = this.holder.current;
    const channels: ChannelStatus[] = this.channels.map((c) => {
      const h = this.health(c);
      return {
        name: c.name, kind: c.kind, state: this.stateOf(c), driving: driving === c.kind && this.firstUpOf(driving) === c,
        lastDataAt: h.lastDataAt ?? null, prefixes: h.prefixes, lastError: this.errors.get(c.name) ?? h.lastError ?? null,
      };
    });
    const st = this.options.staticTable;
    channels.push({ name: 'static', kind: 'static', state: 'up', driving: driving === 'static', lastDataAt: this.options.staticCreatedAt,
      prefixes: st.v4Count + st.v6Count, lastError: null });
    return {
      channels, driving, layers: this.layers,
      table: { v4Ranges: t.v4Count, v6Ranges: t.v6Count, generation: this.holder.generation, builtAt: this.builtAt ?? null },
      lastRefusal: this.refusal ? { ...this.refusal } : null,
      suspectedHijacks: this.hijacks.summary(),
    };
  }

  /**
   * Why the routed prefix covering `address` (IPv4 or IPv6 text) is located where it is, against
   * the dataset in force; undefined without a routing overlay or when no route covers it.
   */
  explain(address: string): RouteExplanation | undefined {
    const overlay = this.options.overlay;
    if (!overlay?.explain) return undefined;
    const dataset = this.datasetInForce();
    return overlay.explain(address, dataset ? dataset.update.table : this.options.staticTable, this.now());
  }

  /**
   * Pauses (stops the channel, keeps its data), resumes (starts it again) or fails (stops it and
   * drops its data from the table) the named channel, then rebuilds at once; an operator's action
   * is not refused for shrinking the table. Rejects with `RangeError` for an unknown name.
   */
  async act(name: string, action: 'pause' | 'resume' | 'fail'): Promise<void> {
    const c = this.channels.find((x) => x.name === name);
    if (!c) throw new RangeError(`no GeoIP channel named '${name}' (channels: ${this.channels.map((x) => x.name).join(', ') || 'none'})`);
    if (action === 'resume') {
      if (!this.overrides.has(name)) return;
      this.overrides.delete(name);
      await this.startChannel(c);
    } else {
      if (this.overrides.get(name) === (action === 'pause' ? 'paused' : 'failed')) return;
      const wasRunning = !this.overrides.has(name);
      this.overrides.set(name, action === 'pause' ? 'paused' : 'failed');
      if (wasRunning) await c.stop();
      this.log(`geoip: channel ${name} ${action === 'pause' ? 'paused' : 'failed'} by the operator`);
    }
    this.planKey = this.plan();
    await this.buildNow(true);
  }

  /**
   * Builds and swaps now when no swap happened within `minSwapIntervalSeconds` (else when that
   * interval ends), and resolves with what became of the build. `force` skips the refusal checks.
   */
  async rebuild(force = false): Promise<BuildOutcome> {
    const wait = this.lastSwapAt + this.options.minSwapIntervalSeconds * 1000 - this.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.buildNow(force);
  }

  private health(c: GeoChannel): ChannelHealth {
    try {
      return c.health();
    } catch (e) {
      return { state: 'down', lastDataAt: undefined, prefixes: 0, lastError: `health() threw: ${(e as Error).message}` };
    }
  }

  private stateOf(c: GeoChannel): string {
    return this.overrides.get(c.name) ?? this.health(c).state;
  }

  private firstUpOf(kind: ChannelKind): GeoChannel | undefined {
    return this.channels.find((c) => c.kind === kind && this.stateOf(c) === 'up');
  }

  // A failed channel's data leaves the table; a paused one's stays (it only stops receiving).
  private usable(channelName: string): boolean {
    return this.overrides.get(channelName) !== 'failed';
  }

  private async startChannel(c: GeoChannel): Promise<void> {
    const sink: ChannelSink = {
      records: (r) => this.onRecord(c, r),
      healthChanged: () => this.checkPlan(),
    };
    try {
      await c.start(sink);
      this.errors.delete(c.name);
    } catch (e) {
      this.errors.set(c.name, `start failed: ${(e as Error).message}`);
      this.overrides.set(c.name, 'failed');
      this.log(`geoip: channel ${c.name} did not start: ${(e as Error).message}`);
    }
  }

  private onRecord(c: GeoChannel, r: ChannelRecord): void {
    if (!this.running || this.overrides.has(c.name)) return;
    try {
      if (r.kind === 'locations') {
        const current = this.pendingDataset ?? this.dataset;
        if (current && r.serial <= current.update.serial) {
          this.refuse(`dataset serial ${r.serial} from ${c.name} is not newer than serial ${current.update.serial}`);
          return;
        }
        if (r.table.v4Count + r.table.v6Count === 0) {
          this.refuse(`dataset serial ${r.serial} from ${c.name} is empty`);
          return;
        }
        this.pendingDataset = { update: r, channel: c.name };
      } else if (this.options.overlay) {
        this.options.overlay.apply(r, c.kind);
      } else {
        return;
      }
    } catch (e) {
      this.errors.set(c.name, `record rejected: ${(e as Error).message}`);
      return;
    }
    this.request(false);
  }

  // One timer for the overlay's next change in time; a later build replaces it.
  private wakeAt(at: number | undefined): void {
    clearTimeout(this.overlayTimer);
    this.overlayTimer = undefined;
    if (at === undefined || !this.running) return;
    this.overlayTimer = setTimeout(() => {
      this.overlayTimer = undefined;
      this.request(false);
    }, Math.max(0, at - this.now()));
    this.overlayTimer.unref();
  }

  private refuse(reason: string): void {
    this.refusal = { at: this.now(), reason };
    this.log(`geoip: refused: ${reason}`);
  }

  // A summary of what decides the layers; when it changes, the table must be rebuilt.
  private plan(): string {
    const d = this.datasetInForce();
    return `${this.channels.map((c) => `${c.name}=${this.stateOf(c)}`).join(',')}|${d ? d.update.serial : 'static'}|${this.cacheAbove(d)}`;
  }

  private checkPlan(): void {
    if (!this.running) return;
    const key = this.plan();
    if (key !== this.planKey) {
      this.planKey = key;
      this.request(false);
    }
  }

  private datasetInForce(): Dataset | undefined {
    const d = this.pendingDataset ?? this.dataset;
    if (!d || !this.usable(d.channel)) return undefined;
    const until = d.update.validUntil;
    return until !== undefined && until < this.now() ? undefined : d;
  }

  private cacheAbove(d: Dataset | undefined): boolean {
    const createdAt = d ? d.update.createdAt : this.options.staticCreatedAt;
    return this.now() - createdAt > this.options.cacheOverridesDatasetAfterHours * 3_600_000;
  }

  // Coalesces requests: one build at a time, at most one swap per minSwapIntervalSeconds.
  private request(force: boolean): void {
    if (!this.running) return;
    this.dirty = true;
    this.forcedPending ||= force;
    if (this.building || this.timer) return;
    const wait = this.lastSwapAt + this.options.minSwapIntervalSeconds * 1000 - this.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dirty && this.running) void this.buildNow(this.forcedPending);
    }, Math.max(0, wait));
  }

  private buildNow(force: boolean): Promise<BuildOutcome> {
    const run = async (): Promise<BuildOutcome> => {
      if (this.building) await this.building.catch(() => undefined);
      this.dirty = false;
      this.forcedPending = false;
      const p = this.buildOnce(force);
      this.building = p;
      try {
        return await p;
      } finally {
        if (this.building === p) this.building = undefined;
        if (this.dirty && this.running && !this.timer) this.request(this.forcedPending);
      }
    };
    return run();
  }

  private async buildOnce(force: boolean): Promise<BuildOutcome> {
    const now = this.now();
    const pending = this.pendingDataset;
    const dataset = this.datasetInForce();
    const layers: GeoLayer[] = [];
    if (this.options.overlay) {
      const datasetTable = dataset ? dataset.update.table : this.options.staticTable;
      let entries: readonly OverlayEntry[] = [];
      try {
        const result = this.options.overlay.build(datasetTable, now);
        entries = result.entries;
        for (const h of this.hijacks.observe(result.hijacks, now)) this.log(`geoip: ${describeHijack(h)}`);
        this.wakeAt(result.nextChangeAt);
      } catch (e) {
        this.log(`geoip: the routing overlay failed to build, left out: ${(e as Error).message}`);
      }
      for (const kind of ['bgp', 'ris'] as const) {
        const allowed = this.channels.some((c) => c.kind === kind && this.usable(c.name));
        const mine = allowed ? entries.filter((e) => e.channel === kind) : [];
        if (mine.length === 0) continue;
        try {
          const table = GeoTable.fromEntries(mine.map((e) => ({ range: e.prefix, lat: e.location.lat, lon: e.location.lon, country: e.location.country })), 'overlay');
          layers.push({ layer: 'overlay', channel: kind, table });
        } catch (e) {
          this.log(`geoip: overlay entries of ${kind} left out: ${(e as Error).message}`);
        }
      }
    }
    const datasetLayer: GeoLayer = dataset
      ? { layer: 'dataset', channel: 'signed', table: dataset.update.table }
      : { layer: 'static', channel: 'static', table: this.options.staticTable };
    const cacheSize = this.options.cache?.size() ?? -1;
    const cacheTable = this.options.cache?.table();
    const cacheLayer: GeoLayer | undefined = cacheTable && cacheTable.v4Count + cacheTable.v6Count > 0
      ? { layer: 'cache', channel: 'static', table: cacheTable } : undefined;
    if (cacheLayer && this.cacheAbove(dataset)) layers.push(cacheLayer, datasetLayer);
    else layers.push(datasetLayer, ...(cacheLayer ? [cacheLayer] : []));
    let prepared: PreparedGeoTable;
    try {
      prepared = await this.builder.buildColumns(layers, datasetLayer.layer);
    } catch (e) {
      const reason = `merging the layers failed: ${(e as Error).message}`;
      this.refuse(reason);
      if (pending && this.pendingDataset === pending) this.pendingDataset = undefined;
      return { swapped: false, reason };
    }
    const size = prepared.v4Locations.length + prepared.v6Locations.length;
    const current = this.holder.current;
    const before = current.v4Count + current.v6Count;
    let reason: string | undefined;
    if (!force && size === 0) reason = 'the update would empty the table';
    else if (!force && before > 0 && size < before * (1 - this.options.maxDropShare)) {
      reason = `the update would shrink the table from ${before} to ${size} ranges (more than ${Math.round(this.options.maxDropShare * 100)}% gone)`;
    }
    if (reason !== undefined) {
      // A refused dataset is dropped: the table stays as it was, and the next build does not retry it.
      if (pending && this.pendingDataset === pending) this.pendingDataset = undefined;
      this.refuse(reason);
      return { swapped: false, reason };
    }
    this.holder.swap(new GeoTable(prepared));
    if (pending && this.pendingDataset === pending) {
      this.dataset = pending;
      this.pendingDataset = undefined;
    }
    this.lastSwapAt = this.now();
    this.builtAt = this.lastSwapAt;
    this.cacheSizeAtBuild = cacheSize;
    this.layers = layers.map((l) => ({ layer: l.layer, channel: l.channel, prefixes: l.table.v4Count + l.table.v6Count }));
    this.planKey = this.plan();
    try {
      this.options.onTable?.(prepared);
    } catch (e) {
      this.log(`geoip: handing the new table on failed: ${(e as Error).message}`);
    }
    return { swapped: true };
  }
}
