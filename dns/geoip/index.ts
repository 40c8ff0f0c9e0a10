/** GeoIP lookup: a longest-prefix-match table over IPv4 and IPv6 and the holder that swaps it. */
export {
  GeoTable, GeoTableHolder, makeLocation, prepareGeoTable, continentOf, parseIp, tryParseIp, widestPrefixWithin,
  widestPrefixWithinV6, type GeoEntry, type GeoTableData, type PreparedGeoTable,
} from './table';
export type { GeoLocation, GeoMatch, GeoSource, ParsedIp, ParsedIpv4, ParsedIpv6 } from './types';
export { GeoIpError, type GeoIpErrorCode } from './errors';
export { geoipLiteDataDir, readGeoipLite, type GeoipLiteOptions } from './geoip-lite';
export { loadGeoipLite, type LoadOptions } from './loader';
export { knownCountries } from './continents';
export { packCountry, unpackCountry } from './columns';
export { normalizeRanges, normalizeV6Columns, type RangeRecord, type V6RangeColumns } from './ranges';
export {
  compareV6, formatIpv4, formatIpv6, mappedV4, parseIpv4, v6BlockEnd, v6BlockStart, v6WordsOf, type V6Words,
} from './ip';
