/** Container identifier of `CloudProvider` bindings, named by cloud id. */
export const CLOUD_PROVIDER = Symbol.for('meridian.CloudProvider');

/** Container identifier of the `ProvidersConfig` constant. */
export const PROVIDERS_CONFIG = Symbol.for('meridian.ProvidersConfig');
