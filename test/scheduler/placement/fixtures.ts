import { strict as assert } from 'node:assert';
import { publicPartition, type Arch, type CloudId, type Continent, type Region, type ResolvedSize } from '../../../providers';
import { parsePolicy, type RegionPolicySpec, type RegionPolicy } from '../../../policies';
import { staticCatalog, type PlacementCatalog, type Workload } from '../../../scheduler/placement';

/** A region row for fixtures. */
export function region(cloud: CloudId, id: string, country: string, continent: Continent, lat: number, lon: number): Region {
  return { cloud, id, name: id, country, continent, lat, lon, partition: publicPartition(cloud), access: 'default' };
}

/** A small world: three clouds, Europe, the US, Japan and China. */
export const REGIONS: readonly Region[] = [
  region('aws', 'eu-central-1', 'DE', 'EU', 50.1, 8.7),
  region('aws', 'eu-west-1', 'IE', 'EU', 53.3, -6.3),
  region('aws', 'us-east-1', 'US', 'NA', 38.9, -77.4),
  region('aws', 'ap-northeast-1', 'JP', 'AS', 35.7, 139.7),
  region('azure', 'westeurope', 'NL', 'EU', 52.4, 4.9),
  region('azure', 'northeurope', 'IE', 'EU', 53.3, -6.3),
  region('azure', 'eastus', 'US', 'NA', 37.4, -79.0),
  region('alibaba', 'cn-hangzhou', 'CN', 'AS', 30.3, 120.2),
  region('alibaba', 'cn-shanghai', 'CN', 'AS', 31.2, 121.5),
  region('alibaba', 'eu-central-1', 'DE', 'EU', 50.1, 8.7),
];

const TYPES: Record<CloudId, readonly [string, number, number, Arch, number][]> = {
  aws: [['m.small', 2, 4, 'x86_64', 0.04], ['m.large', 4, 16, 'x86_64', 0.16], ['g.small', 2, 4, 'arm64', 0.035]],
  azure: [['D2', 2, 4, 'x86_64', 0.05], ['D4', 4, 16, 'x86_64', 0.18]],
  alibaba: [['ecs.s', 2, 4, 'x86_64', 0.03], ['ecs.l', 4, 16, 'x86_64', 0.12]],
};

/** Price factor per region so that regions differ: index-based, deterministic. */
export function sizesFor(regions: readonly Region[], factor: (r: Region, i: number) => number = (_r, i) => 1 + (i % 4) * 0.1): ResolvedSize[] {
  return regions.flatMap((r, i) => TYPES[r.cloud].map(([name, vcpu, memoryGiB, arch, usd]) => ({
    cloud: r.cloud, region: r.id, name, vcpu, memoryGiB, arch, usdPerHour: Math.round(usd * factor(r, i) * 10_000) / 10_000,
  })));
}

/** The fixture catalog. */
export function fixtureCatalog(regions: readonly Region[] = REGIONS): PlacementCatalog {
  return staticCatalog(regions, sizesFor(regions));
}

/** A validated policy with the given spec, checked against `regions`. */
export function policy(spec: RegionPolicySpec | Record<string, unknown>, regions: readonly Region[] = REGIONS, name = 'test'): RegionPolicy {
  const r = parsePolicy({ apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name }, spec }, { regions });
  assert.ok(r.ok, `fixture policy is invalid: ${JSON.stringify(r.ok ? [] : r.errors)}`);
  return r.value;
}

/** A workload on all three clouds with a 2 vCPU / 4 GiB size. */
export function workload(replicas: number, extra: Partial<Workload> = {}): Workload {
  return {
    name: 'web', replicas, size: { vcpu: 2, memoryGiB: 4 }, policy: 'test',
    image: { aws: 'ami-0123', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64' }, ...extra,
  };
}
