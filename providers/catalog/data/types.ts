import type { Arch, CloudId, Continent, Partition, RegionAccess } from '../../types';

/** A region row in the catalog's data files. */
export interface RegionRow {
  readonly id: string;
  readonly name: string;
  readonly country: string;
  readonly continent: Continent;
  readonly lat: number;
  readonly lon: number;
  /** On-demand price of this region relative to the cloud's reference region (1.0). */
  readonly priceFactor: number;
  /** The region's partition or sovereign cloud; absent means the cloud's public one. */
  readonly partition?: Partition;
  /** Absent means `default`: every account of the partition can use it. */
  readonly access?: RegionAccess;
}

/** A size row: the type's on-demand price in the cloud's reference region. */
export interface SizeRow {
  readonly name: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly arch: Arch;
  readonly usdPerHour: number;
  /** False when the cloud's list price is unknown (a type read from a cloud's API); `usdPerHour` is then 0. */
  readonly priceKnown?: false;
  /** Regions that do not offer the type; absent means every region does. */
  readonly unavailableIn?: readonly string[];
  /** The only regions that offer the type (a refreshed catalog says so per type); overrides `unavailableIn`. */
  readonly offeredIn?: readonly string[];
}

/** One cloud's catalog data. */
export interface CloudCatalogData {
  readonly cloud: CloudId;
  /** The region whose prices `SizeRow.usdPerHour` gives. */
  readonly referenceRegion: string;
  /** The date the public list prices were read (YYYY-MM-DD). */
  readonly pricesAsOf: string;
  readonly regions: readonly RegionRow[];
  readonly sizes: readonly SizeRow[];
}
