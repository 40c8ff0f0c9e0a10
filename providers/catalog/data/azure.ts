import type { CloudCatalogData } from './types';

/** Azure regions and VM pay-as-you-go Linux list prices (placeholder subset; full table to follow). */
export const AZURE_CATALOG: CloudCatalogData = {
  cloud: 'azure',
  referenceRegion: 'eastus',
  pricesAsOf: '2026-11-01',
  regions: [
    { id: 'eastus', name: 'East US', country: 'US', continent: 'NA', lat: 37.37, lon: -79.82, priceFactor: 1 },
    { id: 'westeurope', name: 'West Europe', country: 'NL', continent: 'EU', lat: 52.37, lon: 4.9, priceFactor: 1.1 },
    { id: 'germanywestcentral', name: 'Germany West Central', country: 'DE', continent: 'EU', lat: 50.11, lon: 8.68, priceFactor: 1.12 },
  ],
  sizes: [
    { name: 'Standard_B1s', vcpu: 1, memoryGiB: 1, arch: 'x86_64', usdPerHour: 0.0104 },
    { name: 'Standard_D2s_v5', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.096 },
  ],
};
