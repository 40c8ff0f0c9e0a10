import type { ResilienceOptions } from './resilience';

/** AWS driver settings. Without `credentials`, the SDK's default chain (env, profile, IMDS) is used. */
export interface AwsDriverConfig {
  /** Overrides every region's EC2 endpoint, e.g. the emulator's `http://127.0.0.1:4566`. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

/** Azure driver settings. Without `token`, `DefaultAzureCredential` (env, CLI, managed identity) is used. */
export interface AzureDriverConfig {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** Overrides the Resource Manager endpoint, e.g. the emulator's `http://127.0.0.1:4567`. */
  readonly endpoint?: string;
  /** A static bearer token (the emulator's test token). */
  readonly token?: string;
}

/** Alibaba Cloud driver settings. Without keys, the default credential chain (env, profile) is used. */
export interface AlibabaDriverConfig {
  /** Overrides every region's ECS endpoint, e.g. the emulator's `http://127.0.0.1:4568`. */
  readonly endpoint?: string;
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
}

/** Settings of all drivers, bound once in the container. */
export interface ProvidersConfig {
  readonly aws?: AwsDriverConfig;
  readonly azure?: AzureDriverConfig;
  readonly alibaba?: AlibabaDriverConfig;
  /** Resilience overrides applied to every driver. */
  readonly resilience?: Partial<ResilienceOptions>;
}
