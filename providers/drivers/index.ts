/**
 * The cloud drivers: the inversify container binding one `CloudProvider` per cloud, its tokens and
 * the resilience layer they share. Loading this entry loads the three clouds' SDKs; the light
 * `providers` entry (types, errors, catalog, geography) does not.
 */
export { createProviderContainer, providerFor } from '../container';
export { CLOUD_PROVIDER, PROVIDERS_CONFIG } from '../tokens';
export {
  CircuitBreaker, DEFAULT_RESILIENCE, Resilience, TokenBucket, resilienceOptions,
  type AttemptEvent, type BreakerOptions, type BreakerState, type ResilienceOptions, type TokenBucketOptions,
} from '../resilience';
