import { ContainerModule } from 'inversify';
import { CLOUD_PROVIDER } from '../tokens';
import type { CloudProvider } from '../types';
import { AwsProvider } from './provider';

/** Binds the Aws driver as the `CloudProvider` named 'aws'. */
export const awsModule = new ContainerModule(({ bind }) => {
  bind<CloudProvider>(CLOUD_PROVIDER).to(AwsProvider).inSingletonScope().whenNamed('aws');
});
