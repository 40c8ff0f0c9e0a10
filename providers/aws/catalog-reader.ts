import {
  DescribeInstanceTypeOfferingsCommand, DescribeInstanceTypesCommand, DescribeRegionsCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { catalogData } from '../catalog';
import type { CloudReading, ReadRegion, ReadType } from '../catalog/refresh';
import type { AwsDriverConfig } from '../config';
import { Resilience, type ResilienceOptions } from '../resilience';
import { classifyAwsError } from './classify';

// Regions read at once: each takes two paged calls.
const PARALLEL_REGIONS = 6;

/**
 * Reads the account's EC2 regions (`DescribeRegions` with every opt-in status), and in each
 * region it may call the instance types offered there (`DescribeInstanceTypeOfferings` with
 * location type region) with their vCPU, memory and architecture (`DescribeInstanceTypes`).
 * Opt-in regions the account did not enable are listed but not read (EC2 refuses calls there).
 * Read-only: a rejection (a `CloudError`) leaves nothing behind.
 */
export async function readAwsCatalog(config: AwsDriverConfig = {}, resilience?: Partial<ResilienceOptions>): Promise<CloudReading> {
  const res = new Resilience('aws', classifyAwsError, resilience);
  const clients = new Map<string, EC2Client>();
  const client = (region: string): EC2Client => {
    let c = clients.get(region);
    if (!c) {
      c = new EC2Client({ region, maxAttempts: 1, ...(config.endpoint ? { endpoint: config.endpoint } : {}), ...(config.credentials ? { credentials: { ...config.credentials } } : {}) });
      clients.set(region, c);
    }
    return c;
  };
  try {
    const home = catalogData('aws').referenceRegion;
    const out = await res.call({ region: home, apiClass: 'read', operation: 'DescribeRegions' },
      (signal) => client(home).send(new DescribeRegionsCommand({ AllRegions: true }), { abortSignal: signal }));
    const regions: ReadRegion[] = (out.Regions ?? []).flatMap((r) => r.RegionName ? [{
      id: r.RegionName,
      access: r.OptInStatus === 'opt-in-not-required' ? 'default' as const : 'opt-in' as const,
      usable: r.OptInStatus !== 'not-opted-in',
    }] : []);
    const types = new Map<string, ReadType>();
    const offerings = new Map<string, ReadonlySet<string>>();
    const queue = regions.filter((r) => r.usable).map((r) => r.id);
    const worker = async (): Promise<void> => {
      for (let region = queue.shift(); region !== undefined; region = queue.shift()) {
        offerings.set(region, await offeredTypes(res, client(region), region));
        for (const t of await typeDetails(res, client(region), region)) types.set(t.name, t);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_REGIONS }, worker));
    return { cloud: 'aws', readAt: new Date().toISOString(), regions, types: [...types.values()], offerings };
  } finally {
    for (const c of clients.values()) c.destroy();
  }
}

async function offeredTypes(res: Resilience, client: EC2Client, region: string): Promise<Set<string>> {
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const page = await res.call({ region, apiClass: 'read', operation: 'DescribeInstanceTypeOfferings' },
      (signal) => client.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'region', MaxResults: 1000, NextToken: token }), { abortSignal: signal }));
    for (const o of page.InstanceTypeOfferings ?? []) if (o.InstanceType) names.add(o.InstanceType);
    token = page.NextToken || undefined;
  } while (token);
  return names;
}

async function typeDetails(res: Resilience, client: EC2Client, region: string): Promise<ReadType[]> {
  const out: ReadType[] = [];
  let token: string | undefined;
  do {
    const page = await res.call({ region, apiClass: 'read', operation: 'DescribeInstanceTypes' },
      (signal) => client.send(new DescribeInstanceTypesCommand({ MaxResults: 100, NextToken: token }), { abortSignal: signal }));
    for (const t of page.InstanceTypes ?? []) {
      const vcpu = t.VCpuInfo?.DefaultVCpus;
      const mib = t.MemoryInfo?.SizeInMiB;
      const archs = t.ProcessorInfo?.SupportedArchitectures ?? [];
      // Types for 32-bit or Mac only do not fit the catalog's two architectures.
      const arch = archs.includes('x86_64') ? 'x86_64' : archs.includes('arm64') ? 'arm64' : undefined;
      if (t.InstanceType && vcpu && mib && arch) out.push({ name: t.InstanceType, vcpu, memoryGiB: mib / 1024, arch });
    }
    token = page.NextToken || undefined;
  } while (token);
  return out;
}
