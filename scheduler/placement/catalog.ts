import { catalogGeneration, listRegions, listSizes, tryFindSize, type CloudId, type Region, type ResolvedSize, type SizeRequest } from '../../providers';

/** The regions and priced instance types placement chooses from. Tests inject a small one. */
export interface PlacementCatalog {
  /** Every region that may be considered, in a stable order. */
  regions(): readonly Region[];
  /** Every instance type offered in the region, with its on-demand price there. */
  sizes(cloud: CloudId, region: string): readonly ResolvedSize[];
}

function key(cloud: string, region: string): string {
  return `${cloud}:${region}`;
}

/** A catalog over fixed regions and priced sizes (each size row names its cloud and region). */
export function staticCatalog(regions: readonly Region[], sizes: readonly ResolvedSize[]): PlacementCatalog {
  const byRegion = new Map<string, ResolvedSize[]>();
  for (const s of sizes) {
    const k = key(s.cloud, s.region);
    const list = byRegion.get(k);
    if (list) list.push(s);
    else byRegion.set(k, [s]);
  }
  const frozen = Object.freeze([...regions]);
  return { regions: () => frozen, sizes: (cloud, region) => byRegion.get(key(cloud, region)) ?? [] };
}

let defaultCatalog: PlacementCatalog | undefined;
let defaultGeneration = -1;

/** The catalog of `providers/catalog`: every public region and its priced size table (read once per installed catalog). */
export function providerCatalog(): PlacementCatalog {
  if (defaultCatalog && defaultGeneration === catalogGeneration()) return defaultCatalog;
  defaultGeneration = catalogGeneration();
  const regions = listRegions();
  const sizes = new Map<string, readonly ResolvedSize[]>();
  defaultCatalog = {
    regions: () => regions,
    sizes: (cloud, region) => {
      const k = key(cloud, region);
      let list = sizes.get(k);
      if (!list) {
        list = listSizes(cloud).flatMap((t) => tryFindSize(cloud, region, t.name) ?? []);
        sizes.set(k, list);
      }
      return list;
    },
  };
  return defaultCatalog;
}

/** Whether an instance type satisfies a size request. */
export function fits(size: ResolvedSize, req: SizeRequest): boolean {
  return size.vcpu >= req.vcpu && size.memoryGiB >= req.memoryGiB && (req.arch === undefined || size.arch === req.arch);
}

/**
 * The cheapest offered type that fits the request and is not excluded; ties go to the smaller
 * machine, then the name (the same order as `providers` `resolveSize`), so results are deterministic.
 */
export function cheapestFit(sizes: readonly ResolvedSize[], req: SizeRequest, excluded?: ReadonlySet<string>): ResolvedSize | undefined {
  let best: ResolvedSize | undefined;
  for (const s of sizes) {
    // A type without a known price cannot be compared on cost: only a workload naming it gets it.
    if (s.priceKnown === false || !fits(s, req) || excluded?.has(s.name)) continue;
    if (!best || s.usdPerHour < best.usdPerHour ||
      (s.usdPerHour === best.usdPerHour && (s.vcpu < best.vcpu || (s.vcpu === best.vcpu && s.name < best.name)))) {
      best = s;
    }
  }
  return best;
}
