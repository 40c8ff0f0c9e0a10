/**
 * The cloud drivers: the inversify container binding one `CloudProvider` per cloud, its tokens and
 * the resilience layer they share. Loading this entry loads the three clouds' SDKs; the light
 * `providers` entry (types, errors, catalog, geography) does not. Also the catalog refresh, which
 * reads regions, instance types and offerings through the same SDKs.
 */
export { createProviderContainer, providerFor } from '../container';
export { CLOUD_PROVIDER, PROVIDERS_CONFIG } from '../tokens';
export {
  CircuitBreaker, DEFAULT_RESILIENCE, Resilience, TokenBucket, resilienceOptions,
  type AttemptEvent, type BreakerOptions, type BreakerState, type ResilienceOptions, type TokenBucketOptions,
} from '../resilience';
export { readCloudCatalog, refreshCatalog, type CatalogRefresh, type CloudReading, type ReadRegion, type ReadType, type RefreshNote } from '../refresh';
