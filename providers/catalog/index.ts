import { CloudError } from '../errors';
import type { CloudId, InstanceTypeInfo, Region, ResolvedSize, SizeRequest } from '../types';
import { ALIBABA_CATALOG } from './data/alibaba';
import { AWS_CATALOG } from './data/aws';
import { AZURE_CATALOG } from './data/azure';
import type { CloudCatalogData, RegionRow, SizeRow } from './data/types';
import { publicPartition } from './access';
import { bySizePreference } from './rank';
import { readCatalogFile, type CatalogSettings } from './file';

export type { CloudCatalogData, RegionRow, SizeRow } from './data/types';
export { accountPartition, publicPartition, regionDenial, type RegionAccount, type RegionDenial } from './access';
export {
  CATALOG_FILE_FORMAT, CATALOG_FILE_VERSION, CatalogFileError, CatalogFileSchema, CatalogSettingsSchema, catalogDataOfFile, readCatalogFile, validateCatalogFile,
  type CatalogFile, type CatalogFileCloud, type CatalogFileIssue, type CatalogFileSize, type CatalogSettings,
} from './file';

const BUNDLED: Readonly<Record<CloudId, CloudCatalogData>> = { aws: AWS_CATALOG, azure: AZURE_CATALOG, alibaba: ALIBABA_CATALOG };
const CLOUDS = Object.keys(BUNDLED) as CloudId[];

function toRegion(cloud: CloudId, row: RegionRow): Region {
  return Object.freeze({
    cloud, id: row.id, name: row.name, country: row.country, continent: row.continent, lat: row.lat, lon: row.lon,
    partition: row.partition ?? publicPartition(cloud), access: row.access ?? 'default',
  });
}

/** Indexes over one catalog's data, rebuilt whenever another catalog is installed. */
interface CatalogState {
  readonly data: Readonly<Record<CloudId, CloudCatalogData>>;
  readonly regions: ReadonlyMap<CloudId, ReadonlyMap<string, Region>>;
  readonly priceFactors: ReadonlyMap<CloudId, ReadonlyMap<string, number>>;
  readonly sizeRows: ReadonlyMap<CloudId, ReadonlyMap<string, SizeRow>>;
  readonly offered: ReadonlyMap<CloudId, ReadonlyMap<string, ReadonlySet<string> | undefined>>;
  /** Per (cloud, region): the priced types offered there in `bySizePreference` order, built on first use. */
  readonly ranked: ReadonlyMap<CloudId, Map<string, readonly ResolvedSize[]>>;
  /** Answers of `tryResolveSize` by (cloud, region, request). */
  readonly resolved: Map<string, ResolvedSize | null>;
  /** Counts installs, so that callers caching over the catalog can tell it changed. */
  readonly generation: number;
}

function indexCatalog(data: Readonly<Record<CloudId, CloudCatalogData>>, generation: number): CatalogState {
  return {
    data, generation,
    regions: new Map(CLOUDS.map((c) => [c, new Map(data[c].regions.map((r) => [r.id, toRegion(c, r)]))])),
    priceFactors: new Map(CLOUDS.map((c) => [c, new Map(data[c].regions.map((r) => [r.id, r.priceFactor]))])),
    sizeRows: new Map(CLOUDS.map((c) => [c, new Map(data[c].sizes.map((s) => [s.name, s]))])),
    offered: new Map(CLOUDS.map((c) => [c, new Map(data[c].sizes.map((s) => [s.name, s.offeredIn ? new Set(s.offeredIn) : undefined]))])),
    ranked: new Map(CLOUDS.map((c) => [c, new Map()])),
    resolved: new Map(),
  };
}

let state = indexCatalog(BUNDLED, 0);

/**
 * Makes `data` the catalog every lookup of this process answers from (a refreshed catalog file, see
 * `loadCatalogFile`); without an argument, the bundled catalog again. Callers that cache over the
 * catalog compare `catalogGeneration()`.
 */
export function installCatalog(data?: Readonly<Record<CloudId, CloudCatalogData>>): void {
  state = indexCatalog(data ?? BUNDLED, state.generation + 1);
}

/** A number that changes whenever `installCatalog` runs. */
export function catalogGeneration(): number {
  return state.generation;
}

/** The raw catalog data of one cloud (regions with price factors, sizes with reference prices). */
export function catalogData(cloud: CloudId): CloudCatalogData {
  return state.data[cloud];
}

/** The bundled catalog data of one cloud, whatever catalog is installed. */
export function bundledCatalogData(cloud: CloudId): CloudCatalogData {
  return BUNDLED[cloud];
}

/** The date (YYYY-MM-DD) the cloud's list prices were read. */
export function pricesAsOf(cloud: CloudId): string {
  return state.data[cloud].pricesAsOf;
}

/** Every region of every partition, or every region of one cloud (see `regionDenial` for which an account can use). */
export function listRegions(cloud?: CloudId): readonly Region[] {
  const clouds = cloud ? [cloud] : CLOUDS;
  return clouds.flatMap((c) => [...(state.regions.get(c)?.values() ?? [])]);
}

/** The region, or undefined. */
export function tryFindRegion(cloud: CloudId, id: string): Region | undefined {
  return state.regions.get(cloud)?.get(id);
}

/** The region; throws `CloudError` kind `invalid` naming the cloud's known regions. */
export function findRegion(cloud: CloudId, id: string): Region {
  const r = tryFindRegion(cloud, id);
  if (!r) {
    throw new CloudError(`unknown ${cloud} region '${id}'; known regions: ${[...(state.regions.get(cloud)?.keys() ?? [])].join(', ')}`,
      { kind: 'invalid', cloud, region: id, code: 'UnknownRegion' });
  }
  return r;
}

/** Every instance type of a cloud. */
export function listSizes(cloud: CloudId): readonly InstanceTypeInfo[] {
  return state.data[cloud].sizes.map((s) => ({ cloud, name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, arch: s.arch }));
}

function offered(cloud: CloudId, row: SizeRow, region: string): boolean {
  const only = state.offered.get(cloud)?.get(row.name);
  return only ? only.has(region) : !row.unavailableIn?.includes(region);
}

function priceIn(cloud: CloudId, row: SizeRow, region: string): number {
  const factor = state.priceFactors.get(cloud)?.get(region) ?? 1;
  // Four decimals: list prices are quoted to a hundredth of a cent per hour.
  return Math.round(row.usdPerHour * factor * 10_000) / 10_000;
}

function resolved(cloud: CloudId, region: string, row: SizeRow): ResolvedSize {
  return Object.freeze({
    cloud, region, name: row.name, vcpu: row.vcpu, memoryGiB: row.memoryGiB, arch: row.arch, usdPerHour: priceIn(cloud, row, region),
    ...(row.priceKnown === false ? { priceKnown: false as const } : {}),
  });
}

/**
 * Per (cloud, region): the types offered there with a known price, in `bySizePreference` order, so
 * the first fitting entry is the answer (a type without a price is never the cheapest fit).
 */
function ranked(cloud: CloudId, region: string): readonly ResolvedSize[] {
  const perCloud = state.ranked.get(cloud)!;
  let list = perCloud.get(region);
  if (!list) {
    list = Object.freeze(state.data[cloud].sizes.filter((s) => s.priceKnown !== false && offered(cloud, s, region))
      .map((s) => resolved(cloud, region, s)).sort(bySizePreference));
    perCloud.set(region, list);
  }
  return list;
}

// Workloads ask for few distinct shapes, so the cache of answers stays small; the bound only
// guards against a caller sweeping arbitrary shapes.
const RESOLVED_MAX_ENTRIES = 100_000;

/** A named instance type in a region with its price, or undefined if unknown or not offered there. */
export function tryFindSize(cloud: CloudId, region: string, typeName: string): ResolvedSize | undefined {
  const row = state.sizeRows.get(cloud)?.get(typeName);
  if (!row || !tryFindRegion(cloud, region) || !offered(cloud, row, region)) return undefined;
  return resolved(cloud, region, row);
}

/** A named instance type in a region; throws `invalid` saying whether the type or region is the problem. */
export function findSize(cloud: CloudId, region: string, typeName: string): ResolvedSize {
  findRegion(cloud, region);
  const found = tryFindSize(cloud, region, typeName);
  if (found) return found;
  const known = state.sizeRows.get(cloud)?.has(typeName) ?? false;
  throw new CloudError(
    known ? `${cloud} instance type '${typeName}' is not offered in ${region}` : `unknown ${cloud} instance type '${typeName}'`,
    { kind: 'invalid', cloud, region, code: 'UnknownInstanceType' });
}

function requestProblems(req: SizeRequest): string[] {
  const bad: string[] = [];
  if (!(Number.isFinite(req.vcpu) && req.vcpu > 0)) bad.push(`vcpu must be a positive number, got ${String(req.vcpu)}`);
  if (!(Number.isFinite(req.memoryGiB) && req.memoryGiB > 0)) bad.push(`memoryGiB must be a positive number, got ${String(req.memoryGiB)}`);
  if (req.arch !== undefined && req.arch !== 'x86_64' && req.arch !== 'arm64') bad.push(`arch must be x86_64 or arm64, got ${String(req.arch)}`);
  return bad;
}

function validateRequest(cloud: CloudId, region: string, req: SizeRequest): void {
  const bad = requestProblems(req);
  if (bad.length) throw new CloudError(`invalid size request: ${bad.join('; ')}`, { kind: 'invalid', cloud, region, code: 'InvalidSize' });
}

/**
 * The cheapest type offered in the region with at least the requested vCPU and memory, or
 * undefined (also for an unknown region or a malformed request). Ties go to the smaller machine,
 * then the type name (`bySizePreference`).
 */
export function tryResolveSize(cloud: CloudId, region: string, req: SizeRequest): ResolvedSize | undefined {
  const key = `${cloud} ${region} ${req.vcpu} ${req.memoryGiB} ${req.arch ?? ''}`;
  const hit = state.resolved.get(key);
  if (hit !== undefined) return hit ?? undefined;
  if (!tryFindRegion(cloud, region) || requestProblems(req).length) return undefined;
  const best = ranked(cloud, region).find((s) => s.vcpu >= req.vcpu && s.memoryGiB >= req.memoryGiB && (!req.arch || s.arch === req.arch));
  if (state.resolved.size >= RESOLVED_MAX_ENTRIES) state.resolved.clear();
  state.resolved.set(key, best ?? null);
  return best;
}

/** The cheapest fitting type; throws `invalid` that says why nothing fits (largest type offered). */
export function resolveSize(cloud: CloudId, region: string, req: SizeRequest): ResolvedSize {
  findRegion(cloud, region);
  validateRequest(cloud, region, req);
  const best = tryResolveSize(cloud, region, req);
  if (best) return best;
  const rows = ranked(cloud, region).filter((s) => !req.arch || s.arch === req.arch);
  const maxCpu = Math.max(0, ...rows.map((s) => s.vcpu));
  const maxMem = Math.max(0, ...rows.map((s) => s.memoryGiB));
  throw new CloudError(
    `no ${cloud} instance type in ${region} has ${req.vcpu} vCPU and ${req.memoryGiB} GiB${req.arch ? ` on ${req.arch}` : ''}: ` +
      `the largest offered there have ${maxCpu} vCPU and ${maxMem} GiB`,
    { kind: 'invalid', cloud, region, code: 'NoFittingInstanceType' });
}

/**
 * Installs the catalog the settings name (`catalog.file`), or the bundled one when they name none.
 * Throws `CatalogFileError` naming the file and each problem; the installed catalog is then unchanged.
 */
export function useCatalogSettings(settings: CatalogSettings | undefined): void {
  installCatalog(settings?.file === undefined ? undefined : readCatalogFile(settings.file));
}

/**
 * The regions of the catalog the settings name (`catalog.file`), or of the bundled catalog when
 * they name none, without installing it: what a configuration is checked against before its
 * process installs that catalog. Throws `CatalogFileError` naming the file and each problem.
 */
export function catalogSettingsRegions(settings: CatalogSettings | undefined): readonly Region[] {
  const data = settings?.file === undefined ? BUNDLED : readCatalogFile(settings.file);
  return CLOUDS.flatMap((c) => data[c].regions.map((r) => toRegion(c, r)));
}
