/**
 * The GeoIP data channels' one interface and the records they produce. A channel turns its raw
 * input (a BGP session, MRT files, a signed package) into records through a pure parser; the
 * supervisor, not the channel, decides which channel drives the table. Not re-exported by
 * `dns/geoip`'s index: the server imports it only where it runs the supervisor.
 */
import type { GeoTable } from '../table';
import type { GeoLocation } from '../types';

/** The channels, most trusted first: the order in which the supervisor lets them drive. */
export const CHANNEL_KINDS = ['bgp', 'ris', 'signed', 'static'] as const;
/** A channel's kind, which fixes its priority. */
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * A channel's state. `up`: receiving and current; `stale`: up but its data is older than its
 * staleness bound (or past its valid-until); `down`: not connected or the source failed, and
 * retrying; `paused`: stopped by an operator; `failed`: failed on purpose (admin) or given up.
 */
export const CHANNEL_STATES = ['starting', 'up', 'stale', 'down', 'paused', 'failed'] as const;
/** One of `CHANNEL_STATES`. */
export type ChannelState = (typeof CHANNEL_STATES)[number];

/** What a channel reports about itself; read by the supervisor and `GET /geo/channels`. */
export interface ChannelHealth {
  readonly state: ChannelState;
  /** When the channel last received data, ms since the epoch; undefined before any. */
  readonly lastDataAt: number | undefined;
  /** Prefixes the channel currently holds (routes over all its peers, or a dataset's ranges). */
  readonly prefixes: number;
  /** The last error, in words that name what failed; undefined when none since the last success. */
  readonly lastError: string | undefined;
}

/** One route as one peer holds it. */
export interface RouteRecord {
  /** Canonical CIDR text: network address with host bits clear, e.g. `193.0.0.0/21`, `2001:db8::/32`. */
  readonly prefix: string;
  /** The AS that originated the route: the last AS of the path; 0 when the path is empty or ends in an AS_SET. */
  readonly originAs: number;
  /** AS_PATH as 4-byte AS numbers, nearest first (AS_SET members flattened in order). */
  readonly asPath: readonly number[];
}

/** Routing records: what one peer announced and withdrew. */
export interface RoutingUpdate {
  readonly kind: 'routing';
  /**
   * Stable peer identity, unique across channels: `bgp:<peer address>` for a live session,
   * `<collector>:<peer address>` (e.g. `rrc00:192.0.2.1`) for RIS archives.
   */
  readonly peer: string;
  /** When this was observed (the MRT record's time for archives), ms since the epoch. */
  readonly at: number;
  /** True when `announce` is the peer's whole table (a RIB dump): the peer's routes not in it are gone. */
  readonly full: boolean;
  readonly announce: readonly RouteRecord[];
  /** Canonical CIDR text of withdrawn prefixes. */
  readonly withdraw: readonly string[];
}

/** Every route of one peer is gone (a session lost past its graceful-restart time, a peer removed). */
export interface PeerDown {
  readonly kind: 'peer-down';
  readonly peer: string;
  readonly at: number;
}

/** Location records: a whole verified dataset (prefix -> location), replacing the previous one. */
export interface LocationUpdate {
  readonly kind: 'locations';
  /** The dataset's serial; the supervisor never goes back to an older one. */
  readonly serial: number;
  /** When the dataset was made, ms since the epoch. */
  readonly createdAt: number;
  /** After this (ms since the epoch) the dataset is stale; undefined: no end. */
  readonly validUntil: number | undefined;
  readonly table: GeoTable;
}

/** Any record a channel produces. */
export type ChannelRecord = RoutingUpdate | PeerDown | LocationUpdate;

/** Where a channel delivers what it learns. Calls never throw back into the channel. */
export interface ChannelSink {
  /** New records, in the order the channel learned them. */
  records(record: ChannelRecord): void;
  /** The channel's `health()` changed (state, error, data time). */
  healthChanged(): void;
}

/** A GeoIP data channel. */
export interface GeoChannel {
  /** Unique name among the configured channels, e.g. `bgp`, `ris`, `signed`. */
  readonly name: string;
  readonly kind: ChannelKind;
  /**
   * Starts producing records into `sink`. Resolves once started (not once connected: a channel
   * whose source is unreachable starts `down` and keeps retrying). Rejects only on bad settings;
   * a rejected start leaves nothing running.
   */
  start(sink: ChannelSink): Promise<void>;
  /** Stops everything the channel runs (sockets, timers, children); idempotent. */
  stop(): Promise<void>;
  health(): ChannelHealth;
}

/** One entry of the routing overlay: a prefix located from routing data, and why. */
export interface OverlayEntry {
  /** Canonical CIDR text. */
  readonly prefix: string;
  readonly location: GeoLocation;
  /** The channel whose routes decided it. */
  readonly channel: ChannelKind;
  readonly originAs: number;
  /** Why the prefix is located here, in words (`/geo/lookup` shows it). */
  readonly reason: string;
}

/** An origin change the overlay did not follow because it looks like a hijack. */
export interface SuspectedHijack {
  readonly prefix: string;
  /** The origin the prefix keeps its location from; undefined for a more-specific of a foreign origin. */
  readonly oldOrigin: number | undefined;
  readonly newOrigin: number;
  /** Peers that saw the new origin. */
  readonly peers: readonly string[];
  readonly firstSeenAt: number;
}

/** What the overlay computes from the routes it holds. */
export interface OverlayResult {
  readonly entries: readonly OverlayEntry[];
  readonly hijacks: readonly SuspectedHijack[];
}

/**
 * Routing records in, overlay entries out: the routing overlay, fed by the BGP and RIS channels.
 * `build` is pure over what was applied, the dataset and the time.
 */
export interface RoutingOverlay {
  /** Applies one channel's routing records. */
  apply(record: RoutingUpdate | PeerDown, channel: ChannelKind): void;
  /** The overlay against `dataset` (which gives each AS its home) at time `now` (ms since the epoch). */
  build(dataset: GeoTable, now: number): OverlayResult;
}
