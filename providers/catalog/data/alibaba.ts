import type { CloudCatalogData } from './types';

/** Alibaba Cloud regions and ECS pay-as-you-go list prices (placeholder subset; full table to follow). */
export const ALIBABA_CATALOG: CloudCatalogData = {
  cloud: 'alibaba',
  referenceRegion: 'us-west-1',
  pricesAsOf: '2026-11-01',
  regions: [
    { id: 'cn-hangzhou', name: 'China (Hangzhou)', country: 'CN', continent: 'AS', lat: 30.27, lon: 120.15, priceFactor: 0.9 },
    { id: 'us-west-1', name: 'US (Silicon Valley)', country: 'US', continent: 'NA', lat: 37.4, lon: -122.1, priceFactor: 1 },
    { id: 'eu-central-1', name: 'Germany (Frankfurt)', country: 'DE', continent: 'EU', lat: 50.1, lon: 8.7, priceFactor: 1.05 },
  ],
  sizes: [
    { name: 'ecs.t6-c1m1.large', vcpu: 2, memoryGiB: 2, arch: 'x86_64', usdPerHour: 0.03 },
    { name: 'ecs.g7.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.1 },
  ],
};
