import { CLOUD_IDS, type Arch, type CloudId } from '../types';
import { publicPartition } from './access';
import type { CloudCatalogData, RegionRow, SizeRow } from './data/types';
import { CATALOG_FILE_FORMAT, CATALOG_FILE_VERSION, type CatalogFile, type CatalogFileCloud, type CatalogFileSize } from './file';

/** A region as a cloud's API reports it. */
export interface ReadRegion {
  readonly id: string;
  /** AWS: opt-in regions (`opt-in`), or open to every account (`default`); absent where the API does not say. */
  readonly access?: 'default' | 'opt-in';
  /** Whether this account may call the region now (an opt-in region it did not enable may not). */
  readonly usable: boolean;
}

/** An instance type as a cloud's API reports it. */
export interface ReadType {
  readonly name: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly arch: Arch;
}

/** What one cloud's APIs said about its regions, types and offerings. */
export interface CloudReading {
  readonly cloud: CloudId;
  /** When the reading was taken (ISO 8601). */
  readonly readAt: string;
  readonly regions: readonly ReadRegion[];
  readonly types: readonly ReadType[];
  /** Per region read: the types it offers. Regions not read keep the bundled catalog's offerings. */
  readonly offerings: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A region or type the refresh could not put in the file, and why. */
export interface RefreshNote {
  readonly cloud: CloudId;
  readonly message: string;
}

function bundledOffers(row: SizeRow, region: string): boolean {
  return row.offeredIn ? row.offeredIn.includes(region) : !row.unavailableIn?.includes(region);
}

/** One cloud's section from the bundled data (clouds not refreshed, and the base of those that are). */
export function bundledSection(data: CloudCatalogData, readAt: string): CatalogFileCloud {
  return {
    source: 'bundled', readAt, referenceRegion: data.referenceRegion, pricesAsOf: data.pricesAsOf,
    regions: data.regions.map((r) => ({ ...r })),
    sizes: data.sizes.flatMap((s): CatalogFileSize[] => {
      const offeredIn = data.regions.filter((r) => bundledOffers(s, r.id)).map((r) => r.id);
      return offeredIn.length ? [{ name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, arch: s.arch, usdPerHour: s.priceKnown === false ? null : s.usdPerHour, offeredIn }] : [];
    }),
  };
}

/**
 * Merges a cloud's reading into its bundled data. Regions: those the API reported that the bundled
 * catalog can locate (coordinates, country and price factor are not in the clouds' APIs), plus the
 * bundled regions of other partitions, which a public account's API cannot see. Types: those the
 * API reported, with the bundled list price when the bundled catalog has the type and `null`
 * otherwise. Offerings: the API's for every region it read, the bundled catalog's elsewhere.
 */
export function mergeReading(bundled: CloudCatalogData, reading: CloudReading, notes: RefreshNote[]): CatalogFileCloud {
  const cloud = bundled.cloud;
  const known = new Map(bundled.regions.map((r) => [r.id, r]));
  const regions: RegionRow[] = [];
  for (const r of reading.regions) {
    const row = known.get(r.id);
    if (!row) {
      notes.push({ cloud, message: `region ${r.id} is not in the bundled catalog (no coordinates, country or price factor): left out` });
      continue;
    }
    regions.push(r.access === undefined ? row : { ...row, access: r.access });
  }
  const reported = new Set(reading.regions.map((r) => r.id));
  for (const r of bundled.regions) {
    if ((r.partition ?? publicPartition(cloud)) !== publicPartition(cloud) && !reported.has(r.id)) regions.push(r);
  }
  const bundledSizes = new Map(bundled.sizes.map((s) => [s.name, s]));
  const apiTypes = new Map(reading.types.map((t) => [t.name, t]));
  const sizes: CatalogFileSize[] = [];
  const names = [...new Set([...reading.types.map((t) => t.name), ...bundled.sizes.map((s) => s.name)])];
  for (const name of names) {
    const api = apiTypes.get(name);
    const old = bundledSizes.get(name);
    const shape = api ?? old!;
    const offeredIn = regions.filter((r) => {
      const read = reading.offerings.get(r.id);
      if (read) return read.has(name);
      return old !== undefined && bundledOffers(old, r.id);
    }).map((r) => r.id);
    if (!offeredIn.length) continue;
    const price = old && old.priceKnown !== false ? old.usdPerHour : null;
    sizes.push({ name, vcpu: shape.vcpu, memoryGiB: shape.memoryGiB, arch: shape.arch, usdPerHour: price, offeredIn });
  }
  const unpriced = sizes.filter((s) => s.usdPerHour === null).length;
  if (unpriced) notes.push({ cloud, message: `${unpriced} instance type(s) without a known list price (usdPerHour null): placeable by name, never chosen as the cheapest fit` });
  const referenceRegion = regions.some((r) => r.id === bundled.referenceRegion) ? bundled.referenceRegion : regions[0]?.id ?? bundled.referenceRegion;
  return { source: 'api', readAt: reading.readAt, referenceRegion, pricesAsOf: bundled.pricesAsOf, regions, sizes };
}

/** A catalog file from the readings taken (clouds without one keep their bundled section). */
export function buildCatalogFile(
  bundled: (cloud: CloudId) => CloudCatalogData, readings: Partial<Record<CloudId, CloudReading>>, now: Date,
): { file: CatalogFile; notes: RefreshNote[] } {
  const notes: RefreshNote[] = [];
  const clouds = Object.fromEntries(CLOUD_IDS.map((c) => {
    const reading = readings[c];
    return [c, reading ? mergeReading(bundled(c), reading, notes) : bundledSection(bundled(c), now.toISOString())];
  })) as Record<CloudId, CatalogFileCloud>;
  return { file: { format: CATALOG_FILE_FORMAT, version: CATALOG_FILE_VERSION, generatedAt: now.toISOString(), clouds }, notes };
}
