/**
 * Every supported cloud, in a stable order: the one list that `CloudId`, the schemas' unions and
 * the checks derive from. Adding a cloud adds one id here and one driver folder.
 */
export const CLOUD_IDS = Object.freeze(['aws', 'azure', 'alibaba'] as const);

/** Identifiers of the clouds Meridian drives. */
export type CloudId = (typeof CLOUD_IDS)[number];

/**
 * The partitions (AWS) and sovereign clouds (Azure) of each cloud, public one first. An account
 * lives in exactly one of them and cannot use a region of another: AWS China and GovCloud, Azure
 * China (21Vianet) and Azure Government need accounts of their own.
 */
export const PARTITIONS = Object.freeze({
  aws: Object.freeze(['aws', 'aws-cn', 'aws-us-gov'] as const),
  azure: Object.freeze(['azure', 'azure-china', 'azure-us-gov'] as const),
  alibaba: Object.freeze(['alibaba'] as const),
} satisfies Record<CloudId, readonly string[]>);

/** A partition or sovereign cloud: `aws`, `aws-cn`, `aws-us-gov`, `azure`, `azure-china`, `azure-us-gov`, `alibaba`. */
export type Partition = (typeof PARTITIONS)[CloudId][number];

/**
 * Who may use a region of its partition: every account (`default`); accounts that enabled it
 * (`opt-in`: AWS regions launched since 2019); subscriptions Microsoft granted access to
 * (`restricted`: Azure's access-restricted regions, kept for in-country disaster recovery).
 */
export type RegionAccess = 'default' | 'opt-in' | 'restricted';

/** Two-letter continent codes as used by GeoIP data: AF AN AS EU NA OC SA. */
export type Continent = 'AF' | 'AN' | 'AS' | 'EU' | 'NA' | 'OC' | 'SA';

/** A public region of one cloud, located for distance and residency decisions. */
export interface Region {
  readonly cloud: CloudId;
  /** The cloud's own region id: `eu-central-1`, `westeurope`, `cn-hangzhou`. */
  readonly id: string;
  /** Display name: `Europe (Frankfurt)`. */
  readonly name: string;
  /** ISO 3166-1 alpha-2 country code of the region's data centres. */
  readonly country: string;
  readonly continent: Continent;
  readonly lat: number;
  readonly lon: number;
  /** The partition or sovereign cloud the region belongs to. */
  readonly partition: Partition;
  /** Whether an account of that partition can use the region without enabling it. */
  readonly access: RegionAccess;
}

/** CPU architecture of an instance type. */
export type Arch = 'x86_64' | 'arm64';

/** A cloud-neutral size request, resolved per region to the cheapest fitting instance type. */
export interface SizeRequest {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly arch?: Arch;
}

/** One row of a cloud's size table. */
export interface InstanceTypeInfo {
  readonly cloud: CloudId;
  /** The cloud's type name: `m6i.large`, `Standard_D2s_v5`, `ecs.g7.large`. */
  readonly name: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly arch: Arch;
}

/** An instance type resolved in one region, with its on-demand list price. */
export interface ResolvedSize extends InstanceTypeInfo {
  readonly region: string;
  /** The on-demand list price; 0 when `priceKnown` is false. */
  readonly usdPerHour: number;
  /** False for a type whose price the catalog does not know: placeable by name, never the cheapest fit. */
  readonly priceKnown?: false;
}

/** Lifecycle states, normalized over the three clouds. */
export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'terminating' | 'terminated';

/** What to create. `idempotencyKey` makes `createInstance` safe to retry. */
export interface InstanceSpec {
  readonly workload: string;
  readonly cloud: CloudId;
  readonly region: string;
  /** The cloud's instance type name. */
  readonly size: string;
  /** AMI id, Azure image URN (`publisher:offer:sku:version`) or Alibaba image id. */
  readonly image: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Stable key for this one instance; the same key never yields two instances. */
  readonly idempotencyKey: string;
  readonly spot?: boolean;
  readonly userData?: string;
}

/** An instance as a cloud reports it. */
export interface Instance {
  readonly cloud: CloudId;
  readonly region: string;
  readonly id: string;
  readonly state: InstanceState;
  readonly size: string;
  readonly publicIp?: string;
  readonly privateIp?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** ISO 8601 launch time. */
  readonly launchedAt: string;
}

/** What a driver can do beyond the common interface. */
export interface ProviderCapabilities {
  readonly spot: boolean;
  /** Largest number of tags the cloud accepts on one instance. */
  readonly maxTags: number;
  /** Largest page the list call returns. */
  readonly maxPageSize: number;
}

/** Tag keys Meridian writes on every instance it creates, so a restart can adopt or clean up. */
export const MERIDIAN_TAGS = Object.freeze({
  workload: 'meridian:workload',
  key: 'meridian:key',
} as const);

/**
 * One cloud behind one small interface. Every method rejects only with `CloudError`.
 *
 * Failure semantics:
 * - `createInstance` rejecting with a retryable error may still have created the instance:
 *   retry with the same `idempotencyKey` and the cloud returns that same instance.
 *   A non-retryable rejection (`invalid`, `auth`, `capacity`, `quota`) created nothing.
 * - `terminateInstance` is idempotent: an instance that is already gone is success.
 * - `listInstances` yields every page; if it rejects midway, the pages already yielded are valid.
 */
export interface CloudProvider {
  readonly cloud: CloudId;
  readonly capabilities: ProviderCapabilities;
  /** Creates (or returns the existing) instance for `spec.idempotencyKey`. */
  createInstance(spec: InstanceSpec): Promise<Instance>;
  /** The instance, or undefined when the cloud does not know it (terminated long ago or never existed). */
  getInstance(region: string, id: string): Promise<Instance | undefined>;
  /** Every instance in the region carrying all of `tags`, across all pages. */
  listInstances(region: string, tags?: Readonly<Record<string, string>>): AsyncIterable<Instance>;
  /** Terminates the instance; resolves when the cloud accepted it or it was already gone. */
  terminateInstance(region: string, id: string): Promise<void>;
  /**
   * The region ids the account can use now, as the cloud reports them (open to every account, or
   * opted in); absent where the driver cannot ask. Read-only: a rejection leaves nothing behind.
   */
  enabledRegions?(): Promise<readonly string[]>;
}
