import { writeFileSync, renameSync } from 'node:fs';
import { readAlibabaCatalog } from './alibaba/catalog-reader';
import { readAwsCatalog } from './aws/catalog-reader';
import { readAzureCatalog } from './azure/catalog-reader';
import { bundledCatalogData, validateCatalogFile, type CatalogFile } from './catalog';
import { buildCatalogFile, type CloudReading, type RefreshNote } from './catalog/refresh';
import type { ProvidersConfig } from './config';
import { CloudError } from './errors';
import type { CloudId } from './types';

export type { CloudReading, ReadRegion, ReadType, RefreshNote } from './catalog/refresh';

/** Reads one cloud's regions, instance types and offerings through its official SDK. */
export function readCloudCatalog(cloud: CloudId, config: ProvidersConfig): Promise<CloudReading> {
  switch (cloud) {
    case 'aws': return readAwsCatalog(config.aws, config.resilience);
    case 'alibaba': return readAlibabaCatalog(config.alibaba, config.resilience);
    case 'azure':
      if (!config.azure) {
        return Promise.reject(new CloudError('azure needs providers.azure.subscriptionId (and resourceGroup) to read its catalog', { kind: 'invalid', cloud: 'azure', region: 'global', code: 'MissingSubscription' }));
      }
      return readAzureCatalog(config.azure, config.resilience);
  }
}

/** What `refreshCatalog` produced. */
export interface CatalogRefresh {
  readonly file: CatalogFile;
  /** Regions and types left out or without a price, per cloud. */
  readonly notes: readonly RefreshNote[];
}

/**
 * Reads the named clouds (all by default, one after another) and builds a catalog file: the clouds
 * read are `source: api`, the others keep their bundled section. Rejects with the first cloud's
 * `CloudError`; nothing is written then. With `outFile`, writes the file atomically (temp + rename).
 */
export async function refreshCatalog(config: ProvidersConfig, options: { clouds?: readonly CloudId[]; outFile?: string; now?: Date } = {}): Promise<CatalogRefresh> {
  const readings: Partial<Record<CloudId, CloudReading>> = {};
  for (const cloud of options.clouds ?? ['aws', 'azure', 'alibaba'] as const) readings[cloud] = await readCloudCatalog(cloud, config);
  const { file, notes } = buildCatalogFile(bundledCatalogData, readings, options.now ?? new Date());
  // What is written must load: the same check every reader of the file makes.
  validateCatalogFile(JSON.parse(JSON.stringify(file)), options.outFile ?? '(refreshed catalog)');
  if (options.outFile !== undefined) {
    const tmp = `${options.outFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(file, null, 1)}\n`);
    renameSync(tmp, options.outFile);
  }
  return { file, notes };
}
