import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOUD_IDS, bundledCatalogData, type CatalogFile, type CatalogFileSize } from '../../providers';

/** An EC2 type the bundled catalog does not have, as a refresh reads it from the API. */
export const REFRESHED_ONLY_SIZE = Object.freeze({ cloud: 'aws', region: 'eu-central-1', name: 'm8i.large' } as const);

/**
 * The catalog file `meridian catalog refresh` would write if every cloud answered with the bundled
 * regions and offerings, plus `REFRESHED_ONLY_SIZE` (2 vCPU, 8 GiB, offered in one region).
 */
export function refreshedCatalog(): CatalogFile {
  const clouds = Object.fromEntries(CLOUD_IDS.map((cloud) => {
    const d = bundledCatalogData(cloud);
    const sizes = d.sizes.map((s): CatalogFileSize => ({
      name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, arch: s.arch, usdPerHour: s.priceKnown === false ? null : s.usdPerHour,
      offeredIn: [...(s.offeredIn ?? d.regions.map((r) => r.id).filter((r) => !s.unavailableIn?.includes(r)))],
    }));
    if (cloud === REFRESHED_ONLY_SIZE.cloud) {
      sizes.push({ name: REFRESHED_ONLY_SIZE.name, vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.1, offeredIn: [REFRESHED_ONLY_SIZE.region] });
    }
    return [cloud, {
      source: 'api', readAt: '2026-12-01T00:00:00Z', referenceRegion: d.referenceRegion, pricesAsOf: d.pricesAsOf,
      regions: d.regions.map((r) => ({ ...r })), sizes,
    }];
  })) as CatalogFile['clouds'];
  return { format: 'meridian-catalog', version: 1, generatedAt: '2026-12-01T00:00:00Z', clouds };
}

/** Writes `doc` (a refreshed catalog by default) to `catalog.json` in `dir`; returns its path. */
export function writeCatalogFile(dir: string, doc: unknown = refreshedCatalog(), name = 'catalog.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}
