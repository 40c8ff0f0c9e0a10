import type { GeoSource } from './types';

/**
 * The columns a `GeoTable` is made of: plain typed arrays, so a table built in a worker thread can
 * be transferred without copying. Ranges are sorted, disjoint and inclusive; bounds are unsigned
 * 32-bit words, most significant first.
 */
export interface GeoTableData {
  readonly source: GeoSource;
  /** Latitude in degrees of each location. */
  readonly locationLat: Float64Array;
  /** Longitude in degrees of each location. */
  readonly locationLon: Float64Array;
  /** ISO alpha-2 country of each location as two character codes packed in a u16; 0 when unknown. */
  readonly locationCountry: Uint16Array;
  /** 2 words per IPv4 range: start, end. */
  readonly v4Bounds: Uint32Array;
  /** Location index of each IPv4 range. */
  readonly v4Locations: Uint32Array;
  /** 8 words per IPv6 range: start (4 words), end (4 words). */
  readonly v6Bounds: Uint32Array;
  /** Location index of each IPv6 range. */
  readonly v6Locations: Uint32Array;
  /**
   * Provenance code (`provenanceCode(layer, channel)`) of each IPv4 range, for a table merged from
   * layers; absent: every range comes from `source` and its usual channel.
   */
  readonly v4Provenance?: Uint8Array;
  /** Provenance code of each IPv6 range, as `v4Provenance`. */
  readonly v6Provenance?: Uint8Array;
}

/** Packs an ISO alpha-2 code into a u16 (0 for ''). */
export function packCountry(country: string): number {
  return country.length === 2 ? (country.charCodeAt(0) << 8) | country.charCodeAt(1) : 0;
}

/** Unpacks a u16 country code ('' for 0). */
export function unpackCountry(packed: number): string {
  return packed === 0 ? '' : String.fromCharCode(packed >>> 8, packed & 0xff);
}
