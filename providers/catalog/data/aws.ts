import type { CloudCatalogData, SizeRow } from './types';

/**
 * AWS regions and EC2 on-demand Linux list prices.
 *
 * Sizes: us-east-1 on-demand Linux USD/hour from the public EC2 price list; within a family the
 * price is linear in vCPU, as AWS lists it.
 *
 * `priceFactor`: approximate ratio of the region's m6i.large on-demand Linux price to us-east-1's
 * ($0.096), rounded to two decimals, and applied to every type. Real per-type ratios differ by a
 * few percent. The China regions list prices in CNY; their factors convert at about 7.1 CNY/USD.
 * Rows marked `est.` are regions without a reliable published figure at `pricesAsOf`; their factor
 * is that of the nearest comparable region.
 *
 * Coordinates are those of the metro area AWS names (AWS does not publish site locations).
 *
 * Partitions: the GovCloud regions are in `aws-us-gov` and the China regions (operated by Sinnet
 * and NWCD) in `aws-cn`; each needs an account of that partition. Every region launched since
 * March 2019 is `opt-in`: an account uses it only after enabling it (Account Management
 * `EnableRegion`, or the console), and it is absent from EC2 `DescribeRegions` until then.
 */
/** Regions without the Intel seventh generation's c7i and r7i (est.: newest opt-in regions, China). */
const SEVENTH_GEN_ABSENT = ['ap-southeast-6', 'ap-southeast-7', 'ap-east-2', 'mx-central-1', 'cn-north-1', 'cn-northwest-1'];

const VCPUS: Readonly<Record<string, number>> = { large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16, '8xlarge': 32 };

/** A family's sizes: vCPU by size name, memory per vCPU, the `large` price scaled linearly in vCPU (as AWS lists it). */
function family(name: string, arch: SizeRow['arch'], gibPerVcpu: number, largeUsd: number, sizes: readonly string[], unavailableIn?: readonly string[]): SizeRow[] {
  return sizes.map((s) => ({
    name: `${name}.${s}`, vcpu: VCPUS[s], memoryGiB: VCPUS[s] * gibPerVcpu, arch,
    usdPerHour: Math.round(largeUsd * (VCPUS[s] / 2) * 100_000) / 100_000, ...(unavailableIn ? { unavailableIn } : {}),
  }));
}

export const AWS_CATALOG: CloudCatalogData = {
  cloud: 'aws',
  referenceRegion: 'us-east-1',
  pricesAsOf: '2026-11-01',
  regions: [
    // North America
    { id: 'us-east-1', name: 'US East (N. Virginia)', country: 'US', continent: 'NA', lat: 38.9, lon: -77.4, priceFactor: 1 },
    { id: 'us-east-2', name: 'US East (Ohio)', country: 'US', continent: 'NA', lat: 39.96, lon: -83.0, priceFactor: 1 },
    { id: 'us-west-1', name: 'US West (N. California)', country: 'US', continent: 'NA', lat: 37.34, lon: -121.89, priceFactor: 1.17 },
    { id: 'us-west-2', name: 'US West (Oregon)', country: 'US', continent: 'NA', lat: 45.84, lon: -119.7, priceFactor: 1 },
    { id: 'ca-central-1', name: 'Canada (Central)', country: 'CA', continent: 'NA', lat: 45.5, lon: -73.57, priceFactor: 1.11 },
    { id: 'ca-west-1', name: 'Canada West (Calgary)', country: 'CA', continent: 'NA', lat: 51.05, lon: -114.07, priceFactor: 1.11, access: 'opt-in' },
    { id: 'mx-central-1', name: 'Mexico (Central)', country: 'MX', continent: 'NA', lat: 20.59, lon: -100.39, priceFactor: 1.1, access: 'opt-in' }, // est.
    { id: 'us-gov-east-1', name: 'AWS GovCloud (US-East)', country: 'US', continent: 'NA', lat: 39.96, lon: -83.0, priceFactor: 1.26, partition: 'aws-us-gov' },
    { id: 'us-gov-west-1', name: 'AWS GovCloud (US-West)', country: 'US', continent: 'NA', lat: 45.6, lon: -121.18, priceFactor: 1.26, partition: 'aws-us-gov' },
    // South America
    { id: 'sa-east-1', name: 'South America (Sao Paulo)', country: 'BR', continent: 'SA', lat: -23.55, lon: -46.63, priceFactor: 1.59 },
    // Europe
    { id: 'eu-central-1', name: 'Europe (Frankfurt)', country: 'DE', continent: 'EU', lat: 50.1, lon: 8.7, priceFactor: 1.2 },
    { id: 'eu-central-2', name: 'Europe (Zurich)', country: 'CH', continent: 'EU', lat: 47.37, lon: 8.54, priceFactor: 1.32, access: 'opt-in' },
    { id: 'eu-west-1', name: 'Europe (Ireland)', country: 'IE', continent: 'EU', lat: 53.3, lon: -6.3, priceFactor: 1.11 },
    { id: 'eu-west-2', name: 'Europe (London)', country: 'GB', continent: 'EU', lat: 51.51, lon: -0.13, priceFactor: 1.16 },
    { id: 'eu-west-3', name: 'Europe (Paris)', country: 'FR', continent: 'EU', lat: 48.86, lon: 2.35, priceFactor: 1.17 },
    { id: 'eu-south-1', name: 'Europe (Milan)', country: 'IT', continent: 'EU', lat: 45.46, lon: 9.19, priceFactor: 1.17, access: 'opt-in' },
    { id: 'eu-south-2', name: 'Europe (Spain)', country: 'ES', continent: 'EU', lat: 41.65, lon: -0.88, priceFactor: 1.11, access: 'opt-in' },
    { id: 'eu-north-1', name: 'Europe (Stockholm)', country: 'SE', continent: 'EU', lat: 59.33, lon: 18.07, priceFactor: 1.06 },
    // Middle East (Asia) and Africa
    { id: 'il-central-1', name: 'Israel (Tel Aviv)', country: 'IL', continent: 'AS', lat: 32.09, lon: 34.78, priceFactor: 1.21, access: 'opt-in' },
    { id: 'me-south-1', name: 'Middle East (Bahrain)', country: 'BH', continent: 'AS', lat: 26.23, lon: 50.59, priceFactor: 1.23, access: 'opt-in' },
    { id: 'me-central-1', name: 'Middle East (UAE)', country: 'AE', continent: 'AS', lat: 25.2, lon: 55.27, priceFactor: 1.22, access: 'opt-in' },
    { id: 'af-south-1', name: 'Africa (Cape Town)', country: 'ZA', continent: 'AF', lat: -33.92, lon: 18.42, priceFactor: 1.32, access: 'opt-in' },
    // Asia Pacific
    { id: 'ap-east-1', name: 'Asia Pacific (Hong Kong)', country: 'HK', continent: 'AS', lat: 22.32, lon: 114.17, priceFactor: 1.38, access: 'opt-in' },
    { id: 'ap-east-2', name: 'Asia Pacific (Taipei)', country: 'TW', continent: 'AS', lat: 25.03, lon: 121.57, priceFactor: 1.29, access: 'opt-in' }, // est.
    { id: 'ap-south-1', name: 'Asia Pacific (Mumbai)', country: 'IN', continent: 'AS', lat: 19.08, lon: 72.88, priceFactor: 1.05 },
    { id: 'ap-south-2', name: 'Asia Pacific (Hyderabad)', country: 'IN', continent: 'AS', lat: 17.39, lon: 78.49, priceFactor: 1.05, access: 'opt-in' },
    { id: 'ap-southeast-1', name: 'Asia Pacific (Singapore)', country: 'SG', continent: 'AS', lat: 1.35, lon: 103.82, priceFactor: 1.25 },
    { id: 'ap-southeast-3', name: 'Asia Pacific (Jakarta)', country: 'ID', continent: 'AS', lat: -6.21, lon: 106.85, priceFactor: 1.25, access: 'opt-in' },
    { id: 'ap-southeast-5', name: 'Asia Pacific (Malaysia)', country: 'MY', continent: 'AS', lat: 3.14, lon: 101.69, priceFactor: 1.13, access: 'opt-in' }, // est.
    { id: 'ap-southeast-7', name: 'Asia Pacific (Thailand)', country: 'TH', continent: 'AS', lat: 13.76, lon: 100.5, priceFactor: 1.15, access: 'opt-in' }, // est.
    { id: 'ap-northeast-1', name: 'Asia Pacific (Tokyo)', country: 'JP', continent: 'AS', lat: 35.7, lon: 139.7, priceFactor: 1.29 },
    { id: 'ap-northeast-2', name: 'Asia Pacific (Seoul)', country: 'KR', continent: 'AS', lat: 37.57, lon: 126.98, priceFactor: 1.23 },
    { id: 'ap-northeast-3', name: 'Asia Pacific (Osaka)', country: 'JP', continent: 'AS', lat: 34.69, lon: 135.5, priceFactor: 1.29 },
    { id: 'cn-north-1', name: 'China (Beijing)', country: 'CN', continent: 'AS', lat: 39.9, lon: 116.4, priceFactor: 1.2, partition: 'aws-cn' }, // est.
    { id: 'cn-northwest-1', name: 'China (Ningxia)', country: 'CN', continent: 'AS', lat: 37.5, lon: 105.19, priceFactor: 1.05, partition: 'aws-cn' }, // est.
    // Oceania
    { id: 'ap-southeast-2', name: 'Asia Pacific (Sydney)', country: 'AU', continent: 'OC', lat: -33.87, lon: 151.21, priceFactor: 1.25 },
    { id: 'ap-southeast-4', name: 'Asia Pacific (Melbourne)', country: 'AU', continent: 'OC', lat: -37.81, lon: 144.96, priceFactor: 1.25, access: 'opt-in' },
    { id: 'ap-southeast-6', name: 'Asia Pacific (New Zealand)', country: 'NZ', continent: 'OC', lat: -36.85, lon: 174.76, priceFactor: 1.3, access: 'opt-in' }, // est.
  ],
  sizes: [
  // t3: burstable x86 (baseline credits; unlimited mode costs extra).
  { name: 't3.nano', vcpu: 2, memoryGiB: 0.5, arch: 'x86_64', usdPerHour: 0.0052 },
  { name: 't3.micro', vcpu: 2, memoryGiB: 1, arch: 'x86_64', usdPerHour: 0.0104 },
  { name: 't3.small', vcpu: 2, memoryGiB: 2, arch: 'x86_64', usdPerHour: 0.0208 },
  { name: 't3.medium', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usdPerHour: 0.0416 },
  { name: 't3.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.0832 },
  { name: 't3.xlarge', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.1664 },
  { name: 't3.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.3328 },
  // t4g: burstable Graviton2.
  { name: 't4g.nano', vcpu: 2, memoryGiB: 0.5, arch: 'arm64', usdPerHour: 0.0042 },
  { name: 't4g.micro', vcpu: 2, memoryGiB: 1, arch: 'arm64', usdPerHour: 0.0084 },
  { name: 't4g.small', vcpu: 2, memoryGiB: 2, arch: 'arm64', usdPerHour: 0.0168 },
  { name: 't4g.medium', vcpu: 2, memoryGiB: 4, arch: 'arm64', usdPerHour: 0.0336 },
  { name: 't4g.large', vcpu: 2, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.0672 },
  { name: 't4g.xlarge', vcpu: 4, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.1344 },
  { name: 't4g.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.2688 },
  // m6i: general purpose, Intel Ice Lake, 4 GiB per vCPU.
  { name: 'm6i.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.096 },
  { name: 'm6i.xlarge', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.192 },
  { name: 'm6i.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.384 },
  { name: 'm6i.4xlarge', vcpu: 16, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.768 },
  { name: 'm6i.8xlarge', vcpu: 32, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.536 },
  { name: 'm6i.12xlarge', vcpu: 48, memoryGiB: 192, arch: 'x86_64', usdPerHour: 2.304 },
  { name: 'm6i.16xlarge', vcpu: 64, memoryGiB: 256, arch: 'x86_64', usdPerHour: 3.072 },
  { name: 'm6i.24xlarge', vcpu: 96, memoryGiB: 384, arch: 'x86_64', usdPerHour: 4.608 },
  { name: 'm6i.32xlarge', vcpu: 128, memoryGiB: 512, arch: 'x86_64', usdPerHour: 6.144 },
  // m7i: general purpose, Intel Sapphire Rapids.
  { name: 'm7i.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.1008 },
  { name: 'm7i.xlarge', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.2016 },
  { name: 'm7i.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.4032 },
  { name: 'm7i.4xlarge', vcpu: 16, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.8064 },
  { name: 'm7i.8xlarge', vcpu: 32, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.6128 },
  { name: 'm7i.12xlarge', vcpu: 48, memoryGiB: 192, arch: 'x86_64', usdPerHour: 2.4192 },
  { name: 'm7i.16xlarge', vcpu: 64, memoryGiB: 256, arch: 'x86_64', usdPerHour: 3.2256 },
  { name: 'm7i.24xlarge', vcpu: 96, memoryGiB: 384, arch: 'x86_64', usdPerHour: 4.8384 },
  { name: 'm7i.48xlarge', vcpu: 192, memoryGiB: 768, arch: 'x86_64', usdPerHour: 9.6768 },
  // m6g: general purpose, Graviton2.
  { name: 'm6g.medium', vcpu: 1, memoryGiB: 4, arch: 'arm64', usdPerHour: 0.0385 },
  { name: 'm6g.large', vcpu: 2, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.077 },
  { name: 'm6g.xlarge', vcpu: 4, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.154 },
  { name: 'm6g.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.308 },
  { name: 'm6g.4xlarge', vcpu: 16, memoryGiB: 64, arch: 'arm64', usdPerHour: 0.616 },
  { name: 'm6g.8xlarge', vcpu: 32, memoryGiB: 128, arch: 'arm64', usdPerHour: 1.232 },
  { name: 'm6g.12xlarge', vcpu: 48, memoryGiB: 192, arch: 'arm64', usdPerHour: 1.848 },
  { name: 'm6g.16xlarge', vcpu: 64, memoryGiB: 256, arch: 'arm64', usdPerHour: 2.464 },
  // m7g: general purpose, Graviton3.
  { name: 'm7g.medium', vcpu: 1, memoryGiB: 4, arch: 'arm64', usdPerHour: 0.0408 },
  { name: 'm7g.large', vcpu: 2, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.0816 },
  { name: 'm7g.xlarge', vcpu: 4, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.1632 },
  { name: 'm7g.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.3264 },
  { name: 'm7g.4xlarge', vcpu: 16, memoryGiB: 64, arch: 'arm64', usdPerHour: 0.6528 },
  { name: 'm7g.8xlarge', vcpu: 32, memoryGiB: 128, arch: 'arm64', usdPerHour: 1.3056 },
  { name: 'm7g.12xlarge', vcpu: 48, memoryGiB: 192, arch: 'arm64', usdPerHour: 1.9584 },
  { name: 'm7g.16xlarge', vcpu: 64, memoryGiB: 256, arch: 'arm64', usdPerHour: 2.6112 },
  // c6i: compute optimized, Intel, 2 GiB per vCPU.
  { name: 'c6i.large', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usdPerHour: 0.085 },
  { name: 'c6i.xlarge', vcpu: 4, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.17 },
  { name: 'c6i.2xlarge', vcpu: 8, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.34 },
  { name: 'c6i.4xlarge', vcpu: 16, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.68 },
  { name: 'c6i.8xlarge', vcpu: 32, memoryGiB: 64, arch: 'x86_64', usdPerHour: 1.36 },
  { name: 'c6i.12xlarge', vcpu: 48, memoryGiB: 96, arch: 'x86_64', usdPerHour: 2.04 },
  { name: 'c6i.16xlarge', vcpu: 64, memoryGiB: 128, arch: 'x86_64', usdPerHour: 2.72 },
  { name: 'c6i.24xlarge', vcpu: 96, memoryGiB: 192, arch: 'x86_64', usdPerHour: 4.08 },
  { name: 'c6i.32xlarge', vcpu: 128, memoryGiB: 256, arch: 'x86_64', usdPerHour: 5.44 },
  // c7g: compute optimized, Graviton3.
  { name: 'c7g.medium', vcpu: 1, memoryGiB: 2, arch: 'arm64', usdPerHour: 0.0362 },
  { name: 'c7g.large', vcpu: 2, memoryGiB: 4, arch: 'arm64', usdPerHour: 0.0725 },
  { name: 'c7g.xlarge', vcpu: 4, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.145 },
  { name: 'c7g.2xlarge', vcpu: 8, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.29 },
  { name: 'c7g.4xlarge', vcpu: 16, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.58 },
  { name: 'c7g.8xlarge', vcpu: 32, memoryGiB: 64, arch: 'arm64', usdPerHour: 1.16 },
  { name: 'c7g.12xlarge', vcpu: 48, memoryGiB: 96, arch: 'arm64', usdPerHour: 1.74 },
  { name: 'c7g.16xlarge', vcpu: 64, memoryGiB: 128, arch: 'arm64', usdPerHour: 2.32 },
  // c7i: compute optimized, Intel Sapphire Rapids, 2 GiB per vCPU. Not offered (at pricesAsOf, est.) in the
  // youngest opt-in regions nor in the China partition.
  ...family('c7i', 'x86_64', 2, 0.08925, ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'], SEVENTH_GEN_ABSENT),
  // r7i: memory optimized, Intel Sapphire Rapids, 8 GiB per vCPU; offered where c7i is.
  ...family('r7i', 'x86_64', 8, 0.1323, ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'], SEVENTH_GEN_ABSENT),
  // r6i: memory optimized, Intel, 8 GiB per vCPU.
  { name: 'r6i.large', vcpu: 2, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.126 },
  { name: 'r6i.xlarge', vcpu: 4, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.252 },
  { name: 'r6i.2xlarge', vcpu: 8, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.504 },
  { name: 'r6i.4xlarge', vcpu: 16, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.008 },
  { name: 'r6i.8xlarge', vcpu: 32, memoryGiB: 256, arch: 'x86_64', usdPerHour: 2.016 },
  { name: 'r6i.12xlarge', vcpu: 48, memoryGiB: 384, arch: 'x86_64', usdPerHour: 3.024 },
  { name: 'r6i.16xlarge', vcpu: 64, memoryGiB: 512, arch: 'x86_64', usdPerHour: 4.032 },
  { name: 'r6i.24xlarge', vcpu: 96, memoryGiB: 768, arch: 'x86_64', usdPerHour: 6.048 },
  { name: 'r6i.32xlarge', vcpu: 128, memoryGiB: 1024, arch: 'x86_64', usdPerHour: 8.064 },
  // r7g: memory optimized, Graviton3.
  { name: 'r7g.medium', vcpu: 1, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.0536 },
  { name: 'r7g.large', vcpu: 2, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.1071 },
  { name: 'r7g.xlarge', vcpu: 4, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.2142 },
  { name: 'r7g.2xlarge', vcpu: 8, memoryGiB: 64, arch: 'arm64', usdPerHour: 0.4284 },
  { name: 'r7g.4xlarge', vcpu: 16, memoryGiB: 128, arch: 'arm64', usdPerHour: 0.8568 },
  { name: 'r7g.8xlarge', vcpu: 32, memoryGiB: 256, arch: 'arm64', usdPerHour: 1.7136 },
  { name: 'r7g.12xlarge', vcpu: 48, memoryGiB: 384, arch: 'arm64', usdPerHour: 2.5704 },
  { name: 'r7g.16xlarge', vcpu: 64, memoryGiB: 512, arch: 'arm64', usdPerHour: 3.4272 },
  ],
};
