/**
 * The cloud layer's light surface: the `CloudProvider` interface and its types, errors, the region
 * and size catalog and geography. Loads no cloud SDK: the drivers and their container are behind
 * `providers/drivers`, the emulators behind `providers/emulator`.
 */
export * from './types';
export { CloudError, isCloudError, parseRetryAfter, type CloudErrorKind, type CloudErrorOptions } from './errors';
export type { AlibabaDriverConfig, AwsDriverConfig, AzureDriverConfig, ProvidersConfig } from './config';
export {
  catalogData, pricesAsOf, findRegion, findSize, listRegions, listSizes, resolveSize, tryFindRegion, tryFindSize, tryResolveSize,
  accountPartition, publicPartition, regionDenial, type RegionAccount, type RegionDenial,
  bundledCatalogData, catalogGeneration, catalogSettingsRegions, installCatalog, useCatalogSettings, readCatalogFile, validateCatalogFile,
  CATALOG_FILE_FORMAT, CATALOG_FILE_VERSION, CatalogFileError, CatalogSettingsSchema,
  type CatalogFile, type CatalogFileCloud, type CatalogFileIssue, type CatalogFileSize, type CatalogSettings, type CloudCatalogData,
} from './catalog';
export type { AttemptEvent, ResilienceOptions } from './resilience';
export { greatCircleKm } from './geo';
