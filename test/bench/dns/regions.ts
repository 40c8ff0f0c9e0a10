// The fixed set of regions both servers answer `web.meridian.test` with: 8 regions over 3 clouds,
// located from the catalog, one A record each (documentation address space, RFC 5737).
// The catalog module alone: the providers index would load the three cloud SDKs (about 120 MiB)
// into the benchmark's server, which the production GeoDNS process never does.
import { findRegion } from '../../../providers/catalog';
import type { CloudId } from '../../../providers/types';

/** One benchmark region: its catalog entry and the A record that identifies it in answers. */
export interface BenchRegion {
  readonly cloud: CloudId;
  readonly region: string;
  /** gdnsd datacenter name. */
  readonly dc: string;
  readonly lat: number;
  readonly lon: number;
  readonly country: string;
  readonly continent: string;
  readonly ipv4: string;
}

const PICKS: ReadonlyArray<[CloudId, string]> = [
  ['aws', 'us-east-1'], ['aws', 'eu-central-1'], ['aws', 'ap-northeast-1'],
  ['azure', 'westus2'], ['azure', 'westeurope'], ['azure', 'australiaeast'],
  ['alibaba', 'cn-hangzhou'], ['alibaba', 'ap-southeast-1'],
];

/** The 8 benchmark regions, in a stable order. */
export function benchRegions(): readonly BenchRegion[] {
  return PICKS.map(([cloud, id], i) => {
    const r = findRegion(cloud, id);
    return {
      cloud, region: id, dc: `${cloud}-${id}`, lat: r.lat, lon: r.lon, country: r.country, continent: r.continent,
      ipv4: `192.0.2.${i + 1}`,
    };
  });
}

/** The workload name both servers answer. */
export const BENCH_NAME = 'web.meridian.test';
/** The zone it lives in. */
export const BENCH_ZONE = 'meridian.test';
/** TTL of the answer, seconds. */
export const BENCH_TTL = 60;
