import { catalogData } from '../../catalog';
import type { CloudCatalogData, RegionRow, SizeRow } from '../../catalog';
import { publicPartition } from '../../catalog/access';
import type { CloudId } from '../../types';

/**
 * What one emulated cloud offers: its regions, instance types and which region offers which type.
 * The emulators validate creates against it and serve the clouds' catalog calls from it, so a test
 * can give an emulator types the bundled catalog lacks.
 */
export class EmulatorCatalog {
  readonly regions: readonly RegionRow[];
  readonly sizes: readonly SizeRow[];
  private readonly regionIds: ReadonlySet<string>;
  private readonly byName: ReadonlyMap<string, SizeRow>;
  private readonly onlyIn: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(readonly cloud: CloudId, readonly data: CloudCatalogData = catalogData(cloud)) {
    this.regions = data.regions;
    this.sizes = data.sizes;
    this.regionIds = new Set(data.regions.map((r) => r.id));
    this.byName = new Map(data.sizes.map((s) => [s.name, s]));
    this.onlyIn = new Map(data.sizes.flatMap((s) => (s.offeredIn ? [[s.name, new Set(s.offeredIn)] as const] : [])));
  }

  /** The region row, or undefined. */
  region(id: string): RegionRow | undefined {
    return this.regionIds.has(id) ? this.regions.find((r) => r.id === id) : undefined;
  }

  /** The public-partition regions (what one public account's API lists). */
  publicRegions(): readonly RegionRow[] {
    return this.regions.filter((r) => (r.partition ?? publicPartition(this.cloud)) === publicPartition(this.cloud));
  }

  /** The type row, or undefined when the cloud has no such type anywhere. */
  size(name: string): SizeRow | undefined {
    return this.byName.get(name);
  }

  /** Whether the region offers the type. */
  offers(region: string, type: string): boolean {
    const row = this.byName.get(type);
    if (!row || !this.regionIds.has(region)) return false;
    const only = this.onlyIn.get(type);
    return only ? only.has(region) : !row.unavailableIn?.includes(region);
  }

  /** The types the region offers. */
  offeredIn(region: string): readonly SizeRow[] {
    return this.sizes.filter((s) => this.offers(region, s.name));
  }
}
