import * as pulumi from '@pulumi/pulumi';
import type { CloudId, InstanceState, ProvidersConfig } from '../../providers';
import { sharedInstanceProvider, type InstanceProvider } from './provider';
import { INSTANCE_TYPE, INSTANCE_TYPE_PARTS } from './types';

/** Arguments of an `Instance`. */
export interface InstanceArgs {
  readonly cloud: pulumi.Input<CloudId>;
  readonly region: pulumi.Input<string>;
  /** The cloud's instance type, e.g. `m6i.large`. */
  readonly size: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly workload: pulumi.Input<string>;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly spot?: pulumi.Input<boolean>;
  readonly userData?: pulumi.Input<string>;
  /** Seconds `create` waits for the instance to start (default 600; 0 does not wait). */
  readonly readyTimeoutSeconds?: pulumi.Input<number>;
  /** Driver settings; omitted parts fall back to the clouds' usual credential sources. */
  readonly connection?: pulumi.Input<ProvidersConfig>;
  /**
   * A catalog file written by `meridian catalog refresh`, as a path relative to the project
   * directory (kept so in the state): the provider checks region and size against it instead of
   * the bundled catalog. A change updates in place.
   */
  readonly catalogFile?: pulumi.Input<string>;
}

/**
 * The URN the engine will give this resource. The parent's URN is taken as a plain value: an input
 * that depends on a component waits for all of that component's children, so sibling Instances
 * depending on their parent's URN would wait for each other forever.
 */
function urnOf(name: string, parent: pulumi.Resource | undefined): pulumi.Output<string> {
  if (!parent) return pulumi.createUrn(name, INSTANCE_TYPE);
  const parentUrn = new Promise<string>((resolve) => parent.urn.apply((urn) => { resolve(urn); return urn; }));
  return pulumi.createUrn(name, INSTANCE_TYPE, pulumi.output(parentUrn));
}

/**
 * One cloud instance created through Meridian's `CloudProvider` drivers (`meridian:cloud:Instance`).
 * A change of cloud, region, size, image, spot or user data replaces it (create before delete);
 * tags, connection settings and the catalog file change in place. Connection settings are kept as a
 * secret in the state.
 */
export class Instance extends pulumi.dynamic.Resource {
  /** The cloud's instance id. */
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly state: pulumi.Output<InstanceState>;
  declare readonly publicIp: pulumi.Output<string | undefined>;
  declare readonly privateIp: pulumi.Output<string | undefined>;
  declare readonly launchedAt: pulumi.Output<string>;
  declare readonly idempotencyKey: pulumi.Output<string>;
  declare readonly cloudTags: pulumi.Output<Record<string, string>>;
  declare readonly cloud: pulumi.Output<CloudId>;
  declare readonly region: pulumi.Output<string>;
  declare readonly size: pulumi.Output<string>;

  constructor(name: string, args: InstanceArgs, opts: pulumi.CustomResourceOptions = {}, provider: InstanceProvider = sharedInstanceProvider()) {
    const props = {
      ...args,
      // The URN is stable across runs of the same stack: the idempotency key derives from it.
      resourceUrn: urnOf(name, opts.parent),
      // Outputs are declared as undefined inputs so Pulumi registers them as properties.
      instanceId: undefined, state: undefined, publicIp: undefined, privateIp: undefined, launchedAt: undefined,
      idempotencyKey: undefined, cloudTags: undefined,
    };
    const secret = [...(opts.additionalSecretOutputs ?? []), 'connection'];
    super(provider, name, props, { ...opts, additionalSecretOutputs: secret }, INSTANCE_TYPE_PARTS.module, INSTANCE_TYPE_PARTS.member);
  }
}
