import { ContainerModule } from 'inversify';
import { CLOUD_PROVIDER } from '../tokens';
import type { CloudProvider } from '../types';
import { AzureProvider } from './provider';

/** Binds the Azure driver as the `CloudProvider` named 'azure'. */
export const azureModule = new ContainerModule(({ bind }) => {
  bind<CloudProvider>(CLOUD_PROVIDER).to(AzureProvider).inSingletonScope().whenNamed('azure');
});
