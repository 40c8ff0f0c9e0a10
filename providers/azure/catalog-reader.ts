import { createDefaultHttpClient, createPipelineRequest } from '@azure/core-rest-pipeline';
import { catalogData } from '../catalog';
import type { CloudReading, ReadRegion, ReadType } from '../catalog/refresh';
import type { AzureDriverConfig } from '../config';
import { CloudError } from '../errors';
import { Resilience, type ResilienceOptions } from '../resilience';
import { classifyAzureError } from './classify';
import { ARM_ENDPOINT, createAzureClients } from './clients';

/** Subscriptions API version of `GET /subscriptions/{id}/locations`. */
const LOCATIONS_API_VERSION = '2022-12-01';

interface ArmLocation { name?: string; metadata?: { regionType?: string } }

/**
 * Reads the subscription's locations (`GET /subscriptions/{id}/locations`: no Subscriptions SDK is
 * installed, so the call goes through the compute client's own pipeline and credential) and the
 * virtual machine sizes with where each is offered (`ResourceSkus.list`, `@azure/arm-compute`).
 * A location whose SKU entry carries a `Location` restriction does not count as offering it.
 * Read-only: a rejection (a `CloudError`) leaves nothing behind.
 */
export async function readAzureCatalog(config: AzureDriverConfig, resilience?: Partial<ResilienceOptions>): Promise<CloudReading> {
  const res = new Resilience('azure', classifyAzureError, resilience);
  const { compute } = createAzureClients(config);
  const home = catalogData('azure').referenceRegion;
  const endpoint = (config.endpoint ?? ARM_ENDPOINT).replace(/\/+$/, '');
  const locations = await res.call({ region: home, apiClass: 'read', operation: 'subscriptions.listLocations' }, async (signal) => {
    const url = `${endpoint}/subscriptions/${encodeURIComponent(config.subscriptionId)}/locations?api-version=${LOCATIONS_API_VERSION}`;
    const response = await compute.pipeline.sendRequest(createDefaultHttpClient(), createPipelineRequest({ url, method: 'GET', abortSignal: signal, allowInsecureConnection: endpoint.startsWith('http://') }));
    if (response.status !== 200) {
      const body = JSON.parse(response.bodyAsText ?? '{}') as { error?: { code?: string; message?: string } };
      throw new CloudError(`azure subscriptions.listLocations failed with HTTP ${response.status}: ${body.error?.message ?? ''}`,
        { kind: response.status === 401 || response.status === 403 ? 'auth' : response.status >= 500 || response.status === 429 ? 'unavailable' : 'invalid',
          cloud: 'azure', region: home, code: body.error?.code ?? `HTTP${response.status}`, requestId: response.headers.get('x-ms-request-id') });
    }
    return (JSON.parse(response.bodyAsText ?? '{}') as { value?: ArmLocation[] }).value ?? [];
  });
  // Logical locations (geographies such as `europe`) are not places to run VMs.
  const regions: ReadRegion[] = locations.flatMap((l) => l.name && l.metadata?.regionType !== 'Logical' ? [{ id: l.name, usable: true }] : []);
  const types = new Map<string, ReadType>();
  const offerings = new Map<string, Set<string>>(regions.map((r) => [r.id, new Set<string>()]));
  await res.call({ region: home, apiClass: 'read', operation: 'resourceSkus.list' }, async () => {
    for await (const sku of compute.resourceSkus.list()) {
      if (sku.resourceType !== 'virtualMachines' || !sku.name) continue;
      const cap = (n: string) => sku.capabilities?.find((c) => c.name === n)?.value;
      const vcpu = Number(cap('vCPUs'));
      const memoryGiB = Number(cap('MemoryGB'));
      const arch = cap('CpuArchitectureType') === 'Arm64' ? 'arm64' as const : 'x86_64' as const;
      if (!(vcpu > 0 && memoryGiB > 0)) continue;
      types.set(sku.name, { name: sku.name, vcpu, memoryGiB, arch });
      const restricted = new Set((sku.restrictions ?? []).filter((r) => r.type === 'Location').flatMap((r) => r.values ?? []).map((v) => v.toLowerCase()));
      for (const loc of sku.locations ?? []) {
        const id = loc.replace(/\s+/g, '').toLowerCase();
        if (!restricted.has(id)) offerings.get(id)?.add(sku.name);
      }
    }
  });
  return { cloud: 'azure', readAt: new Date().toISOString(), regions, types: [...types.values()], offerings };
}
