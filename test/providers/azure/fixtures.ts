import 'reflect-metadata';
import type { CloudProvider, InstanceSpec, ResilienceOptions } from '../../../providers';
import { createProviderContainer, providerFor } from '../../../providers/drivers';
import type { AzureProvider, AzureDriverSettings } from '../../../providers/azure/provider';
import { AzureEmulator, type AzureEmulatorOptions } from '../../../providers/emulator/azure';
import { EmulatorAdmin, TEST_CREDENTIALS, type CallStats } from '../../../providers/emulator/core';

/** Small delays so retries and breakers play out in milliseconds. */
export const TEST_RESILIENCE: ResilienceOptions = {
  retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 10_000 },
  breaker: { failureThreshold: 3, coolDownMs: 300 },
  attemptTimeoutMs: 5_000,
  rateLimits: { read: { ratePerSecond: 10_000, burst: 10_000 }, write: { ratePerSecond: 10_000, burst: 10_000 } },
};

/** A running emulator with a driver pointed at it. */
export interface AzureFixture {
  readonly emu: AzureEmulator;
  readonly admin: EmulatorAdmin;
  readonly provider: CloudProvider;
  /** The same driver with its concrete type, for its `resilience` events. */
  readonly driver: AzureProvider;
  stop(): Promise<void>;
}

/** Starts an emulator on a free loopback port and builds a driver for it through the container. */
export async function startAzure(options: {
  emulator?: AzureEmulatorOptions;
  resilience?: Partial<ResilienceOptions>;
  token?: string;
} = {}): Promise<AzureFixture> {
  const emu = await new AzureEmulator({ pendingMs: 50, deleteMs: 20, ...options.emulator }).start();
  const azure: AzureDriverSettings = {
    endpoint: emu.url,
    subscriptionId: TEST_CREDENTIALS.azure.subscriptionId,
    resourceGroup: TEST_CREDENTIALS.azure.resourceGroup,
    token: options.token ?? TEST_CREDENTIALS.azure.token,
    pollIntervalMs: 10,
  };
  const container = createProviderContainer({ azure, resilience: { ...TEST_RESILIENCE, ...options.resilience } });
  const provider = providerFor(container, 'azure');
  return { emu, admin: new EmulatorAdmin(emu.url), provider, driver: provider as AzureProvider, stop: () => emu.stop() };
}

/** A valid spec in eastus; override what a test needs. */
export function spec(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    workload: 'web', cloud: 'azure', region: 'eastus', size: 'Standard_B1s',
    image: 'Canonical:ubuntu-24_04-lts:server:latest', tags: { team: 'edge' }, idempotencyKey: 'web-0', ...overrides,
  };
}

/** Number of API calls the emulator saw (every operation and outcome). */
export function totalCalls(stats: CallStats): number {
  return Object.values(stats).reduce((sum, row) => sum + Object.values(row).reduce((a, b) => a + b, 0), 0);
}

/** Calls of one operation with one outcome. */
export function calls(stats: CallStats, operation: string, outcome = 'ok'): number {
  return stats[operation]?.[outcome] ?? 0;
}

/** The ARM path of a VM in the test subscription and resource group. */
export function vmPath(name: string): string {
  const { subscriptionId, resourceGroup } = TEST_CREDENTIALS.azure;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;
}

/** A minimal VM body as ARM takes it on the wire (nested `properties`), with a NIC and public IP named after the VM. */
export function vmBody(name: string, location: string, options: { size?: string; tags?: Record<string, string>; zones?: string[]; image?: Record<string, string> } = {}): Record<string, unknown> {
  return {
    location,
    ...(options.tags ? { tags: options.tags } : {}),
    ...(options.zones ? { zones: options.zones } : {}),
    properties: {
      hardwareProfile: { vmSize: options.size ?? 'Standard_B1s' },
      storageProfile: { imageReference: options.image ?? { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
      networkProfile: {
        networkApiVersion: '2020-11-01',
        networkInterfaceConfigurations: [{
          name: `${name}-nic`,
          properties: { primary: true, ipConfigurations: [{ name: 'ipconfig1', properties: { publicIPAddressConfiguration: { name: `${name}-pip`, properties: {} } } }] },
        }],
      },
    },
  };
}

/** One raw ARM call with the test token (or `token`), for seeding and for wire-level tests. */
export async function arm(baseUrl: string, method: string, pathOrUrl: string, body?: unknown, token: string | null = TEST_CREDENTIALS.azure.token): Promise<Response> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${baseUrl}${pathOrUrl}${pathOrUrl.includes('?') ? '&' : '?'}api-version=2026-03-01`;
  return fetch(url, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
