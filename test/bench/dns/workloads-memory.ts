// GeoDNS memory with many workloads: N workloads over K distinct region sets served from
// geoip-lite's table, every workload's decision runs built, then RSS and the shared structures.
// Usage: node dist/test/bench/dns/workloads-memory.js [--workloads 1000] [--region-sets 3]
// Prints one JSON line: { workloads, regionSets, structures, runsMiB, rssMiB, baselineRssMiB }.
import { defaultGeoTable } from '../../../dns';
import { WorkloadStore } from '../../../dns/answer/store';
import type { WorkloadEndpoints } from '../../../dns/watch/protocol';
import { benchRegions } from './regions';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number >= 1, got ${String(process.argv[i + 1])}`);
  return v;
}

/** Workload `n` of `sets` region sets: set k is the benchmark regions without region k. */
export function manyWorkload(n: number, sets: number): WorkloadEndpoints {
  const regions = benchRegions();
  const drop = n % sets;
  return {
    name: `w${n}`, dns: { name: `w${n}.meridian.test`, ttl: 60 }, residency: null,
    regions: regions.filter((_, k) => k !== drop % regions.length).map((r) => ({
      cloud: r.cloud, region: r.region, lat: r.lat, lon: r.lon, country: r.country, continent: r.continent, healthy: true,
      instances: [{ id: `i-${n}-${r.dc}`, ipv4: r.ipv4, healthy: true }],
    })),
  };
}

async function main(): Promise<void> {
  const workloads = arg('--workloads', 1000);
  const sets = arg('--region-sets', 3);
  const table = defaultGeoTable();
  global.gc?.();
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const store = new WorkloadStore({ ttlMinSeconds: 5, ttlMaxSeconds: 3600, maxAddresses: 8 }, () => true);
  store.replaceAll(Array.from({ length: workloads }, (_, n) => manyWorkload(n, sets)));
  const started = Date.now();
  store.decisions.prepare(table);
  while (store.decisions.building > 0) await new Promise((resolve) => setImmediate(resolve));
  const buildMs = Date.now() - started;
  global.gc?.();
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  console.log(JSON.stringify({ workloads, regionSets: sets, structures: store.decisions.size, runsMiB: store.decisions.byteLength / 2 ** 20,
    buildMs, rssMiB: Math.round(rssMiB), baselineRssMiB: Math.round(baselineRssMiB) }));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
