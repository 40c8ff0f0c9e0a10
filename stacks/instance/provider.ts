import type * as dynamic from '@pulumi/pulumi/dynamic';
import type * as Operations from './operations';
import type { InstanceInputs, InstanceOutputs } from './types';

/**
 * The operations module as the package exports it (`exports` of package.json). The provider
 * process resolves it from the project directory, so the state records this name and no path.
 */
export const OPERATIONS_MODULE = 'meridian/stacks/instance-operations';

/** What the serialized provider carries: plain data only. */
export interface InstanceProviderSettings {
  /**
   * Module specifier of the compiled operations module, resolved when a method is called from the
   * provider process's working directory (Pulumi runs it in the project directory): a package
   * name such as `OPERATIONS_MODULE`, never an absolute path.
   */
  readonly operationsModule: string;
}

/** The dynamic provider of `meridian:cloud:Instance`. */
export type InstanceProvider = dynamic.ResourceProvider<InstanceInputs, InstanceOutputs>;

/**
 * A provider for `meridian:cloud:Instance` that Pulumi can serialize: each method resolves the
 * operations module by package name when called, so the closure captures one string and no SDK
 * client, driver, class instance or path. The provider process creates the drivers.
 *
 * The name is resolved as if required from `<working directory>/package.json`: a program that
 * installed the package finds `node_modules/meridian`, and Meridian's own project (whose
 * package.json is named `meridian`) finds itself through its `exports`. Either way the module
 * is the build output, so `npm run build` must have run in a checkout.
 */
export function instanceProvider(settings: InstanceProviderSettings): InstanceProvider {
  const operationsModule = settings.operationsModule;
  const ops = (): typeof Operations => {
    // Built-ins are required here rather than captured, so the serialized text holds only their names.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { createRequire } = require('node:module') as typeof import('node:module');
    const { join } = require('node:path') as typeof import('node:path');
    const { cwd } = require('node:process') as typeof import('node:process');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const from = join(cwd(), 'package.json');
    try {
      return createRequire(from)(operationsModule) as typeof Operations;
    } catch (err) {
      throw new Error(`the Instance provider cannot load '${operationsModule}' from ${cwd()}: install the meridian package in this `
        + `Pulumi project (npm install), or in Meridian's checkout run 'npm run build' (${(err as Error).message.split('\n')[0]})`, { cause: err });
    }
  };
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

/** The provider for `OPERATIONS_MODULE` (or the given module), the same object on every call. */
export function sharedInstanceProvider(operationsModule = OPERATIONS_MODULE): InstanceProvider {
  let provider = shared.get(operationsModule);
  if (!provider) {
    provider = instanceProvider({ operationsModule });
    shared.set(operationsModule, provider);
  }
  return provider;
}
