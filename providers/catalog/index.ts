import { CloudError } from '../errors';
import type { CloudId, InstanceTypeInfo, Region, ResolvedSize, SizeRequest } from '../types';
import { ALIBABA_CATALOG } from './data/alibaba';
import { AWS_CATALOG } from './data/aws';
import { AZURE_CATALOG } from './data/azure';
import type { CloudCatalogData, RegionRow, SizeRow } from './data/types';

export type { CloudCatalogData, RegionRow, SizeRow } from './data/types';

const DATA: Readonly<Record<CloudId, CloudCatalogData>> = { aws: AWS_CATALOG, azure: AZURE_CATALOG, alibaba: ALIBABA_CATALOG };

function toRegion(cloud: CloudId, row: RegionRow): Region {
  return Object.freeze({ cloud, id: row.id, name: row.name, country: row.country, continent: row.continent, lat: row.lat, lon: row.lon });
}

const REGIONS: ReadonlyMap<CloudId, ReadonlyMap<string, Region>> = new Map(
  (Object.keys(DATA) as CloudId[]).map((c) => [c, new Map(DATA[c].regions.map((r) => [r.id, toRegion(c, r)]))]),
);

/** The raw catalog data of one cloud (regions with price factors, sizes with reference prices). */
export function catalogData(cloud: CloudId): CloudCatalogData {
  return DATA[cloud];
}

/** Every region, or every region of one cloud. */
export function listRegions(cloud?: CloudId): readonly Region[] {
  const clouds = cloud ? [cloud] : (Object.keys(DATA) as CloudId[]);
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
  const factor = DATA[cloud].regions.find((r) => r.id === region)?.priceFactor ?? 1;
  return Math.round(row.usdPerHour * factor * 10_000) / 10_000;
}

/** A named instance type in a region with its price, or undefined if unknown or not offered there. */
export function tryFindSize(cloud: CloudId, region: string, typeName: string): ResolvedSize | undefined {
  const row = DATA[cloud].sizes.find((s) => s.name === typeName);
  if (!row || !tryFindRegion(cloud, region) || !offered(row, region)) return undefined;
  return { cloud, region, name: row.name, vcpu: row.vcpu, memoryGiB: row.memoryGiB, arch: row.arch, usdPerHour: priceIn(cloud, row, region) };
}

/** A named instance type in a region; throws `invalid` saying whether the type or region is the problem. */
export function findSize(cloud: CloudId, region: string, typeName: string): ResolvedSize {
  findRegion(cloud, region);
  const found = tryFindSize(cloud, region, typeName);
  if (found) return found;
  const known = DATA[cloud].sizes.some((s) => s.name === typeName);
  throw new CloudError(
    known ? `${cloud} instance type '${typeName}' is not offered in ${region}` : `unknown ${cloud} instance type '${typeName}'`,
    { kind: 'invalid', cloud, region, code: 'UnknownInstanceType' });
}

function validateRequest(cloud: CloudId, region: string, req: SizeRequest): void {
  const bad: string[] = [];
  if (!(Number.isFinite(req.vcpu) && req.vcpu > 0)) bad.push(`vcpu must be a positive number, got ${String(req.vcpu)}`);
  if (!(Number.isFinite(req.memoryGiB) && req.memoryGiB > 0)) bad.push(`memoryGiB must be a positive number, got ${String(req.memoryGiB)}`);
  if (req.arch !== undefined && req.arch !== 'x86_64' && req.arch !== 'arm64') bad.push(`arch must be x86_64 or arm64, got ${String(req.arch)}`);
  if (bad.length) throw new CloudError(`invalid size request: ${bad.join('; ')}`, { kind: 'invalid', cloud, region, code: 'InvalidSize' });
}

/** The cheapest type offered in the region with at least the requested vCPU and memory, or undefined. */
export function tryResolveSize(cloud: CloudId, region: string, req: SizeRequest): ResolvedSize | undefined {
  if (!tryFindRegion(cloud, region)) return undefined;
  let best: ResolvedSize | undefined;
  for (const row of DATA[cloud].sizes) {
    if (row.vcpu < req.vcpu || row.memoryGiB < req.memoryGiB || !offered(row, region)) continue;
    if (req.arch && row.arch !== req.arch) continue;
    const price = priceIn(cloud, row, region);
    // Ties go to the smaller machine, then the name, so resolution is deterministic.
    if (!best || price < best.usdPerHour || (price === best.usdPerHour && (row.vcpu < best.vcpu || (row.vcpu === best.vcpu && row.name < best.name)))) {
      best = { cloud, region, name: row.name, vcpu: row.vcpu, memoryGiB: row.memoryGiB, arch: row.arch, usdPerHour: price };
    }
  }
  return best;
}

/** The cheapest fitting type; throws `invalid` that says why nothing fits (largest type offered). */
export function resolveSize(cloud: CloudId, region: string, req: SizeRequest): ResolvedSize {
  findRegion(cloud, region);
  validateRequest(cloud, region, req);
  const best = tryResolveSize(cloud, region, req);
  if (best) return best;
  const rows = DATA[cloud].sizes.filter((s) => offered(s, region) && (!req.arch || s.arch === req.arch));
  const maxCpu = Math.max(0, ...rows.map((s) => s.vcpu));
  const maxMem = Math.max(0, ...rows.map((s) => s.memoryGiB));
  throw new CloudError(
    `no ${cloud} instance type in ${region} has ${req.vcpu} vCPU and ${req.memoryGiB} GiB${req.arch ? ` on ${req.arch}` : ''}: ` +
      `the largest offered there have ${maxCpu} vCPU and ${maxMem} GiB`,
    { kind: 'invalid', cloud, region, code: 'NoFittingInstanceType' });
}
