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

/** An origin change the overlay has not followed (yet): a new origin announced for a prefix. */
export interface OriginChange {
  readonly prefix: string;
  /**
   * The origin the prefix keeps its location from: its confirmed origin, or for a more-specific of
   * a foreign origin the covering prefix's origin; undefined when neither is known.
   */
  readonly oldOrigin: number | undefined;
  /** For a more-specific of a foreign origin: the stable prefix it was carved from. */
  readonly coveringPrefix: string | undefined;
  readonly newOrigin: number;
  /** Peers that announce the new origin, sorted. */
  readonly peers: readonly string[];
  /** The latest AS path announced with the new origin, nearest AS first. */
  readonly asPath: readonly number[];
  /** When the new origin was first seen for the prefix, ms since the epoch. */
  readonly firstSeenAt: number;
}

/**
 * An origin change the overlay does not follow because it looks like a hijack: seen by too few
 * peers, or a more-specific of a stable prefix from another origin.
 */
export type SuspectedHijack = OriginChange;

/** What the overlay computes from the routes it holds. */
export interface OverlayResult {
  readonly entries: readonly OverlayEntry[];
  /** Suspected hijacks in force (each lasted the report delay). */
  readonly hijacks: readonly SuspectedHijack[];
  /** Origin changes seen by enough peers, waiting for the confirmation time before the prefix follows them. */
  readonly pending?: readonly OriginChange[];
  /** The earliest later time (ms since the epoch) at which time alone changes the result; undefined when none. */
  readonly nextChangeAt?: number;
}

/**
 * Why a routed prefix is located where it is: `dataset` (the dataset covers it and its origin
 * never changed), `origin-home` (not in the dataset: at its origin AS's home), `re-homed` (its
 * origin changed, confirmed by enough peers for long enough: at the new origin's home), `no-home`
 * (its origin has no address in the dataset), `origin-change-pending` (a new origin waits for
 * confirmation; the location stays), `suspected-hijack` (a new origin is suspected; the last good
 * location stays).
 */
export const ROUTE_DECISIONS = ['dataset', 'origin-home', 're-homed', 'no-home', 'origin-change-pending', 'suspected-hijack'] as const;
/** One of `ROUTE_DECISIONS`. */
export type RouteDecision = (typeof ROUTE_DECISIONS)[number];

/** What `GET /geo/lookup` shows of the routing overlay for one address. */
export interface RouteExplanation {
  /** The most specific routed prefix covering the address. */
  readonly prefix: string;
  /** The origin AS whose location the prefix has; null for a more-specific not followed. */
  readonly originAs: number | null;
  /** The latest AS path announced with that origin, nearest AS first. */
  readonly asPath: readonly number[];
  /** Each peer announcing the prefix and the origin it announces. */
  readonly routes: readonly { readonly peer: string; readonly originAs: number }[];
  readonly decision: RouteDecision;
  /** The decision in words: the origin's home, peers and time of a re-homing, the suspected hijack. */
  readonly reason: string;
  /** New origins not followed, each marked `suspected` once reported as a suspected hijack. */
  readonly originChanges: readonly (OriginChange & { readonly suspected: boolean })[];
  /** The origin's home when it decides (re-homed, origin-home): location and its share of the origin's addresses. */
  readonly home: (GeoLocation & { readonly share: number }) | null;
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
  /** Why the routed prefix covering `address` is located where it is; undefined when no route covers it. */
  explain?(address: string, dataset: GeoTable, now: number): RouteExplanation | undefined;
}
