import Credential from '@alicloud/credentials';
import EcsClient from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import * as $Util from '@alicloud/tea-util';
import type { AlibabaDriverConfig } from '../config';
import { CloudError } from '../errors';

/** How long the SDK may wait for a connection and for an answer, in milliseconds. */
export interface EcsTimeouts {
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
}

/** Where one region's ECS API lives: `ecs.<region>.aliyuncs.com` over https, or the configured override. */
export function ecsEndpointFor(config: AlibabaDriverConfig | undefined, region: string): { host: string; protocol: 'http' | 'https' } {
  const override = config?.endpoint?.trim();
  if (!override) return { host: `ecs.${region}.aliyuncs.com`, protocol: 'https' };
  // The SDK wants a bare host[:port] and the scheme apart.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(override) ? override : `https://${override}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CloudError(`alibaba.endpoint '${override}' is not a URL such as http://127.0.0.1:4568`, { kind: 'invalid', cloud: 'alibaba', region, code: 'InvalidEndpoint' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CloudError(`alibaba.endpoint '${override}' must use http or https`, { kind: 'invalid', cloud: 'alibaba', region, code: 'InvalidEndpoint' });
  }
  return { host: url.host, protocol: url.protocol === 'http:' ? 'http' : 'https' };
}

/**
 * An ECS client for one region. Static keys when the configuration has both, else the default
 * chain of `@alicloud/credentials` (environment, OIDC, CLI profile, credentials file, ECS RAM role).
 * No retry policy is given to the SDK, so it makes exactly one attempt: `Resilience` retries.
 */
export function createEcsClient(config: AlibabaDriverConfig | undefined, region: string, timeouts: EcsTimeouts): EcsClient {
  const { host, protocol } = ecsEndpointFor(config, region);
  const accessKeyId = config?.accessKeyId;
  const accessKeySecret = config?.accessKeySecret;
  if (Boolean(accessKeyId) !== Boolean(accessKeySecret)) {
    // Half a key pair is a configuration mistake, not a cue to fall back to the default chain.
    const missing = accessKeyId ? 'accessKeySecret' : 'accessKeyId';
    throw new CloudError(`alibaba.${missing} is missing: give both accessKeyId and accessKeySecret, or neither to use the default credentials chain`,
      { kind: 'invalid', cloud: 'alibaba', region, code: 'IncompleteCredentials' });
  }
  return new EcsClient(new $OpenApi.Config({
    ...(accessKeyId && accessKeySecret ? { accessKeyId, accessKeySecret } : { credential: new Credential() }),
    endpoint: host,
    protocol,
    regionId: region,
    connectTimeout: timeouts.connectTimeoutMs,
    readTimeout: timeouts.readTimeoutMs,
  }));
}

/** Per-call runtime options: no SDK retries, bounded waits. */
export function ecsRuntime(timeouts: EcsTimeouts): $Util.RuntimeOptions {
  return new $Util.RuntimeOptions({
    autoretry: false,
    maxAttempts: 1,
    connectTimeout: timeouts.connectTimeoutMs,
    readTimeout: timeouts.readTimeoutMs,
  });
}
