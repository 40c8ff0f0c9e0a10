import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as dynamic from '@pulumi/pulumi/dynamic';
import type * as Operations from './operations';
import type { InstanceInputs, InstanceOutputs } from './types';

/** What the serialized provider carries: plain data only. */
export interface InstanceProviderSettings {
  /** Absolute path of the compiled `operations.js` that the provider process loads at call time. */
  readonly operationsModule: string;
}

/** The dynamic provider of `meridian:cloud:Instance`. */
export type InstanceProvider = dynamic.ResourceProvider<InstanceInputs, InstanceOutputs>;

/**
 * The compiled operations module. From the build output (`dist/stacks/instance/provider.js`) it
 * sits beside this file. Under ts-node (`pulumi up` straight from the TypeScript sources) the
 * dynamic-provider process has no TypeScript loader, so the build output is used: `npm run build`
 * must have run.
 */
export function defaultOperationsModule(): string {
  if (__filename.endsWith('.js')) return join(__dirname, 'operations.js');
  const compiled = resolve(__dirname, '..', '..', 'dist', 'stacks', 'instance', 'operations.js');
  if (!existsSync(compiled)) {
    throw new Error(`the Instance provider runs the compiled ${compiled}, which does not exist: run 'npm run build' before 'pulumi up'`);
  }
  return compiled;
}

/**
 * A provider for `meridian:cloud:Instance` that Pulumi can serialize: each method loads the
 * operations module by its absolute path when called, so the closure captures one string and no
 * SDK client, driver or class instance. The provider process creates the drivers.
 */
export function instanceProvider(settings: InstanceProviderSettings): InstanceProvider {
  const operationsModule = settings.operationsModule;
  // Loading at call time is what keeps the serialized closure free of SDK objects.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ops = () => require(operationsModule) as typeof Operations;
  return {
    check: (olds, news) => ops().check(olds, news as unknown as Record<string, unknown>),
    diff: (id, olds, news) => ops().diff(id, olds, news),
    create: (inputs) => ops().create(inputs as unknown as Record<string, unknown>),
    read: (id, props) => ops().read(id, props),
    update: (id, olds, news) => ops().update(id, olds, news as unknown as Record<string, unknown>),
    delete: (id, props) => ops().destroy(id, props),
  };
}

// One provider object per operations module: Pulumi serializes each provider object once and caches it.
const shared = new Map<string, InstanceProvider>();

/** The provider for the default operations module, the same object on every call. */
export function sharedInstanceProvider(operationsModule = defaultOperationsModule()): InstanceProvider {
  let provider = shared.get(operationsModule);
  if (!provider) {
    provider = instanceProvider({ operationsModule });
    shared.set(operationsModule, provider);
  }
  return provider;
}
