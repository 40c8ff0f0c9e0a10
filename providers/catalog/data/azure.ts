import type { CloudCatalogData } from './types';

/**
 * Azure regions (public cloud, Azure China and Azure Government) and VM pay-as-you-go Linux list prices.
 *
 * Sizes: East US pay-as-you-go Linux USD/hour from the public VM price list; within a series the
 * price is linear in vCPU, as Azure lists it.
 *
 * `priceFactor`: approximate ratio of the region's Standard_D2s_v5 Linux pay-as-you-go price to
 * East US's ($0.096), rounded to two decimals, and applied to every size. Access-restricted
 * regions (for example germanynorth, switzerlandwest) list noticeably higher prices. Azure China
 * (operated by 21Vianet) lists prices in CNY; those factors convert at about 7.1 CNY/USD. Rows
 * marked `est.` are regions without a reliable published figure at `pricesAsOf`; their factor is
 * that of the nearest comparable region. China North and China East (the first generation) retired
 * in 2026 and are left out.
 *
 * Coordinates are those of the metro area Microsoft names for the region.
 *
 * Sovereign clouds: the China regions are in `azure-china` and the US Government regions in
 * `azure-us-gov`; each needs a subscription of that cloud. Regions marked `restricted` are
 * Microsoft's access-restricted regions (in-country disaster recovery): a subscription deploys
 * there only after its region access request is granted.
 */
export const AZURE_CATALOG: CloudCatalogData = {
  cloud: 'azure',
  referenceRegion: 'eastus',
  pricesAsOf: '2026-11-01',
  regions: [
    // North America
    { id: 'eastus', name: 'East US', country: 'US', continent: 'NA', lat: 37.37, lon: -79.82, priceFactor: 1 },
    { id: 'eastus2', name: 'East US 2', country: 'US', continent: 'NA', lat: 36.67, lon: -78.39, priceFactor: 1 },
    { id: 'centralus', name: 'Central US', country: 'US', continent: 'NA', lat: 41.59, lon: -93.62, priceFactor: 1.11 },
    { id: 'northcentralus', name: 'North Central US', country: 'US', continent: 'NA', lat: 41.88, lon: -87.63, priceFactor: 1.11 },
    { id: 'southcentralus', name: 'South Central US', country: 'US', continent: 'NA', lat: 29.42, lon: -98.49, priceFactor: 1.13 },
    { id: 'westcentralus', name: 'West Central US', country: 'US', continent: 'NA', lat: 41.14, lon: -104.82, priceFactor: 1.13 },
    { id: 'westus', name: 'West US', country: 'US', continent: 'NA', lat: 37.78, lon: -122.42, priceFactor: 1.17 },
    { id: 'westus2', name: 'West US 2', country: 'US', continent: 'NA', lat: 47.23, lon: -119.85, priceFactor: 1 },
    { id: 'westus3', name: 'West US 3', country: 'US', continent: 'NA', lat: 33.45, lon: -112.07, priceFactor: 1 },
    { id: 'canadacentral', name: 'Canada Central', country: 'CA', continent: 'NA', lat: 43.65, lon: -79.38, priceFactor: 1.1 },
    { id: 'canadaeast', name: 'Canada East', country: 'CA', continent: 'NA', lat: 46.82, lon: -71.22, priceFactor: 1.1 },
    { id: 'mexicocentral', name: 'Mexico Central', country: 'MX', continent: 'NA', lat: 20.59, lon: -100.39, priceFactor: 1.2 }, // est.
    // South America
    { id: 'brazilsouth', name: 'Brazil South', country: 'BR', continent: 'SA', lat: -23.55, lon: -46.63, priceFactor: 1.54 },
    { id: 'brazilsoutheast', name: 'Brazil Southeast', country: 'BR', continent: 'SA', lat: -22.91, lon: -43.17, priceFactor: 2, access: 'restricted' },
    { id: 'chilecentral', name: 'Chile Central', country: 'CL', continent: 'SA', lat: -33.45, lon: -70.67, priceFactor: 1.3 }, // est.
    // Europe
    { id: 'northeurope', name: 'North Europe', country: 'IE', continent: 'EU', lat: 53.35, lon: -6.26, priceFactor: 1.11 },
    { id: 'westeurope', name: 'West Europe', country: 'NL', continent: 'EU', lat: 52.37, lon: 4.9, priceFactor: 1.2 },
    { id: 'uksouth', name: 'UK South', country: 'GB', continent: 'EU', lat: 51.51, lon: -0.13, priceFactor: 1.16 },
    { id: 'ukwest', name: 'UK West', country: 'GB', continent: 'EU', lat: 51.48, lon: -3.18, priceFactor: 1.2 },
    { id: 'francecentral', name: 'France Central', country: 'FR', continent: 'EU', lat: 48.86, lon: 2.35, priceFactor: 1.17 },
    { id: 'francesouth', name: 'France South', country: 'FR', continent: 'EU', lat: 43.3, lon: 5.37, priceFactor: 1.52, access: 'restricted' },
    { id: 'germanywestcentral', name: 'Germany West Central', country: 'DE', continent: 'EU', lat: 50.11, lon: 8.68, priceFactor: 1.2 },
    { id: 'germanynorth', name: 'Germany North', country: 'DE', continent: 'EU', lat: 53.07, lon: 8.81, priceFactor: 1.56, access: 'restricted' },
    { id: 'switzerlandnorth', name: 'Switzerland North', country: 'CH', continent: 'EU', lat: 47.37, lon: 8.54, priceFactor: 1.3 },
    { id: 'switzerlandwest', name: 'Switzerland West', country: 'CH', continent: 'EU', lat: 46.2, lon: 6.14, priceFactor: 1.69, access: 'restricted' },
    { id: 'norwayeast', name: 'Norway East', country: 'NO', continent: 'EU', lat: 59.91, lon: 10.75, priceFactor: 1.25 },
    { id: 'norwaywest', name: 'Norway West', country: 'NO', continent: 'EU', lat: 58.97, lon: 5.73, priceFactor: 1.63, access: 'restricted' },
    { id: 'swedencentral', name: 'Sweden Central', country: 'SE', continent: 'EU', lat: 60.67, lon: 17.14, priceFactor: 1.1 },
    { id: 'swedensouth', name: 'Sweden South', country: 'SE', continent: 'EU', lat: 55.6, lon: 13.0, priceFactor: 1.43, access: 'restricted' },
    { id: 'polandcentral', name: 'Poland Central', country: 'PL', continent: 'EU', lat: 52.23, lon: 21.01, priceFactor: 1.2 },
    { id: 'italynorth', name: 'Italy North', country: 'IT', continent: 'EU', lat: 45.46, lon: 9.19, priceFactor: 1.2 },
    { id: 'spaincentral', name: 'Spain Central', country: 'ES', continent: 'EU', lat: 40.42, lon: -3.7, priceFactor: 1.15 },
    { id: 'belgiumcentral', name: 'Belgium Central', country: 'BE', continent: 'EU', lat: 50.85, lon: 4.35, priceFactor: 1.2 }, // est.
    { id: 'austriaeast', name: 'Austria East', country: 'AT', continent: 'EU', lat: 48.21, lon: 16.37, priceFactor: 1.2 }, // est.
    { id: 'denmarkeast', name: 'Denmark East', country: 'DK', continent: 'EU', lat: 55.68, lon: 12.57, priceFactor: 1.25 }, // est.
    // Middle East (Asia) and Africa
    { id: 'uaenorth', name: 'UAE North', country: 'AE', continent: 'AS', lat: 25.2, lon: 55.27, priceFactor: 1.2 },
    { id: 'uaecentral', name: 'UAE Central', country: 'AE', continent: 'AS', lat: 24.45, lon: 54.38, priceFactor: 1.56, access: 'restricted' },
    { id: 'qatarcentral', name: 'Qatar Central', country: 'QA', continent: 'AS', lat: 25.29, lon: 51.53, priceFactor: 1.2 },
    { id: 'israelcentral', name: 'Israel Central', country: 'IL', continent: 'AS', lat: 32.09, lon: 34.78, priceFactor: 1.2 },
    { id: 'southafricanorth', name: 'South Africa North', country: 'ZA', continent: 'AF', lat: -26.2, lon: 28.05, priceFactor: 1.2 },
    { id: 'southafricawest', name: 'South Africa West', country: 'ZA', continent: 'AF', lat: -33.92, lon: 18.42, priceFactor: 1.5, access: 'restricted' },
    // Asia Pacific
    { id: 'eastasia', name: 'East Asia', country: 'HK', continent: 'AS', lat: 22.27, lon: 114.19, priceFactor: 1.35 },
    { id: 'southeastasia', name: 'Southeast Asia', country: 'SG', continent: 'AS', lat: 1.28, lon: 103.83, priceFactor: 1.2 },
    { id: 'japaneast', name: 'Japan East', country: 'JP', continent: 'AS', lat: 35.68, lon: 139.77, priceFactor: 1.3 },
    { id: 'japanwest', name: 'Japan West', country: 'JP', continent: 'AS', lat: 34.69, lon: 135.5, priceFactor: 1.3 },
    { id: 'koreacentral', name: 'Korea Central', country: 'KR', continent: 'AS', lat: 37.57, lon: 126.98, priceFactor: 1.2 },
    { id: 'koreasouth', name: 'Korea South', country: 'KR', continent: 'AS', lat: 35.18, lon: 129.08, priceFactor: 1.1 },
    { id: 'centralindia', name: 'Central India', country: 'IN', continent: 'AS', lat: 18.52, lon: 73.86, priceFactor: 1.05 },
    { id: 'southindia', name: 'South India', country: 'IN', continent: 'AS', lat: 13.08, lon: 80.27, priceFactor: 1.1 },
    { id: 'westindia', name: 'West India', country: 'IN', continent: 'AS', lat: 19.08, lon: 72.87, priceFactor: 1.15, access: 'restricted' },
    { id: 'jioindiawest', name: 'Jio India West', country: 'IN', continent: 'AS', lat: 22.47, lon: 70.06, priceFactor: 1.05, access: 'restricted' },
    { id: 'jioindiacentral', name: 'Jio India Central', country: 'IN', continent: 'AS', lat: 21.15, lon: 79.09, priceFactor: 1.05, access: 'restricted' },
    { id: 'indonesiacentral', name: 'Indonesia Central', country: 'ID', continent: 'AS', lat: -6.21, lon: 106.85, priceFactor: 1.2 }, // est.
    { id: 'malaysiawest', name: 'Malaysia West', country: 'MY', continent: 'AS', lat: 3.14, lon: 101.69, priceFactor: 1.15 }, // est.
    { id: 'chinanorth2', name: 'China North 2', country: 'CN', continent: 'AS', lat: 39.9, lon: 116.4, priceFactor: 1.1, partition: 'azure-china' }, // est.
    { id: 'chinanorth3', name: 'China North 3', country: 'CN', continent: 'AS', lat: 40.77, lon: 114.88, priceFactor: 1.1, partition: 'azure-china' }, // est.
    { id: 'chinaeast2', name: 'China East 2', country: 'CN', continent: 'AS', lat: 31.23, lon: 121.47, priceFactor: 1.1, partition: 'azure-china' }, // est.
    { id: 'chinaeast3', name: 'China East 3', country: 'CN', continent: 'AS', lat: 31.23, lon: 121.47, priceFactor: 1.1, partition: 'azure-china' }, // est.
    // Azure Government (US): its own sovereign cloud, reached through management.usgovcloudapi.net.
    { id: 'usgovvirginia', name: 'US Gov Virginia', country: 'US', continent: 'NA', lat: 37.37, lon: -79.82, priceFactor: 1.25, partition: 'azure-us-gov' }, // est.
    { id: 'usgovtexas', name: 'US Gov Texas', country: 'US', continent: 'NA', lat: 29.42, lon: -98.49, priceFactor: 1.25, partition: 'azure-us-gov' }, // est.
    { id: 'usgovarizona', name: 'US Gov Arizona', country: 'US', continent: 'NA', lat: 33.45, lon: -112.07, priceFactor: 1.25, partition: 'azure-us-gov' }, // est.
    // Oceania
    { id: 'australiaeast', name: 'Australia East', country: 'AU', continent: 'OC', lat: -33.86, lon: 151.21, priceFactor: 1.25 },
    { id: 'australiasoutheast', name: 'Australia Southeast', country: 'AU', continent: 'OC', lat: -37.81, lon: 144.96, priceFactor: 1.25 },
    { id: 'australiacentral', name: 'Australia Central', country: 'AU', continent: 'OC', lat: -35.31, lon: 149.12, priceFactor: 1.25 },
    { id: 'australiacentral2', name: 'Australia Central 2', country: 'AU', continent: 'OC', lat: -35.31, lon: 149.12, priceFactor: 1.25, access: 'restricted' },
    { id: 'newzealandnorth', name: 'New Zealand North', country: 'NZ', continent: 'OC', lat: -36.85, lon: 174.76, priceFactor: 1.3 }, // est.
  ],
  sizes: [
  // B-series v1: burstable x86.
  { name: 'Standard_B1ls', vcpu: 1, memoryGiB: 0.5, arch: 'x86_64', usdPerHour: 0.0052 },
  { name: 'Standard_B1s', vcpu: 1, memoryGiB: 1, arch: 'x86_64', usdPerHour: 0.0104 },
  { name: 'Standard_B1ms', vcpu: 1, memoryGiB: 2, arch: 'x86_64', usdPerHour: 0.0207 },
  { name: 'Standard_B2s', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usdPerHour: 0.0416 },
  { name: 'Standard_B2ms', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.0832 },
  { name: 'Standard_B4ms', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.166 },
  { name: 'Standard_B8ms', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.333 },
  { name: 'Standard_B12ms', vcpu: 12, memoryGiB: 48, arch: 'x86_64', usdPerHour: 0.499 },
  { name: 'Standard_B16ms', vcpu: 16, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.666 },
  { name: 'Standard_B20ms', vcpu: 20, memoryGiB: 80, arch: 'x86_64', usdPerHour: 0.832 },
  // Dsv5: general purpose, Intel, 4 GiB per vCPU.
  { name: 'Standard_D2s_v5', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.096 },
  { name: 'Standard_D4s_v5', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.192 },
  { name: 'Standard_D8s_v5', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.384 },
  { name: 'Standard_D16s_v5', vcpu: 16, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.768 },
  { name: 'Standard_D32s_v5', vcpu: 32, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.536 },
  { name: 'Standard_D48s_v5', vcpu: 48, memoryGiB: 192, arch: 'x86_64', usdPerHour: 2.304 },
  { name: 'Standard_D64s_v5', vcpu: 64, memoryGiB: 256, arch: 'x86_64', usdPerHour: 3.072 },
  { name: 'Standard_D96s_v5', vcpu: 96, memoryGiB: 384, arch: 'x86_64', usdPerHour: 4.608 },
  // Dasv5: general purpose, AMD EPYC Milan, 4 GiB per vCPU.
  { name: 'Standard_D2as_v5', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.086 },
  { name: 'Standard_D4as_v5', vcpu: 4, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.172 },
  { name: 'Standard_D8as_v5', vcpu: 8, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.344 },
  { name: 'Standard_D16as_v5', vcpu: 16, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.688 },
  { name: 'Standard_D32as_v5', vcpu: 32, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.376 },
  // Dpsv5: general purpose, Ampere Altra (arm64).
  { name: 'Standard_D2ps_v5', vcpu: 2, memoryGiB: 8, arch: 'arm64', usdPerHour: 0.077 },
  { name: 'Standard_D4ps_v5', vcpu: 4, memoryGiB: 16, arch: 'arm64', usdPerHour: 0.154 },
  { name: 'Standard_D8ps_v5', vcpu: 8, memoryGiB: 32, arch: 'arm64', usdPerHour: 0.308 },
  { name: 'Standard_D16ps_v5', vcpu: 16, memoryGiB: 64, arch: 'arm64', usdPerHour: 0.616 },
  { name: 'Standard_D32ps_v5', vcpu: 32, memoryGiB: 128, arch: 'arm64', usdPerHour: 1.232 },
  { name: 'Standard_D48ps_v5', vcpu: 48, memoryGiB: 192, arch: 'arm64', usdPerHour: 1.848 },
  { name: 'Standard_D64ps_v5', vcpu: 64, memoryGiB: 256, arch: 'arm64', usdPerHour: 2.464 },
  // Fsv2: compute optimized, Intel, 2 GiB per vCPU.
  { name: 'Standard_F2s_v2', vcpu: 2, memoryGiB: 4, arch: 'x86_64', usdPerHour: 0.0846 },
  { name: 'Standard_F4s_v2', vcpu: 4, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.1692 },
  { name: 'Standard_F8s_v2', vcpu: 8, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.3384 },
  { name: 'Standard_F16s_v2', vcpu: 16, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.6768 },
  { name: 'Standard_F32s_v2', vcpu: 32, memoryGiB: 64, arch: 'x86_64', usdPerHour: 1.3536 },
  { name: 'Standard_F48s_v2', vcpu: 48, memoryGiB: 96, arch: 'x86_64', usdPerHour: 2.0304 },
  { name: 'Standard_F64s_v2', vcpu: 64, memoryGiB: 128, arch: 'x86_64', usdPerHour: 2.7072 },
  { name: 'Standard_F72s_v2', vcpu: 72, memoryGiB: 144, arch: 'x86_64', usdPerHour: 3.0456 },
  // Esv5: memory optimized, Intel, 8 GiB per vCPU (E64s/E96s are capped at 512/672 GiB).
  { name: 'Standard_E2s_v5', vcpu: 2, memoryGiB: 16, arch: 'x86_64', usdPerHour: 0.126 },
  { name: 'Standard_E4s_v5', vcpu: 4, memoryGiB: 32, arch: 'x86_64', usdPerHour: 0.252 },
  { name: 'Standard_E8s_v5', vcpu: 8, memoryGiB: 64, arch: 'x86_64', usdPerHour: 0.504 },
  { name: 'Standard_E16s_v5', vcpu: 16, memoryGiB: 128, arch: 'x86_64', usdPerHour: 1.008 },
  { name: 'Standard_E20s_v5', vcpu: 20, memoryGiB: 160, arch: 'x86_64', usdPerHour: 1.26 },
  { name: 'Standard_E32s_v5', vcpu: 32, memoryGiB: 256, arch: 'x86_64', usdPerHour: 2.016 },
  { name: 'Standard_E48s_v5', vcpu: 48, memoryGiB: 384, arch: 'x86_64', usdPerHour: 3.024 },
  { name: 'Standard_E64s_v5', vcpu: 64, memoryGiB: 512, arch: 'x86_64', usdPerHour: 4.032 },
  { name: 'Standard_E96s_v5', vcpu: 96, memoryGiB: 672, arch: 'x86_64', usdPerHour: 6.048 },
  ],
};
