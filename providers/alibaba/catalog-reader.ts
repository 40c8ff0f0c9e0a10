import type EcsClient from '@alicloud/ecs20140526';
import { DescribeAvailableResourceRequest, DescribeInstanceTypesRequest, DescribeRegionsRequest } from '@alicloud/ecs20140526';
import { catalogData } from '../catalog';
import type { CloudReading, ReadRegion, ReadType } from '../catalog/refresh';
import type { AlibabaDriverConfig } from '../config';
import { Resilience, type ResilienceOptions } from '../resilience';
import { classifyAlibabaError } from './classify';
import { createEcsClient, ecsRuntime, type EcsTimeouts } from './client';

const TIMEOUTS: EcsTimeouts = { connectTimeoutMs: 5_000, readTimeoutMs: 30_000 };
// Regions read at once.
const PARALLEL_REGIONS = 6;

/**
 * Reads the ECS regions (`DescribeRegions`), the instance types with vCPU, memory and architecture
 * (`DescribeInstanceTypes`, paged by NextToken) and, per region, the types sold there
 * (`DescribeAvailableResource` with `DestinationResource=InstanceType`, pay-as-you-go; a type
 * counts when any zone has it `Available`). Read-only: a rejection (a `CloudError`) leaves nothing behind.
 */
export async function readAlibabaCatalog(config: AlibabaDriverConfig = {}, resilience?: Partial<ResilienceOptions>): Promise<CloudReading> {
  const res = new Resilience('alibaba', classifyAlibabaError, resilience);
  const clients = new Map<string, EcsClient>();
  const client = (region: string): EcsClient => {
    let c = clients.get(region);
    if (!c) clients.set(region, (c = createEcsClient(config, region, TIMEOUTS)));
    return c;
  };
  const home = catalogData('alibaba').referenceRegion;
  const regionsOut = await res.call({ region: home, apiClass: 'read', operation: 'DescribeRegions' },
    () => client(home).describeRegionsWithOptions(new DescribeRegionsRequest({ regionId: home, acceptLanguage: 'en-US' }), ecsRuntime(TIMEOUTS)));
  const regions: ReadRegion[] = (regionsOut.body?.regions?.region ?? []).flatMap((r) => r.regionId ? [{ id: r.regionId, usable: r.status !== 'unavailable' }] : []);

  const types: ReadType[] = [];
  let token: string | undefined;
  do {
    const page = await res.call({ region: home, apiClass: 'read', operation: 'DescribeInstanceTypes' },
      () => client(home).describeInstanceTypesWithOptions(new DescribeInstanceTypesRequest({ maxResults: 100, nextToken: token }), ecsRuntime(TIMEOUTS)));
    for (const t of page.body?.instanceTypes?.instanceType ?? []) {
      const arch = t.cpuArchitecture === 'ARM' ? 'arm64' as const : t.cpuArchitecture === 'X86' ? 'x86_64' as const : undefined;
      if (t.instanceTypeId && t.cpuCoreCount && t.memorySize && arch) types.push({ name: t.instanceTypeId, vcpu: t.cpuCoreCount, memoryGiB: t.memorySize, arch });
    }
    token = page.body?.nextToken || undefined;
  } while (token);

  const offerings = new Map<string, ReadonlySet<string>>();
  const queue = regions.filter((r) => r.usable).map((r) => r.id);
  const worker = async (): Promise<void> => {
    for (let region = queue.shift(); region !== undefined; region = queue.shift()) {
      const id = region;
      const out = await res.call({ region: id, apiClass: 'read', operation: 'DescribeAvailableResource' },
        () => client(id).describeAvailableResourceWithOptions(new DescribeAvailableResourceRequest({
          regionId: id, destinationResource: 'InstanceType', instanceChargeType: 'PostPaid',
        }), ecsRuntime(TIMEOUTS)));
      const sold = new Set<string>();
      for (const zone of out.body?.availableZones?.availableZone ?? []) {
        if (zone.status !== 'Available') continue;
        for (const r of zone.availableResources?.availableResource ?? []) {
          if (r.type !== 'InstanceType') continue;
          for (const s of r.supportedResources?.supportedResource ?? []) if (s.value && s.status === 'Available') sold.add(s.value);
        }
      }
      offerings.set(id, sold);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_REGIONS }, worker));
  return { cloud: 'alibaba', readAt: new Date().toISOString(), regions, types, offerings };
}
