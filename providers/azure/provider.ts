import type { VirtualMachine } from '@azure/arm-compute';
import { getContinuationToken } from '@azure/arm-network';
import { inject, injectable } from 'inversify';
import { findRegion, findSize, tryFindRegion } from '../catalog';
import type { AzureDriverConfig, ProvidersConfig } from '../config';
import { CloudError, isCloudError } from '../errors';
import { Resilience, type ApiClass } from '../resilience';
import { PROVIDERS_CONFIG } from '../tokens';
import { MERIDIAN_TAGS, type CloudProvider, type Instance, type InstanceSpec, type ProviderCapabilities } from '../types';
import { classifyAzureError } from './classify';
import { createAzureClients, type AzureClients } from './clients';
import {
  AZURE_TAG_LIMITS, normalizeLocation, parseImage, parseResourceId, specDifferences, subnetIdFor, tagProblems, tagValueFor,
  toInstance, vmFor, vmNameFor, type VmAddresses,
} from './mapping';

/** Azure settings the driver reads beyond `AzureDriverConfig` when they are present. */
export interface AzureDriverSettings extends AzureDriverConfig {
  /**
   * Milliseconds between polls of a long-running operation. Default: 100 over plain http (the
   * emulator), otherwise the SDK's own interval, which honours the operation's Retry-After.
   */
  readonly pollIntervalMs?: number;
}

/** VM names the driver accepts as ids: Azure's 1 to 64 characters. */
const VM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9_]$/;
/** Over plain http the emulator finishes operations in milliseconds; poll it often. */
const EMULATOR_POLL_MS = 100;

/** Addresses of every NIC and public IP of the resource group, for joining onto listed VMs. */
interface NetworkIndex {
  addressesOf(vm: VirtualMachine): VmAddresses;
}

/**
 * The Azure driver over `@azure/arm-compute` (VMs) and `@azure/arm-network` (their addresses).
 *
 * - Idempotency: the VM name is derived from `spec.idempotencyKey` (`mer-` + 24 hex digits of its
 *   SHA-256), and Azure's PUT on a name is idempotent. A create that fails after ARM accepted it
 *   may leave the VM being built: retry with the same key and the same VM is returned.
 * - Instance ids are VM names in the configured resource group.
 * - Network: each VM makes its own NIC and public IP from `networkInterfaceConfigurations` (deleted
 *   with the VM), attached to subnet `default` of virtual network `meridian-<region>` in the
 *   resource group. ARM's VM resource carries no addresses, so they are read the way ARM offers:
 *   `GET` of the NIC the VM lists and of that NIC's public IP (`@azure/arm-network`); a list joins
 *   one paged list of the group's NICs and public IPs instead of two reads per VM.
 * - Every call goes through one `Resilience` (SDK retries are off).
 */
@injectable()
export class AzureProvider implements CloudProvider {
  readonly cloud = 'azure' as const;
  readonly capabilities: ProviderCapabilities = Object.freeze({ spot: true, maxTags: AZURE_TAG_LIMITS.maxTags, maxPageSize: 100 });
  /** Retries, rate limits and breakers for every call this driver makes. */
  readonly resilience: Resilience;
  private clients?: AzureClients;

  constructor(@inject(PROVIDERS_CONFIG) readonly config: ProvidersConfig) {
    this.resilience = new Resilience('azure', classifyAzureError, config.resilience);
  }

  /** Creates the VM for `spec.idempotencyKey`, or returns it when it already exists with the same region, size and image. */
  async createInstance(spec: InstanceSpec): Promise<Instance> {
    const image = this.validate(spec);
    const settings = this.settings(spec.region);
    const { compute } = this.sdk(spec.region);
    const name = vmNameFor(spec.idempotencyKey);
    // A read first: ARM reads are budgeted ten times more generously than writes, and it lets us
    // refuse a reused key instead of silently updating the VM the key made.
    const existing = await this.readVm(spec.region, name);
    if (existing && (existing.provisioningState ?? '').toLowerCase() !== 'failed') {
      const diffs = specDifferences(existing, spec, image);
      if (diffs.length > 0) {
        throw new CloudError(
          `azure VM ${name} for idempotency key '${spec.idempotencyKey}' already exists with a different ${diffs.join(', ')}; use a new key`,
          { kind: 'invalid', cloud: this.cloud, region: spec.region, code: 'IdempotencyKeyReused' });
      }
      return this.withAddresses(spec.region, existing);
    }
    const body = vmFor(spec, name, image, subnetIdFor(settings.subscriptionId, settings.resourceGroup, spec.region));
    // One attempt is the PUT and its polling: a poll that fails (a 429 included) fails the SDK's
    // poller for good, and a repeated PUT of the same name is idempotent, so a retry starts over.
    const created = await this.call(spec.region, 'write', 'virtualMachines.createOrUpdate', async (signal) => {
      const poller = await compute.virtualMachines.beginCreateOrUpdate(settings.resourceGroup, name, body,
        { abortSignal: signal, updateIntervalInMs: this.pollMs(spec.region) });
      return poller.pollUntilDone({ abortSignal: signal });
    });
    // The PUT's answer has no instance view; read the VM back for its power state and addresses.
    return this.withAddresses(spec.region, (await this.readVm(spec.region, name)) ?? created);
  }

  /** The VM with its power state and addresses, or undefined when it does not exist (in this region). */
  async getInstance(region: string, id: string): Promise<Instance | undefined> {
    findRegion(this.cloud, region);
    const name = this.nameOf(region, id);
    const vm = await this.readVm(region, name);
    if (!vm || normalizeLocation(vm.location) !== region) return undefined;
    return this.withAddresses(region, vm);
  }

  /**
   * Every VM of the resource group in `region` carrying all `tags`, page by page (`nextLink`).
   * The list is the location's (`locations/{region}/virtualMachines`), not the resource group's:
   * a group's list spans regions and succeeds while the region is down, so it would report a
   * region in an outage as answering. ARM's VM list has no tag or group filter, so both are
   * matched here. States come from provisioning state (a list carries no instance view): a
   * provisioned VM is reported running.
   */
  async *listInstances(region: string, tags: Readonly<Record<string, string>> = {}): AsyncIterable<Instance> {
    findRegion(this.cloud, region);
    const settings = this.settings(region);
    const { compute } = this.sdk(region);
    // The key tag holds a hashed form of long keys; match what was written.
    const wanted = Object.entries(tags).map(([k, v]) => [k, k === MERIDIAN_TAGS.key ? tagValueFor(v) : v] as const);
    const group = settings.resourceGroup.toLowerCase();
    const inGroup = (vm: VirtualMachine) => parseResourceId(vm.id)?.resourceGroup.toLowerCase() === group;
    let network: NetworkIndex | undefined;
    let link: string | undefined;
    do {
      const from = link;
      const page = await this.call(region, 'read', 'virtualMachines.listByLocation', async (signal) => {
        const pages = compute.virtualMachines.listByLocation(region, { abortSignal: signal })
          .byPage(from === undefined ? undefined : { continuationToken: from });
        const next = await pages.next();
        return next.done ? { vms: [] as VirtualMachine[], next: undefined } : { vms: [...next.value], next: next.value.continuationToken };
      });
      link = page.next;
      const matches = page.vms.filter((vm) => normalizeLocation(vm.location) === region && inGroup(vm)
        && wanted.every(([k, v]) => vm.tags?.[k] === v));
      if (matches.length > 0) network ??= await this.networkIndex(region);
      for (const vm of matches) yield toInstance(vm, network?.addressesOf(vm));
    } while (link);
  }

  /** Deletes the VM (its NIC, public IP and OS disk go with it) and waits for ARM to finish; a missing VM is success. */
  async terminateInstance(region: string, id: string): Promise<void> {
    findRegion(this.cloud, region);
    const name = this.nameOf(region, id);
    const settings = this.settings(region);
    const { compute } = this.sdk(region);
    try {
      await this.call(region, 'write', 'virtualMachines.delete', async (signal) => {
        const poller = await compute.virtualMachines.beginDelete(settings.resourceGroup, name, { abortSignal: signal, updateIntervalInMs: this.pollMs(region) });
        await poller.pollUntilDone({ abortSignal: signal });
      });
    } catch (err) {
      if (isCloudError(err, 'not-found')) return;
      throw err;
    }
  }

  /** Checks a spec before any request; throws `invalid` listing every problem. Returns the parsed image. */
  private validate(spec: InstanceSpec): NonNullable<ReturnType<typeof parseImage>> {
    const problems: string[] = [];
    const note = (f: () => unknown) => {
      try { f(); } catch (err) { problems.push(err instanceof Error ? err.message : String(err)); }
    };
    if (spec.cloud !== this.cloud) problems.push(`cloud: expected 'azure', got '${String(spec.cloud)}'`);
    // The size can only be checked in a known region; an unknown region is reported once.
    if (tryFindRegion(this.cloud, spec.region)) note(() => findSize(this.cloud, spec.region, spec.size));
    else note(() => findRegion(this.cloud, spec.region));
    const image = typeof spec.image === 'string' ? parseImage(spec.image.trim()) : undefined;
    if (typeof spec.image !== 'string' || spec.image.trim() === '') problems.push('image: must not be empty');
    else if (!image) problems.push(`image: '${spec.image}' is neither a URN 'publisher:offer:sku:version' nor an image resource id`);
    if (typeof spec.workload !== 'string' || spec.workload.trim() === '') problems.push('workload: must not be empty');
    if (typeof spec.idempotencyKey !== 'string' || spec.idempotencyKey === '') problems.push('idempotencyKey: must not be empty');
    if (typeof spec.tags !== 'object' || spec.tags === null) problems.push('tags: must be an object of strings');
    else if (typeof spec.workload === 'string' && typeof spec.idempotencyKey === 'string') problems.push(...tagProblems(spec));
    if (problems.length > 0 || !image) {
      throw new CloudError(`invalid azure instance spec: ${problems.join('; ')}`,
        { kind: 'invalid', cloud: this.cloud, region: spec.region, code: 'InvalidSpec' });
    }
    return image;
  }

  /** The VM name of an instance id: a VM name, or a full VM resource id. */
  private nameOf(region: string, id: string): string {
    const name = id.startsWith('/') ? parseResourceId(id)?.name : id;
    if (name === undefined || !VM_NAME.test(name)) {
      throw new CloudError(`invalid azure instance id '${id}': expected a VM name or a VM resource id`,
        { kind: 'invalid', cloud: this.cloud, region, code: 'InvalidInstanceId' });
    }
    return name;
  }

  private settings(region: string): AzureDriverSettings {
    const s = this.config.azure as AzureDriverSettings | undefined;
    if (!s?.subscriptionId || !s.resourceGroup) {
      throw new CloudError('azure driver is not configured: azure.subscriptionId and azure.resourceGroup are required',
        { kind: 'invalid', cloud: this.cloud, region, code: 'MissingConfig' });
    }
    return s;
  }

  private sdk(region: string): AzureClients {
    this.clients ??= createAzureClients(this.settings(region));
    return this.clients;
  }

  private pollMs(region: string): number | undefined {
    return this.settings(region).pollIntervalMs ?? (this.sdk(region).plainHttp ? EMULATOR_POLL_MS : undefined);
  }

  private call<T>(region: string, apiClass: ApiClass, operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.resilience.call({ region, apiClass, operation }, fn);
  }

  /** The VM with its instance view, or undefined when ARM says it does not exist. */
  private async readVm(region: string, name: string): Promise<VirtualMachine | undefined> {
    const settings = this.settings(region);
    const { compute } = this.sdk(region);
    try {
      return await this.call(region, 'read', 'virtualMachines.get',
        (signal) => compute.virtualMachines.get(settings.resourceGroup, name, { expand: 'instanceView', abortSignal: signal }));
    } catch (err) {
      if (isCloudError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** Undefined when the resource is gone (a NIC deleted with its VM between two reads). */
  private async readOptional<T>(region: string, operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(region, 'read', operation, fn);
    } catch (err) {
      if (isCloudError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** The instance with private and public address, read from the VM's primary NIC and its public IP. */
  private async withAddresses(region: string, vm: VirtualMachine): Promise<Instance> {
    const { network } = this.sdk(region);
    const refs = vm.networkProfile?.networkInterfaces ?? [];
    const nicRef = parseResourceId((refs.find((r) => r.primary) ?? refs[0])?.id);
    if (!nicRef) return toInstance(vm);
    const nic = await this.readOptional(region, 'networkInterfaces.get',
      (signal) => network.networkInterfaces.get(nicRef.resourceGroup, nicRef.name, { abortSignal: signal }));
    const ipc = nic?.ipConfigurations?.find((c) => c.primary) ?? nic?.ipConfigurations?.[0];
    let publicIp = ipc?.publicIPAddress?.ipAddress;
    const pipRef = parseResourceId(ipc?.publicIPAddress?.id);
    if (publicIp === undefined && pipRef) {
      const pip = await this.readOptional(region, 'publicIPAddresses.get',
        (signal) => network.publicIPAddresses.get(pipRef.resourceGroup, pipRef.name, { abortSignal: signal }));
      publicIp = pip?.ipAddress;
    }
    return toInstance(vm, { privateIp: ipc?.privateIPAddress, publicIp });
  }

  /** Reads every NIC and public IP of the resource group once, page by page, to join onto a VM list. */
  private async networkIndex(region: string): Promise<NetworkIndex> {
    const settings = this.settings(region);
    const { network } = this.sdk(region);
    const rg = settings.resourceGroup;
    const nics = await this.allPages(region, 'networkInterfaces.list', (signal, token) =>
      network.networkInterfaces.list(rg, { abortSignal: signal }).byPage(token === undefined ? undefined : { continuationToken: token }));
    const pips = await this.allPages(region, 'publicIPAddresses.list', (signal, token) =>
      network.publicIPAddresses.list(rg, { abortSignal: signal }).byPage(token === undefined ? undefined : { continuationToken: token }));
    const nicById = new Map(nics.map((n) => [(n.id ?? '').toLowerCase(), n]));
    const pipById = new Map(pips.map((p) => [(p.id ?? '').toLowerCase(), p]));
    return {
      addressesOf(vm) {
        const refs = vm.networkProfile?.networkInterfaces ?? [];
        const nic = nicById.get(((refs.find((r) => r.primary) ?? refs[0])?.id ?? '').toLowerCase());
        const ipc = nic?.ipConfigurations?.find((c) => c.primary) ?? nic?.ipConfigurations?.[0];
        const pip = pipById.get((ipc?.publicIPAddress?.id ?? '').toLowerCase());
        return { privateIp: ipc?.privateIPAddress, publicIp: ipc?.publicIPAddress?.ipAddress ?? pip?.ipAddress };
      },
    };
  }

  /** Every item of an arm-network list, one resilient call per page (a failed page is retried from its link). */
  private async allPages<T>(region: string, operation: string,
    open: (signal: AbortSignal, token: string | undefined) => AsyncIterableIterator<T[]>): Promise<T[]> {
    const all: T[] = [];
    let token: string | undefined;
    do {
      const from = token;
      const page = await this.call(region, 'read', operation, async (signal) => {
        const next = await open(signal, from).next();
        return next.done ? { items: [] as T[], next: undefined } : { items: next.value, next: getContinuationToken(next.value) };
      });
      all.push(...page.items);
      token = page.next;
    } while (token);
    return all;
  }
}
