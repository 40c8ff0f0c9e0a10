import 'reflect-metadata';
import { Container, type ContainerModule } from 'inversify';
import { alibabaModule } from './alibaba/module';
import { awsModule } from './aws/module';
import { azureModule } from './azure/module';
import type { ProvidersConfig } from './config';
import { CloudError } from './errors';
import { CLOUD_PROVIDER, PROVIDERS_CONFIG } from './tokens';
import type { CloudId, CloudProvider } from './types';

/** One module per driver; adding a cloud adds one line here. */
const DRIVER_MODULES: readonly ContainerModule[] = [awsModule, azureModule, alibabaModule];

/** A container with every driver bound by cloud name and the given settings. */
export function createProviderContainer(config: ProvidersConfig): Container {
  const container = new Container();
  container.bind<ProvidersConfig>(PROVIDERS_CONFIG).toConstantValue(Object.freeze({ ...config }));
  container.load(...DRIVER_MODULES);
  return container;
}

/** The driver of one cloud. */
export function providerFor(container: Container, cloud: CloudId): CloudProvider {
  if (!container.isBound(CLOUD_PROVIDER, { name: cloud })) {
    throw new CloudError(`no driver is registered for cloud '${cloud}'`, { kind: 'invalid', cloud, code: 'UnknownCloud' });
  }
  return container.get<CloudProvider>(CLOUD_PROVIDER, { name: cloud });
}
