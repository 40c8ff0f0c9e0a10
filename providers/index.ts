/** The cloud layer: one `CloudProvider` interface over AWS, Azure and Alibaba Cloud. */
export * from './types';
export { CloudError, isCloudError, parseRetryAfter, type CloudErrorKind, type CloudErrorOptions } from './errors';
export type { AlibabaDriverConfig, AwsDriverConfig, AzureDriverConfig, ProvidersConfig } from './config';
export { createProviderContainer, providerFor } from './container';
export { CLOUD_PROVIDER, PROVIDERS_CONFIG } from './tokens';
export {
  catalogData, pricesAsOf, findRegion, findSize, listRegions, listSizes, resolveSize, tryFindRegion, tryFindSize, tryResolveSize,
  accountPartition, publicPartition, regionDenial, type RegionAccount, type RegionDenial,
} from './catalog';
export { Resilience, type AttemptEvent, type ResilienceOptions } from './resilience';
export { greatCircleKm } from './geo';
