/**
 * The signed GeoIP package channel and its publisher side; also the light entry through which the
 * `meridian` CLI's `geoip package build` and `resolve` commands reach `dns/` (never the server's index).
 */
export { SignedPackageChannel, type CheckOutcome, type SignedChannelOptions } from './channel';
export {
  SignedChannelSettingsSchema, SignedSettingsError, loadSignedChannelSettings, type SignedChannelSettings, type SignedSettingsIssue,
} from './settings';
export {
  buildPackage, openPackage, loadPackageTable, parseManifest, sha256File, GEOIP_LITE_FILES, MMDB_FILE, PACKAGE_FORMAT_VERSION,
  type BuildPackageOptions, type BuiltPackage, type OpenedPackage, type PackageManifest,
} from './package';
export {
  SignedRejection, formatPackageRecord, parsePackageRecord, RECORD_VERSION, type PackageRecord, type SignedRejectionCode, type TrustAnchor,
} from './validate';
export { parseServerAddress, queryDnssec, resolveWithSubnet, type ResolveResult, type ResolvedRecord, type ServerAddress } from './dns-client';
export { readMmdb } from './mmdb';
