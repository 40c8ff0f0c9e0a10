import { PARTITIONS, type CloudId, type Partition, type Region } from '../types';

/**
 * What one cloud account (per cloud) may use: its partition and the opt-in or access-restricted
 * regions it enabled. The empty account is a public-partition account with nothing enabled.
 */
export interface RegionAccount {
  /** The account's partition per cloud; a cloud left out is in its public partition. */
  readonly partitions?: Readonly<Partial<Record<CloudId, Partition>>>;
  /** Opt-in and access-restricted regions the account enabled, as `cloud:region` (`aws:af-south-1`). */
  readonly enabled?: readonly string[];
}

/** Why an account cannot use a region: `partition` (another partition) or `not-enabled`. */
export interface RegionDenial {
  readonly code: 'partition' | 'not-enabled';
  readonly reason: string;
}

/** The public partition of a cloud: `aws`, `azure`, `alibaba`. */
export function publicPartition(cloud: CloudId): Partition {
  return PARTITIONS[cloud][0];
}

/** The account's partition in a cloud. */
export function accountPartition(account: RegionAccount, cloud: CloudId): Partition {
  return account.partitions?.[cloud] ?? publicPartition(cloud);
}

const ENABLED = new WeakMap<RegionAccount, ReadonlySet<string>>();

/** Why the account cannot use the region, or undefined when it can. Treats the account as immutable. */
export function regionDenial(account: RegionAccount, region: Region): RegionDenial | undefined {
  const mine = accountPartition(account, region.cloud);
  if (region.partition !== mine) {
    return { code: 'partition', reason: `partition ${region.partition} is not the account's partition (${mine})` };
  }
  if (region.access === 'default') return undefined;
  let enabled = ENABLED.get(account);
  if (!enabled) ENABLED.set(account, (enabled = new Set(account.enabled ?? [])));
  if (enabled.has(`${region.cloud}:${region.id}`)) return undefined;
  return { code: 'not-enabled', reason: `${region.access === 'opt-in' ? 'opt-in' : 'access-restricted'} region not enabled` };
}
