import type { CloudCatalogData } from './types';

/** AWS regions and EC2 on-demand Linux list prices (placeholder subset; full table to follow). */
export const AWS_CATALOG: CloudCatalogData = {
  cloud: 'aws',
  referenceRegion: 'us-east-1',
  pricesAsOf: '2026-11-01',
  regions: [
    { id: 'us-east-1', name: 'US East (N. Virginia)', country: 'US', continent: 'NA', lat: 38.9, lon: -77.4, priceFactor: 1 },
    { id: 'eu-central-1', name: 'Europe (Frankfurt)', country: 'DE', continent: 'EU', lat: 50.1, lon: 8.7, priceFactor: 1.15 },
    { id: 'eu-west-1', name: 'Europe (Ireland)', country: 'IE', continent: 'EU', lat: 53.3, lon: -6.3, priceFactor: 1.08 },
    { id: 'ap-northeast-1', name: 'Asia Pacific (Tokyo)', country: 'JP', continent: 'AS', lat: 35.7, lon: 139.7, priceFactor: 1.29 },
  ],
  sizes: [
    { name: 't3.micro', vcpu: 2, memoryGiB: 1, arch: 'x86_64', usdPerHour: 0.0104 },
    { name: 'm6i.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.096 },
    { name: 'm6g.large', vcpu: 2, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.077 },
  ],
};
