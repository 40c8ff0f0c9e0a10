// A GeoIP channel driven by the test: it emits whatever records and health it is told to.
import type {
  ChannelHealth, ChannelKind, ChannelRecord, ChannelSink, ChannelState, GeoChannel, OverlayEntry, OverlayResult, PeerDown, RoutingOverlay,
  RoutingUpdate,
} from '../../../../dns/geoip/channels/index';
import { GeoTable, makeLocation, type GeoEntry } from '../../../../dns/geoip';

/** A channel whose records and health come from the test. */
export class FakeChannel implements GeoChannel {
  private sink: ChannelSink | undefined;
  private current: ChannelHealth = { state: 'starting', lastDataAt: undefined, prefixes: 0, lastError: undefined };
  starts = 0;
  stops = 0;
  /** When set, `start` rejects with it. */
  failStart: Error | undefined;

  constructor(readonly name: string, readonly kind: ChannelKind) {}

  async start(sink: ChannelSink): Promise<void> {
    if (this.failStart) throw this.failStart;
    this.sink = sink;
    this.starts++;
    this.setHealth({ state: 'up' });
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    this.sink = undefined;
    this.stops++;
    await Promise.resolve();
  }

  health(): ChannelHealth {
    return this.current;
  }

  /** True between start and stop. */
  get running(): boolean {
    return this.sink !== undefined;
  }

  /** Changes the reported health and tells the supervisor. */
  setHealth(h: Partial<ChannelHealth> & { state?: ChannelState }): void {
    this.current = { ...this.current, ...h };
    this.sink?.healthChanged();
  }

  /** Emits a record (dropped when the channel is not running, as a stopped channel emits nothing). */
  emit(r: ChannelRecord): void {
    if (r.kind === 'locations') this.current = { ...this.current, lastDataAt: Date.now(), prefixes: r.table.v4Count + r.table.v6Count };
    this.sink?.records(r);
  }

  /** Emits a dataset of `entries` with `serial`. */
  emitDataset(serial: number, entries: readonly GeoEntry[], validUntil?: number): void {
    this.emitTable(serial, GeoTable.fromEntries(entries, 'dataset'), validUntil);
  }

  /** Emits `table` as the dataset with `serial`. */
  emitTable(serial: number, table: GeoTable, validUntil?: number): void {
    this.emit({ kind: 'locations', serial, createdAt: Date.now(), validUntil, table });
  }
}

/** A routing overlay that locates every announced prefix at a fixed place per origin AS. */
export class FakeOverlay implements RoutingOverlay {
  readonly routes = new Map<string, { prefix: string; origin: number; channel: ChannelKind }>();

  constructor(private readonly homes: ReadonlyMap<number, { lat: number; lon: number; country: string }>) {}

  apply(record: RoutingUpdate | PeerDown, channel: ChannelKind): void {
    if (record.kind === 'peer-down') {
      for (const k of [...this.routes.keys()]) if (k.startsWith(`${record.peer}|`)) this.routes.delete(k);
      return;
    }
    for (const p of record.withdraw) this.routes.delete(`${record.peer}|${p}`);
    for (const a of record.announce) this.routes.set(`${record.peer}|${a.prefix}`, { prefix: a.prefix, origin: a.originAs, channel });
  }

  build(): OverlayResult {
    const entries: OverlayEntry[] = [];
    for (const r of this.routes.values()) {
      const home = this.homes.get(r.origin);
      if (home) entries.push({ prefix: r.prefix, location: makeLocation(home.lat, home.lon, home.country), channel: r.channel, originAs: r.origin, reason: `home of AS${r.origin}` });
    }
    return { entries, hijacks: [] };
  }
}
