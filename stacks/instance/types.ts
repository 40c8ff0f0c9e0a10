import type { CloudId, InstanceState, ProvidersConfig } from '../../providers';

/**
 * The Pulumi type token of an Instance. Dynamic resources always live in the `pulumi-nodejs`
 * package (the engine routes them to the dynamic-provider plugin by that package), so the
 * `meridian:cloud:Instance` type is spelled as module `meridian/cloud`, member `Instance`.
 */
export const INSTANCE_TYPE = 'pulumi-nodejs:dynamic/meridian/cloud:Instance';

/** Module and member passed to `pulumi.dynamic.Resource` to form `INSTANCE_TYPE`. */
export const INSTANCE_TYPE_PARTS = Object.freeze({ module: 'meridian/cloud', member: 'Instance' } as const);

/** Default seconds `create` waits for the instance to reach `running` before reporting it unready. */
export const DEFAULT_READY_TIMEOUT_SECONDS = 600;

/** Largest `readyTimeoutSeconds` accepted (one hour). */
export const MAX_READY_TIMEOUT_SECONDS = 3_600;

/**
 * Inputs of a `meridian:cloud:Instance`, after Pulumi resolved them: plain JSON only, so they
 * round-trip through the engine and the serialized provider.
 */
export interface InstanceInputs {
  readonly cloud: CloudId;
  readonly region: string;
  /** The cloud's instance type. */
  readonly size: string;
  readonly image: string;
  /** The workload this instance serves; written to the `meridian:workload` tag by the driver. */
  readonly workload: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly spot?: boolean;
  readonly userData?: string;
  /** The resource's own URN (`urn` is reserved by Pulumi); the idempotency key is derived from it. */
  readonly resourceUrn: string;
  /** Seconds `create` waits for `running` (0: do not wait). */
  readonly readyTimeoutSeconds?: number;
  /**
   * Driver settings (endpoint, credentials, resilience). Absent parts fall back to the clouds'
   * usual credential sources at call time. Stored as a secret in the stack state.
   */
  readonly connection?: ProvidersConfig;
  /**
   * The catalog file region and size are checked against, relative to the provider's working
   * directory (the project directory); the bundled catalog when absent.
   */
  readonly catalogFile?: string;
}

/** State of a `meridian:cloud:Instance`: its inputs plus what the cloud reported. */
export interface InstanceOutputs extends InstanceInputs {
  /** The idempotency key the instance was created with (URN, replace-triggering inputs, generation). */
  readonly idempotencyKey: string;
  /** The cloud's instance id (also the Pulumi resource id). */
  readonly instanceId: string;
  readonly state: InstanceState;
  readonly publicIp?: string;
  readonly privateIp?: string;
  readonly launchedAt: string;
  /** Tags as the cloud reports them, Meridian's own included. */
  readonly cloudTags: Readonly<Record<string, string>>;
}

/** Inputs whose change replaces the instance (a new one is created before the old one is deleted). */
export const REPLACE_ON_CHANGE: readonly (keyof InstanceInputs)[] = Object.freeze(['cloud', 'region', 'size', 'image', 'spot', 'userData']);

/** Inputs whose change is applied in place. */
export const UPDATE_IN_PLACE: readonly (keyof InstanceInputs)[] = Object.freeze(['tags', 'workload', 'readyTimeoutSeconds', 'connection', 'catalogFile']);

/**
 * A driver that can rewrite an instance's tags. Not part of `CloudProvider` yet; `update` uses it
 * when a driver offers it and otherwise records the desired tags next to the cloud's `cloudTags`.
 */
export interface TagWriter {
  /** Sets the instance's tags to `tags` (user tags and `meridian:workload`); the driver keeps `meridian:key`. */
  updateTags(region: string, id: string, tags: Readonly<Record<string, string>>): Promise<unknown>;
}
