import { CloudError } from '../errors';
import type { CloudId, InstanceTypeInfo, Region, ResolvedSize, SizeRequest } from '../types';
import { ALIBABA_CATALOG } from './data/alibaba';
import { AWS_CATALOG } from './data/aws';
import { AZURE_CATALOG } from './data/azure';
import type { CloudCatalogData, RegionRow, SizeRow } from './data/types';
import { publicPartition } from './access';
import { bySizePreference } from './rank';

export type { CloudCatalogData, RegionRow, SizeRow } from './data/types';
export { accountPartition, publicPartition, regionDenial, type RegionAccount, type RegionDenial } from './access';

const DATA: Readonly<Record<CloudId, CloudCatalogData>> = { aws: AWS_CATALOG, azure: AZURE_CATALOG, alibaba: ALIBABA_CATALOG };
const CLOUDS = Object.keys(DATA) as CloudId[];

function toRegion(cloud: CloudId, row: RegionRow): Region {
  return Object.freeze({
    cloud, id: row.id, name: row.name, country: row.country, continent: row.continent, lat: row.lat, lon: row.lon,
    partition: row.partition ?? publicPartition(cloud), access: row.access ?? 'default',
  });
}

const REGIONS: ReadonlyMap<CloudId, ReadonlyMap<string, Region>> = new Map(
  CLOUDS.map((c) => [c, new Map(DATA[c].regions.map((r) => [r.id, toRegion(c, r)]))]),
);

const PRICE_FACTORS: ReadonlyMap<CloudId, ReadonlyMap<string, number>> = new Map(
  CLOUDS.map((c) => [c, new Map(DATA[c].regions.map((r) => [r.id, r.priceFactor]))]),
);

const SIZE_ROWS: ReadonlyMap<CloudId, ReadonlyMap<string, SizeRow>> = new Map(
  CLOUDS.map((c) => [c, new Map(DATA[c].sizes.map((s) => [s.name, s]))]),
);

/** The raw catalog data of one cloud (regions with price factors, sizes with reference prices). */
export function catalogData(cloud: CloudId): CloudCatalogData {
  return DATA[cloud];
}

/** The date (YYYY-MM-DD) the cloud's list prices were read. */
export function pricesAsOf(cloud: CloudId): string {
  return DATA[cloud].pricesAsOf;
}

/** Every region of every partition, or every region of one cloud (see `regionDenial` for which an account can use). */
export function listRegions(cloud?: CloudId): readonly Region[] {
  const clouds = cloud ? [cloud] : CLOUDS;
  return clouds.flatMap((c) => [...(REGIONS.get(c)?.values() ?? [])]);
}

/** The region, or undefined. */
export function tryFindRegion(cloud: CloudId, id: string): Region | undefined {
  return REGIONS.get(cloud)?.get(id);
}

/** The region; throws `CloudError` kind `invalid` naming the cloud's known regions. */
export function findRegion(cloud: CloudId, id: string): Region {
  const r = tryFindRegion(cloud, id);
  if (!r) {
    throw new CloudError(`unknown ${cloud} region '${id}'; known regions: ${[...(REGIONS.get(cloud)?.keys() ?? [])].join(', ')}`,
      { kind: 'invalid', cloud, region: id, code: 'UnknownRegion' });
  }
  return r;
}

/** Every instance type of a cloud. */
export function listSizes(cloud: CloudId): readonly InstanceTypeInfo[] {
  return DATA[cloud].sizes.map((s) => ({ cloud, name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, arch: s.arch }));
}

function offered(row: SizeRow, region: string): boolean {
  return !row.unavailableIn?.includes(region);
}

function priceIn(cloud: CloudId, row: SizeRow, region: string): number {
  const factor = PRICE_FACTORS.get(cloud)?.get(region) ?? 1;
  // Four decimals: list prices are quoted to a hundredth of a cent per hour.
  return Math.round(row.usdPerHour * factor * 10_000) / 10_000;
}

function resolved(cloud: CloudId, region: string, row: SizeRow): ResolvedSize {
  return Object.freeze({ cloud, region, name: row.name, vcpu: row.vcpu, memoryGiB: row.memoryGiB, arch: row.arch, usdPerHour: priceIn(cloud, row, region) });
}

/**
 * Per (cloud, region): the types offered there in `bySizePreference` order, so the first fitting
 * entry is the answer; built on first use (a placement run resolves many requests per region).
 */
const RANKED: ReadonlyMap<CloudId, Map<string, readonly ResolvedSize[]>> = new Map(CLOUDS.map((c) => [c, new Map()]));

function ranked(cloud: CloudId, region: string): readonly ResolvedSize[] {
  const perCloud = RANKED.get(cloud)!;
  let list = perCloud.get(region);
  if (!list) {
    list = Object.freeze(DATA[cloud].sizes.filter((s) => offered(s, region)).map((s) => resolved(cloud, region, s)).sort(bySizePreference));
    perCloud.set(region, list);
  }
  return list;
}

/**
 * Answers of `tryResolveSize` by (cloud, region, request). Workloads ask for few distinct shapes,
 * so this stays small; the bound only guards against a caller sweeping arbitrary shapes.
 */
const RESOLVED = new Map<string, ResolvedSize | null>();
const RESOLVED_MAX_ENTRIES = 100_000;

/** A named instance type in a region with its price, or undefined if unknown or not offered there. */
export function tryFindSize(cloud: CloudId, region: string, typeName: string): ResolvedSize | undefined {
  const row = SIZE_ROWS.get(cloud)?.get(typeName);
  if (!row || !tryFindRegion(cloud, region) || !offered(row, region)) return undefined;
  return resolved(cloud, region, row);
}

/** A named instance type in a region; throws `invalid` saying whether the type or region is the problem. */
export function findSize(cloud: CloudId, region: string, typeName: string): ResolvedSize {
  findRegion(cloud, region);
  const found = tryFindSize(cloud, region, typeName);
  if (found) return found;
  const known = SIZE_ROWS.get(cloud)?.has(typeName) ?? false;
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
  const hit = RESOLVED.get(key);
  if (hit !== undefined) return hit ?? undefined;
  if (!tryFindRegion(cloud, region) || requestProblems(req).length) return undefined;
  const best = ranked(cloud, region).find((s) => s.vcpu >= req.vcpu && s.memoryGiB >= req.memoryGiB && (!req.arch || s.arch === req.arch));
  if (RESOLVED.size >= RESOLVED_MAX_ENTRIES) RESOLVED.clear();
  RESOLVED.set(key, best ?? null);
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
