/**
 * Puts the GeoIP pieces together for one host from the `geoip` settings: the hot-prefix cache
 * (opened, and so loaded, before the first query), the channels configured, the routing overlay,
 * and the supervisor that swaps the table. The server's entry point calls `startGeoService` once
 * (in the primary of a cluster) and hands the holder, the recorder and the control to the server.
 */
import type { LocationRecorder } from '../../answer/locate';
import { GeoTableHolder, type GeoTable, type PreparedGeoTable } from '../table';
import type { GeoChannel, RoutingOverlay } from './index';
import { GeoSupervisor, type CacheLayerSource } from './supervisor';

/** The `geoip` settings this needs (`GeoipConfig` in `dns/config.ts`). */
export interface GeoServiceSettings {
  readonly minSwapIntervalSeconds: number;
  readonly maxDropPercent: number;
  readonly healthCheckIntervalSeconds: number;
  readonly staticDataCreatedAt?: string;
  readonly cache: {
    readonly enabled: boolean; readonly path?: string; readonly maxPrefixes: number; readonly ttlHours: number;
    readonly flushIntervalMs: number; readonly mergeIntervalSeconds: number; readonly overridesDatasetAfterHours: number;
  };
  readonly bgp?: unknown;
  readonly ris?: unknown;
  readonly signed?: unknown;
  /** The routing overlay's settings, handed to `GeoServiceParts.overlay`. */
  readonly overlay?: unknown;
}

/** A hot-prefix cache: records answers (from this process, or notes from other processes), gives its table, closes (`HotPrefixCache` fits). */
export type HotCache = CacheLayerSource & LocationRecorder & {
  noteV4(ip: number, lat: number, lon: number, country: number): void;
  noteV6(w0: number, w1: number, lat: number, lon: number, country: number): void;
  close(): Promise<void>;
};

/** Opens the hot-prefix cache (`HotPrefixCache.open`). */
export type OpenHotCache = (o: { path: string; maxPrefixes: number; ttlHours: number; flushIntervalMs: number; log?: (line: string) => void }) => Promise<HotCache>;

/** Makes a channel from its settings sub-object; throws naming the bad key. */
export type ChannelFactory = (settings: unknown, log: (line: string) => void) => GeoChannel;

/** What the channels' own modules provide; a kind without a factory cannot be configured. */
export interface GeoServiceParts {
  readonly channels?: Partial<Record<'bgp' | 'ris' | 'signed', ChannelFactory>>;
  /** Makes the routing overlay from its settings (needed when `bgp` or `ris` is configured); throws naming a bad key. */
  readonly overlay?: (settings: unknown) => RoutingOverlay;
  readonly openCache?: OpenHotCache;
}

/** A running GeoIP service. */
export interface GeoService {
  readonly holder: GeoTableHolder;
  readonly supervisor: GeoSupervisor;
  /** Where answers are noted (the cache; cluster workers' notes go to its `noteV4`/`noteV6`); undefined without one. */
  readonly recorder: HotCache | undefined;
  /** The columns of the table in force, validated and indexed (to hand to other processes). */
  columns(): PreparedGeoTable;
  /** Stops the supervisor and channels and closes the cache (flushing it). */
  close(): Promise<void>;
}

/**
 * Starts the service: opens the cache, creates the configured channels, builds the first table
 * (static data and cache) and starts the channels. Rejects, with nothing left running, when a
 * configured channel has no factory or its settings are bad.
 */
export async function startGeoService(settings: GeoServiceSettings, staticTable: GeoTable, parts: GeoServiceParts = {},
  options: { log?: (line: string) => void; onTable?: (t: PreparedGeoTable) => void; now?: () => number } = {}): Promise<GeoService> {
  const log = options.log ?? (() => undefined);
  const channels: GeoChannel[] = [];
  for (const kind of ['bgp', 'ris', 'signed'] as const) {
    const s = settings[kind];
    if (s === undefined) continue;
    const factory = parts.channels?.[kind];
    if (!factory) throw new RangeError(`geoip.${kind} is set but this server has no ${kind} channel`);
    channels.push(factory(s, log));
  }
  const routing = channels.some((c) => c.kind === 'bgp' || c.kind === 'ris');
  if (routing && !parts.overlay) throw new RangeError('geoip.bgp or geoip.ris is set but this server has no routing overlay');
  // Made before anything opens, so bad overlay settings stop the start even when no routing channel runs.
  const overlay = parts.overlay && (routing || settings.overlay !== undefined) ? parts.overlay(settings.overlay ?? {}) : undefined;
  let cache: HotCache | undefined;
  if (settings.cache.enabled && settings.cache.path !== undefined && parts.openCache) {
    const c = settings.cache;
    cache = await parts.openCache({ path: settings.cache.path, maxPrefixes: c.maxPrefixes, ttlHours: c.ttlHours, flushIntervalMs: c.flushIntervalMs, log });
  }
  const holder = new GeoTableHolder(staticTable);
  let latest: PreparedGeoTable | undefined;
  const supervisor = new GeoSupervisor(holder, {
    staticTable, channels, overlay: routing ? overlay : undefined, cache,
    staticCreatedAt: settings.staticDataCreatedAt ? Date.parse(settings.staticDataCreatedAt) : 0,
    minSwapIntervalSeconds: settings.minSwapIntervalSeconds, maxDropShare: settings.maxDropPercent / 100,
    cacheOverridesDatasetAfterHours: settings.cache.overridesDatasetAfterHours, cacheMergeIntervalSeconds: settings.cache.mergeIntervalSeconds,
    healthCheckIntervalSeconds: settings.healthCheckIntervalSeconds, log, now: options.now,
    onTable: (t) => {
      latest = t;
      options.onTable?.(t);
    },
  });
  try {
    await supervisor.start();
  } catch (e) {
    await supervisor.stop();
    await cache?.close();
    throw e;
  }
  return {
    holder, supervisor, recorder: cache,
    // The first build always swaps (start() throws otherwise), so a table has been handed on.
    columns: () => latest!,
    close: async () => {
      await supervisor.stop();
      await cache?.close();
    },
  };
}
