import { CLOUD_IDS, type Region, type ResolvedSize, type SizeRequest } from '../../providers';
import type { Candidate } from '../../policies';
import { cheapestFit, fits, type PlacementCatalog } from './catalog';
import type { Exclusion, RegionAssignment, Rejection, Workload } from './types';

/** A region that can run the workload, with the instance type it resolves to there. */
export interface Eligible extends Candidate {
  readonly key: string;
  readonly resolved: ResolvedSize;
}

/** The `cloud:region` key of a region (ids repeat between clouds). */
export const regionKey = (cloud: string, region: string): string => `${cloud}:${region}`;

/** Whether the workload asks for a cloud-neutral size rather than type names. */
export function isSizeRequest(size: Workload['size']): size is SizeRequest {
  return typeof (size as SizeRequest).vcpu === 'number';
}

function describeRequest(req: SizeRequest): string {
  return `${req.vcpu} vCPU and ${req.memoryGiB} GiB${req.arch ? ` on ${req.arch}` : ''}`;
}

/** Exclusions indexed by region key: whole regions, and instance types per region. */
export interface ExclusionIndex {
  readonly regions: ReadonlyMap<string, Exclusion>;
  readonly sizes: ReadonlyMap<string, ReadonlyMap<string, Exclusion>>;
}

/** Indexes exclusions: whole regions, and sizes per region. */
export function indexExclusions(exclusions: readonly Exclusion[]): ExclusionIndex {
  const regions = new Map<string, Exclusion>();
  const sizes = new Map<string, Map<string, Exclusion>>();
  for (const e of exclusions) {
    const k = regionKey(e.cloud, e.region);
    if (e.size === undefined) {
      if (!regions.has(k)) regions.set(k, e);
      continue;
    }
    let m = sizes.get(k);
    if (!m) sizes.set(k, (m = new Map()));
    if (!m.has(e.size)) m.set(e.size, e);
  }
  return { regions, sizes };
}

/** A region with the instance type it offers for a workload, or why none fits. */
export interface SizeCheck {
  readonly candidate?: Eligible;
  readonly rejection?: Rejection;
}

/** Per-catalog caches: region keys by index, and size checks per size request by region index. */
export interface CatalogCache {
  readonly regions: readonly Region[];
  readonly keys: readonly string[];
  readonly bySize: Map<string, (SizeCheck | undefined)[]>;
}

// Size resolution per (catalog, size request, region) is the same for every workload with that
// request, so it is cached, candidate objects included (evaluation caches by object identity);
// regions with size exclusions are resolved afresh. The cache is bounded.
const CACHES = new WeakMap<PlacementCatalog, CatalogCache>();
const MAX_CACHED_REQUESTS = 1024;

/** The per-catalog cache, rebuilt when the catalog's region list changes. */
export function cacheFor(catalog: PlacementCatalog): CatalogCache {
  const regions = catalog.regions();
  let cache = CACHES.get(catalog);
  if (!cache || cache.regions !== regions) {
    cache = { regions, keys: regions.map((r) => regionKey(r.cloud, r.id)), bySize: new Map() };
    CACHES.set(catalog, cache);
  }
  return cache;
}

function sizeKey(size: Workload['size']): string {
  if (isSizeRequest(size)) return `req:${size.vcpu}/${size.memoryGiB}/${size.arch ?? ''}`;
  return `type:${CLOUD_IDS.map((c) => size[c] ?? '').join('|')}`;
}

/** The size checks of one size request, by region index (filled lazily). */
export function checksFor(cache: CatalogCache, size: Workload['size']): (SizeCheck | undefined)[] {
  const key = sizeKey(size);
  let checks = cache.bySize.get(key);
  if (!checks) {
    if (cache.bySize.size >= MAX_CACHED_REQUESTS) cache.bySize.clear();
    cache.bySize.set(key, (checks = new Array<SizeCheck | undefined>(cache.regions.length)));
  }
  return checks;
}

function candidate(region: Region, key: string, size: ResolvedSize): SizeCheck {
  return {
    candidate: {
      cloud: region.cloud, id: region.id, name: region.name, country: region.country, continent: region.continent,
      lat: region.lat, lon: region.lon, partition: region.partition, access: region.access, key, resolved: size, usdPerHour: size.usdPerHour,
    },
  };
}

/** Resolves the workload's size in one region, or says why it cannot run there. */
export function resolveIn(workload: Workload, region: Region, key: string, offered: readonly ResolvedSize[], excluded?: ReadonlyMap<string, Exclusion>): SizeCheck {
  const reject = (rule: string, reason: string): SizeCheck => ({ rejection: { cloud: region.cloud, region: region.id, rule, reason } });
  if (isSizeRequest(workload.size)) {
    const req = workload.size;
    const size = cheapestFit(offered, req, excluded ? new Set(excluded.keys()) : undefined);
    if (size) return candidate(region, key, size);
    const fitting = offered.filter((s) => s.priceKnown !== false && fits(s, req));
    if (fitting.length === 0) return reject('size', `no ${region.cloud} instance type in ${region.id} has ${describeRequest(req)}`);
    return reject('exclusion', `every ${region.cloud} type in ${region.id} with ${describeRequest(req)} is excluded: ` +
      fitting.map((s) => `${s.name} (${excluded?.get(s.name)?.reason ?? 'excluded'})`).join(', '));
  }
  const name = workload.size[region.cloud];
  if (name === undefined) return reject('size', `the workload names no ${region.cloud} instance type`);
  const size = offered.find((s) => s.name === name);
  if (!size) return reject('size', `${region.cloud} instance type ${name} is not offered in ${region.id}`);
  const ex = excluded?.get(name);
  if (ex) return reject('exclusion', `${region.cloud} instance type ${name} is excluded in ${region.id}: ${ex.reason}`);
  return candidate(region, key, size);
}

/** Whether a current assignment's instance type may stay: still offered, still fitting, not excluded. */
export function keepableSize(
  workload: Workload, a: RegionAssignment, catalog: PlacementCatalog, ex: ExclusionIndex,
): ResolvedSize | undefined {
  if (ex.sizes.get(regionKey(a.cloud, a.region))?.has(a.size)) return undefined;
  const s = catalog.sizes(a.cloud, a.region).find((x) => x.name === a.size);
  if (!s) return undefined;
  if (isSizeRequest(workload.size)) return fits(s, workload.size) ? s : undefined;
  return workload.size[a.cloud] === a.size ? s : undefined;
}
