/** A located point: coordinates in degrees, ISO country and continent codes. */
export interface GeoLocation {
  /** Latitude in degrees, WGS 84. */
  readonly lat: number;
  /** Longitude in degrees, WGS 84. */
  readonly lon: number;
  /** ISO 3166-1 alpha-2 country code, `''` when the dataset does not know it. */
  readonly country: string;
  /** Continent code (AF AN AS EU NA OC SA), `''` when unknown. */
  readonly continent: string;
}

/**
 * Where a table's knowledge comes from. `static` is the data shipped with geoip-lite (always
 * available), `dataset` a verified downloaded package, `overlay` the routing overlay, `cache` the
 * hot-prefix cache.
 */
export type GeoSource = 'dataset' | 'overlay' | 'cache' | 'static';

/** The layers of a merged table, highest priority first (a range of a higher layer hides lower ones). */
export const GEO_LAYERS = ['overlay', 'dataset', 'cache', 'static'] as const satisfies readonly GeoSource[];

/** The channels that can produce a range, in the order of `CHANNEL_KINDS` (`dns/geoip/channels`). */
export const GEO_CHANNELS = ['bgp', 'ris', 'signed', 'static'] as const;
/** The channel that produced a range. */
export type GeoChannelName = (typeof GEO_CHANNELS)[number];

/** The answer to one lookup: the location plus the table entry that decided it. */
export interface GeoMatch extends GeoLocation {
  /**
   * The widest CIDR block that contains the address and lies inside the matched entry's range,
   * e.g. `81.2.69.0/24`; suitable as an EDNS Client Subnet scope (RFC 7871 section 7.2.1).
   */
  readonly prefix: string;
  /** The prefix length of `prefix`. */
  readonly prefixLength: number;
  /** Which layer decided the answer. */
  readonly source: GeoSource;
  /** Which channel produced the range that decided. */
  readonly channel: GeoChannelName;
}

export type { ParsedIp, ParsedIpv4, ParsedIpv6 } from '../ip';
