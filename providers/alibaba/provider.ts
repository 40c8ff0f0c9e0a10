import { inject, injectable } from 'inversify';
import type { ProvidersConfig } from '../config';
import { CloudError } from '../errors';
import { PROVIDERS_CONFIG } from '../tokens';
import type { CloudProvider, Instance, InstanceSpec, ProviderCapabilities } from '../types';

/** The Alibaba driver (not yet implemented). */
@injectable()
export class AlibabaProvider implements CloudProvider {
  readonly cloud = 'alibaba' as const;
  readonly capabilities: ProviderCapabilities = { spot: false, maxTags: 10, maxPageSize: 100 };

  constructor(@inject(PROVIDERS_CONFIG) readonly config: ProvidersConfig) {}

  createInstance(spec: InstanceSpec): Promise<Instance> {
    return Promise.reject(new CloudError('not implemented', { kind: 'invalid', cloud: this.cloud, region: spec.region }));
  }

  getInstance(region: string, _id: string): Promise<Instance | undefined> {
    return Promise.reject(new CloudError('not implemented', { kind: 'invalid', cloud: this.cloud, region }));
  }

  async *listInstances(region: string): AsyncIterable<Instance> {
    yield* [];
    throw new CloudError('not implemented', { kind: 'invalid', cloud: this.cloud, region });
  }

  terminateInstance(region: string, _id: string): Promise<void> {
    return Promise.reject(new CloudError('not implemented', { kind: 'invalid', cloud: this.cloud, region }));
  }
}
