/** Stable codes of GeoIP errors; callers branch on these, never on message text. */
export type GeoIpErrorCode =
  | 'GEOIP_BAD_ADDRESS'   // text is not an IPv4 or IPv6 address
  | 'GEOIP_BAD_RANGE'     // a range is inverted, unsorted or overlaps its neighbour
  | 'GEOIP_BAD_DATA'      // a data file is missing, truncated or inconsistent
  | 'GEOIP_BAD_LOCATION'; // a location has out-of-range coordinates or a malformed code

/** The one error type of `dns/geoip`. */
export class GeoIpError extends Error {
  override readonly name = 'GeoIpError';
  readonly code: GeoIpErrorCode;

  constructor(code: GeoIpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
