export { TokenBucket, type TokenBucketOptions } from './token-bucket';
export { CircuitBreaker, type BreakerOptions, type BreakerState } from './breaker';
export {
  Resilience, DEFAULT_RESILIENCE, resilienceOptions,
  type ApiClass, type AttemptEvent, type CallContext, type ErrorClassifier, type ResilienceClock,
  type ResilienceOptions, type RetryOptions,
} from './resilience';
