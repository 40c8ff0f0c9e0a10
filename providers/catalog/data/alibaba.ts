import type { CloudCatalogData, SizeRow } from './types';

/**
 * Alibaba Cloud regions and ECS pay-as-you-go list prices.
 *
 * Sizes: approximate pay-as-you-go Linux USD/hour in US (Silicon Valley) from the international
 * ECS price page, rounded; a family's price is linear in vCPU there. Burstable t6 prices are for
 * the baseline (no unlimited mode).
 *
 * `priceFactor`: approximate ratio of the region's ecs.g7.large pay-as-you-go price to
 * US (Silicon Valley)'s, rounded to 0.05, and applied to every type. Mainland China regions list
 * prices in CNY on the China site; their factors convert at about 7.1 CNY/USD (mainland prices run
 * lower, the newer northern sites lowest). Rows marked `est.` are regions without a reliable
 * published figure at `pricesAsOf`; their factor is that of the nearest comparable region.
 *
 * Left out: closed regions (Australia (Sydney) ap-southeast-2, India (Mumbai) ap-south-1) and
 * industry or government clouds (cn-north-2-gov-1 and the like). Local regions (`cn-nanjing`,
 * `cn-fuzhou`, `cn-wuhan-lr`) and the China Unicom joint-venture region are public and kept.
 *
 * Coordinates are those of the city Alibaba Cloud names.
 */
/** Sites opened after the sixth generation was sold, and local regions: no g6, c6, r6 (est.). */
const OLDER_GEN_ABSENT = ['cn-nanjing', 'cn-fuzhou', 'cn-wuhan-lr', 'cn-zhengzhou-jva', 'ap-southeast-7', 'ap-southeast-8', 'me-central-1', 'na-south-1', 'us-southeast-1'];
/** g8i is sold in the main sites; not in the local regions and some smaller international sites (est.). */
const G8I_ABSENT = ['cn-nanjing', 'cn-fuzhou', 'cn-wuhan-lr', 'cn-zhengzhou-jva', 'cn-zhongwei', 'ap-southeast-6', 'ap-southeast-7', 'na-south-1', 'us-southeast-1'];

const VCPUS: Readonly<Record<string, number>> = { large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16, '8xlarge': 32 };

/** A family's large to 8xlarge sizes: memory per vCPU, the `large` price scaled linearly in vCPU. */
function family(name: string, gibPerVcpu: number, largeUsd: number, unavailableIn: readonly string[]): SizeRow[] {
  return Object.entries(VCPUS).map(([s, vcpu]) => ({
    name: `ecs.${name}.${s}`, vcpu, memoryGiB: vcpu * gibPerVcpu, arch: 'x86_64' as const,
    usdPerHour: Math.round(largeUsd * (vcpu / 2) * 100_000) / 100_000, unavailableIn,
  }));
}

export const ALIBABA_CATALOG: CloudCatalogData = {
  cloud: 'alibaba',
  referenceRegion: 'us-west-1',
  pricesAsOf: '2026-11-01',
  regions: [
    // Mainland China
    { id: 'cn-qingdao', name: 'China (Qingdao)', country: 'CN', continent: 'AS', lat: 36.07, lon: 120.38, priceFactor: 0.9 },
    { id: 'cn-beijing', name: 'China (Beijing)', country: 'CN', continent: 'AS', lat: 39.9, lon: 116.4, priceFactor: 0.9 },
    { id: 'cn-zhangjiakou', name: 'China (Zhangjiakou)', country: 'CN', continent: 'AS', lat: 40.77, lon: 114.88, priceFactor: 0.85 },
    { id: 'cn-huhehaote', name: 'China (Hohhot)', country: 'CN', continent: 'AS', lat: 40.84, lon: 111.75, priceFactor: 0.8 },
    { id: 'cn-wulanchabu', name: 'China (Ulanqab)', country: 'CN', continent: 'AS', lat: 41.0, lon: 113.13, priceFactor: 0.8 },
    { id: 'cn-hangzhou', name: 'China (Hangzhou)', country: 'CN', continent: 'AS', lat: 30.27, lon: 120.15, priceFactor: 0.9 },
    { id: 'cn-shanghai', name: 'China (Shanghai)', country: 'CN', continent: 'AS', lat: 31.23, lon: 121.47, priceFactor: 0.9 },
    { id: 'cn-nanjing', name: 'China (Nanjing - Local Region)', country: 'CN', continent: 'AS', lat: 32.06, lon: 118.8, priceFactor: 0.9 }, // est.
    { id: 'cn-fuzhou', name: 'China (Fuzhou - Local Region)', country: 'CN', continent: 'AS', lat: 26.07, lon: 119.3, priceFactor: 0.9 }, // est.
    { id: 'cn-wuhan-lr', name: 'China (Wuhan - Local Region)', country: 'CN', continent: 'AS', lat: 30.59, lon: 114.31, priceFactor: 0.9 }, // est.
    { id: 'cn-zhengzhou-jva', name: 'China (Zhengzhou - China Unicom Joint Venture)', country: 'CN', continent: 'AS', lat: 34.75, lon: 113.63, priceFactor: 0.9 }, // est.
    { id: 'cn-shenzhen', name: 'China (Shenzhen)', country: 'CN', continent: 'AS', lat: 22.54, lon: 114.06, priceFactor: 0.9 },
    { id: 'cn-heyuan', name: 'China (Heyuan)', country: 'CN', continent: 'AS', lat: 23.74, lon: 114.7, priceFactor: 0.85 },
    { id: 'cn-guangzhou', name: 'China (Guangzhou)', country: 'CN', continent: 'AS', lat: 23.13, lon: 113.26, priceFactor: 0.9 },
    { id: 'cn-zhongwei', name: 'China (Zhongwei)', country: 'CN', continent: 'AS', lat: 37.51, lon: 105.19, priceFactor: 0.8 }, // est.
    { id: 'cn-chengdu', name: 'China (Chengdu)', country: 'CN', continent: 'AS', lat: 30.57, lon: 104.07, priceFactor: 0.85 },
    // Hong Kong and the rest of Asia Pacific
    { id: 'cn-hongkong', name: 'China (Hong Kong)', country: 'HK', continent: 'AS', lat: 22.32, lon: 114.17, priceFactor: 1.25 },
    { id: 'ap-northeast-1', name: 'Japan (Tokyo)', country: 'JP', continent: 'AS', lat: 35.68, lon: 139.69, priceFactor: 1.3 },
    { id: 'ap-northeast-2', name: 'South Korea (Seoul)', country: 'KR', continent: 'AS', lat: 37.57, lon: 126.98, priceFactor: 1.25 },
    { id: 'ap-southeast-1', name: 'Singapore', country: 'SG', continent: 'AS', lat: 1.35, lon: 103.82, priceFactor: 1.15 },
    { id: 'ap-southeast-3', name: 'Malaysia (Kuala Lumpur)', country: 'MY', continent: 'AS', lat: 3.14, lon: 101.69, priceFactor: 1.05 },
    { id: 'ap-southeast-5', name: 'Indonesia (Jakarta)', country: 'ID', continent: 'AS', lat: -6.21, lon: 106.85, priceFactor: 1.1 },
    { id: 'ap-southeast-6', name: 'Philippines (Manila)', country: 'PH', continent: 'AS', lat: 14.6, lon: 120.98, priceFactor: 1.15 }, // est.
    { id: 'ap-southeast-7', name: 'Thailand (Bangkok)', country: 'TH', continent: 'AS', lat: 13.76, lon: 100.5, priceFactor: 1.1 }, // est.
    { id: 'ap-southeast-8', name: 'Malaysia (Johor)', country: 'MY', continent: 'AS', lat: 1.49, lon: 103.74, priceFactor: 1.05 }, // est.
    // Middle East (Asia)
    { id: 'me-east-1', name: 'UAE (Dubai)', country: 'AE', continent: 'AS', lat: 25.2, lon: 55.27, priceFactor: 1.2 },
    { id: 'me-central-1', name: 'Saudi Arabia (Riyadh)', country: 'SA', continent: 'AS', lat: 24.71, lon: 46.68, priceFactor: 1.3 }, // est.
    // Europe
    { id: 'eu-central-1', name: 'Germany (Frankfurt)', country: 'DE', continent: 'EU', lat: 50.1, lon: 8.7, priceFactor: 1.05 },
    { id: 'eu-west-1', name: 'UK (London)', country: 'GB', continent: 'EU', lat: 51.51, lon: -0.13, priceFactor: 1.1 },
    // North America
    { id: 'us-west-1', name: 'US (Silicon Valley)', country: 'US', continent: 'NA', lat: 37.4, lon: -122.1, priceFactor: 1 },
    { id: 'us-east-1', name: 'US (Virginia)', country: 'US', continent: 'NA', lat: 38.9, lon: -77.4, priceFactor: 0.95 },
    { id: 'us-southeast-1', name: 'US (Atlanta)', country: 'US', continent: 'NA', lat: 33.75, lon: -84.39, priceFactor: 1 }, // est.
    { id: 'na-south-1', name: 'Mexico', country: 'MX', continent: 'NA', lat: 20.59, lon: -100.39, priceFactor: 1.1 }, // est.
  ],
  sizes: [
  // t6: burstable x86 (baseline performance; cXmY is the vCPU:memory ratio).
  { name: 'ecs.t6-c4m1.large', vcpu: 2, memoryGiB: 0.5, arch: 'x86_64', usdPerHour: 0.0088 },
  { name: 'ecs.t6-c2m1.large', vcpu: 2, memoryGiB: 1, arch: 'x86_64', usdPerHour: 0.0168 },
  { name: 'ecs.t6-c1m1.large', vcpu: 2, memoryGiB: 2, arch: 'x86_64', usdPerHour: 0.03 },
  { name: 'ecs.t6-c1m2.large', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usdPerHour: 0.0448 },
  { name: 'ecs.t6-c1m4.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.0784 },
  { name: 'ecs.t6-c1m2.xlarge', vcpu: 4, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.0896 },
  { name: 'ecs.t6-c1m4.xlarge', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.1568 },
  { name: 'ecs.t6-c1m2.2xlarge', vcpu: 8, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.1792 },
  { name: 'ecs.t6-c1m4.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.3136 },
  // g6: general purpose, Intel Cascade Lake, 4 GiB per vCPU (previous generation, not in the newest sites, est.).
  ...family('g6', 4, 0.088, OLDER_GEN_ABSENT),
  // c6: compute optimized, Cascade Lake, 2 GiB per vCPU.
  ...family('c6', 2, 0.072, OLDER_GEN_ABSENT),
  // r6: memory optimized, Cascade Lake, 8 GiB per vCPU.
  ...family('r6', 8, 0.116, OLDER_GEN_ABSENT),
  // g8i: general purpose, Intel Sapphire Rapids, 4 GiB per vCPU (the main sites only, est.).
  ...family('g8i', 4, 0.105, G8I_ABSENT),
  // g7: general purpose, Intel Ice Lake, 4 GiB per vCPU.
  { name: 'ecs.g7.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.1 },
  { name: 'ecs.g7.xlarge', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.2 },
  { name: 'ecs.g7.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.4 },
  { name: 'ecs.g7.3xlarge', vcpu: 12, memoryGiB: 48, arch: 'x86_64', usdPerHour: 0.6 },
  { name: 'ecs.g7.4xlarge', vcpu: 16, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.8 },
  { name: 'ecs.g7.6xlarge', vcpu: 24, memoryGiB: 96, arch: 'x86_64', usdPerHour: 1.2 },
  { name: 'ecs.g7.8xlarge', vcpu: 32, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.6 },
  { name: 'ecs.g7.16xlarge', vcpu: 64, memoryGiB: 256, arch: 'x86_64', usdPerHour: 3.2 },
  { name: 'ecs.g7.32xlarge', vcpu: 128, memoryGiB: 512, arch: 'x86_64', usdPerHour: 6.4 },
  // c7: compute optimized, Intel Ice Lake, 2 GiB per vCPU.
  { name: 'ecs.c7.large', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usdPerHour: 0.083 },
  { name: 'ecs.c7.xlarge', vcpu: 4, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.166 },
  { name: 'ecs.c7.2xlarge', vcpu: 8, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.332 },
  { name: 'ecs.c7.3xlarge', vcpu: 12, memoryGiB: 24, arch: 'x86_64', usdPerHour: 0.498 },
  { name: 'ecs.c7.4xlarge', vcpu: 16, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.664 },
  { name: 'ecs.c7.6xlarge', vcpu: 24, memoryGiB: 48, arch: 'x86_64', usdPerHour: 0.996 },
  { name: 'ecs.c7.8xlarge', vcpu: 32, memoryGiB: 64, arch: 'x86_64', usdPerHour: 1.328 },
  { name: 'ecs.c7.16xlarge', vcpu: 64, memoryGiB: 128, arch: 'x86_64', usdPerHour: 2.656 },
  { name: 'ecs.c7.32xlarge', vcpu: 128, memoryGiB: 256, arch: 'x86_64', usdPerHour: 5.312 },
  // r7: memory optimized, Intel Ice Lake, 8 GiB per vCPU.
  { name: 'ecs.r7.large', vcpu: 2, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.131 },
  { name: 'ecs.r7.xlarge', vcpu: 4, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.262 },
  { name: 'ecs.r7.2xlarge', vcpu: 8, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.524 },
  { name: 'ecs.r7.3xlarge', vcpu: 12, memoryGiB: 96, arch: 'x86_64', usdPerHour: 0.786 },
  { name: 'ecs.r7.4xlarge', vcpu: 16, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.048 },
  { name: 'ecs.r7.6xlarge', vcpu: 24, memoryGiB: 192, arch: 'x86_64', usdPerHour: 1.572 },
  { name: 'ecs.r7.8xlarge', vcpu: 32, memoryGiB: 256, arch: 'x86_64', usdPerHour: 2.096 },
  { name: 'ecs.r7.16xlarge', vcpu: 64, memoryGiB: 512, arch: 'x86_64', usdPerHour: 4.192 },
  { name: 'ecs.r7.32xlarge', vcpu: 128, memoryGiB: 1024, arch: 'x86_64', usdPerHour: 8.384 },
  // g8y: general purpose, Yitian 710 (arm64), 4 GiB per vCPU.
  { name: 'ecs.g8y.small', vcpu: 1, memoryGiB: 4, arch: 'arm64', usdPerHour: 0.041 },
  { name: 'ecs.g8y.large', vcpu: 2, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.082 },
  { name: 'ecs.g8y.xlarge', vcpu: 4, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.164 },
  { name: 'ecs.g8y.2xlarge', vcpu: 8, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.328 },
  { name: 'ecs.g8y.4xlarge', vcpu: 16, memoryGiB: 64, arch: 'arm64', usdPerHour: 0.656 },
  { name: 'ecs.g8y.8xlarge', vcpu: 32, memoryGiB: 128, arch: 'arm64', usdPerHour: 1.312 },
  { name: 'ecs.g8y.16xlarge', vcpu: 64, memoryGiB: 256, arch: 'arm64', usdPerHour: 2.624 },
  ],
};
