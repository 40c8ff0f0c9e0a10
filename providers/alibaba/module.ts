import { ContainerModule } from 'inversify';
import { CLOUD_PROVIDER } from '../tokens';
import type { CloudProvider } from '../types';
import { AlibabaProvider } from './provider';

/** Binds the Alibaba driver as the `CloudProvider` named 'alibaba'. */
export const alibabaModule = new ContainerModule(({ bind }) => {
  bind<CloudProvider>(CLOUD_PROVIDER).to(AlibabaProvider).inSingletonScope().whenNamed('alibaba');
});
