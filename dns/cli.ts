/**
 * The light entry the `meridian` CLI's GeoIP commands import: what they need from `dns/`, without
 * the server (sockets, native addon, zones) and without the GeoIP channels they do not run.
 */
export { dumpMrt, type DumpResult, type DumpSink } from './geoip/channels/mrt/dump';
