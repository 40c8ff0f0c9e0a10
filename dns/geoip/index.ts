/** GeoIP lookup: a longest-prefix-match table over IPv4 and IPv6 and the holder that swaps it. */
export {
  GeoTable, GeoTableHolder, makeLocation, prepareGeoTable, continentOf, parseIp, tryParseIp, widestPrefixWithin,
  widestPrefixWithinV6, type GeoEntry, type GeoTableData, type PreparedGeoTable,
} from './table';
export type { GeoChannelName, GeoLocation, GeoMatch, GeoSource, ParsedIp, ParsedIpv4, ParsedIpv6 } from './types';
export { GEO_CHANNELS, GEO_LAYERS } from './types';
export {
  channelOf, defaultChannel, layerOf, NO_PROVENANCE, PROVENANCE_CODES, provenanceCode, type ProvenanceCode,
} from './provenance';
export { mergeLayers, type GeoLayerData } from './layers';
export { LayerBuilder, type GeoLayer } from './layer-builder';
export { GeoIpError, type GeoIpErrorCode } from './errors';
export { geoipLiteDataDir, readGeoipLite, type GeoipLiteOptions } from './geoip-lite';
export { loadGeoipLite, type LoadOptions } from './loader';
export { knownCountries } from './continents';
export { packCountry, unpackCountry } from './columns';
export { normalizeRanges, normalizeV6Columns, type RangeRecord, type V6RangeColumns } from './ranges';
export {
  compareV6, formatIpv4, formatIpv6, mappedV4, parseIpv4, v6BlockEnd, v6BlockStart, v6WordsOf, type V6Words,
} from './ip';
