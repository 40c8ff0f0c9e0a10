import { Type, type Static, type TLiteral, type TOptional, type TUnion } from '@sinclair/typebox';
import { accountPartition, CLOUD_IDS, listRegions, PARTITIONS, tryFindRegion, type CloudId, type Region, type RegionAccount } from '../../providers';
import { didYouMean } from '../api/suggest';

type PartitionSchema<C extends CloudId> = TOptional<TUnion<TLiteral<(typeof PARTITIONS)[C][number]>[]>>;

function partitionOf<C extends CloudId>(cloud: C): PartitionSchema<C> {
  return Type.Optional(Type.Union(PARTITIONS[cloud].map((p) => Type.Literal(p)), { description: `the ${cloud} account's partition` }));
}

// fromEntries cannot know the keys are exactly CLOUD_IDS; they are.
const partitionsByCloud = Object.fromEntries(CLOUD_IDS.map((c) => [c, partitionOf(c)])) as unknown as { [C in CloudId]: PartitionSchema<C> };

/** Which regions the configured cloud accounts can use (the scheduler's and a stack's `regions` settings). */
export const RegionSettingsSchema = Type.Object({
  /** The partition or sovereign cloud of each cloud's account; the public one when left out. */
  partitions: Type.Object(partitionsByCloud, { additionalProperties: false, default: {} }),
  /**
   * Opt-in (AWS) and access-restricted (Azure) regions the accounts have enabled, as
   * `cloud:region` (`aws:af-south-1`, `azure:germanynorth`); placement uses no other such region.
   */
  enabled: Type.Array(Type.String({ pattern: '^[a-z]+:[a-z0-9-]+$', description: 'cloud:region, as aws:af-south-1' }), { default: [] }),
}, { additionalProperties: false, default: {} });

/** Validated region settings; they are a `RegionAccount` for placement. */
export type RegionSettings = Static<typeof RegionSettingsSchema>;

/** A problem of region settings with its key path. */
export interface RegionSettingsIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Problems of schema-valid region settings that the schema cannot see: every `enabled` entry must
 * name a catalog region (the nearest name is suggested) of its account's partition. `at` is the
 * key path of the settings (`/regions`); each issue's path continues it. `regions` is the catalog
 * checked against: the installed one unless a configuration names another (`catalogSettingsRegions`).
 */
export function regionSettingsIssues(settings: RegionSettings, at: string, regions: readonly Region[] = listRegions()): RegionSettingsIssue[] {
  const issues: RegionSettingsIssue[] = [];
  const known = new Map(regions.map((r) => [`${r.cloud}:${r.id}`, r]));
  settings.enabled.forEach((ref, i) => {
    const path = `${at}/enabled/${i}`;
    const region = known.get(ref);
    if (!region) {
      const cloud = ref.slice(0, ref.indexOf(':'));
      if (!(CLOUD_IDS as readonly string[]).includes(cloud)) {
        const guess = didYouMean(cloud, CLOUD_IDS);
        issues.push({ path, message: `unknown cloud '${cloud}' in '${ref}'${guess ? `; did you mean '${guess}'?` : `; clouds are ${CLOUD_IDS.join(', ')}`}` });
        return;
      }
      const guess = didYouMean(ref, [...known.keys()].filter((k) => k.startsWith(`${cloud}:`)));
      issues.push({ path, message: `unknown region '${ref}'${guess ? `; did you mean '${guess}'?` : ''}` });
      return;
    }
    const mine = accountPartition(settings, region.cloud);
    if (region.partition !== mine) {
      issues.push({ path, message: `'${ref}' is in partition ${region.partition}, not the ${region.cloud} account's partition ${mine} (set ${at}/partitions/${region.cloud})` });
    }
  });
  return issues;
}

/**
 * The account's region settings widened by the regions a cloud reported as enabled (region ids of
 * that cloud); reported regions of another partition or open to every account add nothing.
 */
export function withReportedRegions(account: RegionAccount, cloud: CloudId, reported: readonly string[]): RegionAccount {
  const mine = accountPartition(account, cloud);
  const known = new Set(account.enabled ?? []);
  const added = reported.flatMap((id) => {
    const r = tryFindRegion(cloud, id);
    const ref = `${cloud}:${id}`;
    return r && r.partition === mine && r.access !== 'default' && !known.has(ref) ? [ref] : [];
  });
  return added.length ? Object.freeze({ ...account, enabled: Object.freeze([...(account.enabled ?? []), ...added]) }) : account;
}
