import { createHash } from 'node:crypto';
import type { ImageReference, VirtualMachine } from '@azure/arm-compute';
import { MERIDIAN_TAGS, type Instance, type InstanceSpec, type InstanceState } from '../types';

/** Azure tag limits: 50 tags per resource, names up to 512 and values up to 256 characters. */
export const AZURE_TAG_LIMITS = Object.freeze({ maxTags: 50, maxName: 512, maxValue: 256 });
/** Characters Azure refuses in tag names. */
const FORBIDDEN_TAG_NAME = /[<>%&\\?/]/;
/** Prefixes Azure reserves for its own tags. */
const RESERVED_TAG_PREFIXES = ['microsoft', 'azure', 'windows'];
/** Azure caps `userData` at 64 KiB once base64-encoded. */
const MAX_USER_DATA_BASE64 = 65_536;
/** The network API version that lets a VM create its own NIC and public IP from configurations. */
export const NETWORK_API_VERSION = '2020-11-01';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The VM name for an idempotency key: `mer-` and 24 hex digits of its SHA-256 (96 bits), a valid
 * name for Linux and Windows VMs alike. The same key always names the same VM, so a repeated PUT is
 * idempotent.
 */
export function vmNameFor(idempotencyKey: string): string {
  return `mer-${sha256Hex(idempotencyKey).slice(0, 24)}`;
}

/** A tag value within Azure's 256 characters: long values keep a prefix and end in their SHA-256. */
export function tagValueFor(value: string): string {
  if (value.length <= AZURE_TAG_LIMITS.maxValue) return value;
  return `${value.slice(0, AZURE_TAG_LIMITS.maxValue - 65)}~${sha256Hex(value)}`;
}

/** The tags Meridian writes on a VM: the caller's plus workload and key. */
export function tagsFor(spec: InstanceSpec): Record<string, string> {
  return { ...spec.tags, [MERIDIAN_TAGS.workload]: spec.workload, [MERIDIAN_TAGS.key]: tagValueFor(spec.idempotencyKey) };
}

/** An image from a URN (`publisher:offer:sku:version`) or an image resource id, or undefined. */
export function parseImage(image: string): ImageReference | undefined {
  if (/^\/subscriptions\//i.test(image)) return { id: image };
  const parts = image.split(':');
  if (parts.length !== 4 || parts.some((p) => p.trim() === '')) return undefined;
  const [publisher, offer, sku, version] = parts;
  return { publisher, offer, sku, version };
}

/** Every problem with a spec's tags and user data, by Azure's limits. */
export function tagProblems(spec: InstanceSpec): string[] {
  const problems: string[] = [];
  const tags = tagsFor(spec);
  const count = Object.keys(tags).length;
  if (count > AZURE_TAG_LIMITS.maxTags) {
    problems.push(`tags: Azure allows ${AZURE_TAG_LIMITS.maxTags} tags per VM and Meridian adds 2, got ${Object.keys(spec.tags).length}`);
  }
  for (const [k, v] of Object.entries(spec.tags)) {
    if (k.length === 0 || k.length > AZURE_TAG_LIMITS.maxName) problems.push(`tags: name '${k.slice(0, 40)}' must be 1 to ${AZURE_TAG_LIMITS.maxName} characters`);
    if (FORBIDDEN_TAG_NAME.test(k)) problems.push(`tags: name '${k}' contains one of < > % & \\ ? /`);
    if (RESERVED_TAG_PREFIXES.some((p) => k.toLowerCase().startsWith(p))) problems.push(`tags: name '${k}' uses a prefix Azure reserves (microsoft, azure, windows)`);
    if (typeof v !== 'string') problems.push(`tags: value of '${k}' must be a string`);
    else if (v.length > AZURE_TAG_LIMITS.maxValue) problems.push(`tags: value of '${k}' is ${v.length} characters, Azure allows ${AZURE_TAG_LIMITS.maxValue}`);
    if (k === MERIDIAN_TAGS.workload || k === MERIDIAN_TAGS.key) problems.push(`tags: '${k}' is set by Meridian and cannot be given`);
  }
  if (spec.workload.length > AZURE_TAG_LIMITS.maxValue) problems.push(`workload: name is longer than ${AZURE_TAG_LIMITS.maxValue} characters (it is stored as a tag)`);
  if (spec.userData !== undefined && Buffer.byteLength(Buffer.from(spec.userData, 'utf8').toString('base64')) > MAX_USER_DATA_BASE64) {
    problems.push(`userData: Azure allows ${MAX_USER_DATA_BASE64} bytes once base64-encoded`);
  }
  return problems;
}

/** Where a VM's NIC attaches. Convention: one virtual network `meridian-<region>` with a `default` subnet per region in the resource group. */
export function subnetIdFor(subscriptionId: string, resourceGroup: string, region: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/meridian-${region}/subnets/default`;
}

/** The VM to PUT for a spec: its NIC and public IP come from the VM's own network interface configuration. */
export function vmFor(spec: InstanceSpec, name: string, image: ImageReference, subnetId: string): VirtualMachine {
  return {
    location: spec.region,
    tags: tagsFor(spec),
    hardwareProfile: { vmSize: spec.size },
    storageProfile: {
      imageReference: image,
      osDisk: { createOption: 'FromImage', deleteOption: 'Delete', managedDisk: { storageAccountType: 'StandardSSD_LRS' } },
    },
    osProfile: { computerName: name, adminUsername: 'meridian', linuxConfiguration: { disablePasswordAuthentication: true } },
    networkProfile: {
      networkApiVersion: NETWORK_API_VERSION,
      networkInterfaceConfigurations: [{
        name: `${name}-nic`,
        primary: true,
        // The NIC and public IP live and die with the VM, so terminating leaves nothing behind.
        deleteOption: 'Delete',
        ipConfigurations: [{
          name: 'ipconfig1',
          primary: true,
          subnet: { id: subnetId },
          publicIPAddressConfiguration: {
            name: `${name}-pip`,
            deleteOption: 'Delete',
            sku: { name: 'Standard', tier: 'Regional' },
            publicIPAllocationMethod: 'Static',
          },
        }],
      }],
    },
    ...(spec.userData !== undefined ? { userData: Buffer.from(spec.userData, 'utf8').toString('base64') } : {}),
    ...(spec.spot ? { priority: 'Spot', evictionPolicy: 'Deallocate', billingProfile: { maxPrice: -1 } } : {}),
  };
}

function sameImage(a: ImageReference | undefined, b: ImageReference): boolean {
  if (!a) return false;
  if (b.id !== undefined) return a.id?.toLowerCase() === b.id.toLowerCase();
  return (['publisher', 'offer', 'sku', 'version'] as const).every((k) => (a[k] ?? '').toLowerCase() === (b[k] ?? '').toLowerCase());
}

/** ARM location names are lower case without spaces. */
export function normalizeLocation(location: string | undefined): string {
  return (location ?? '').replace(/\s+/g, '').toLowerCase();
}

/** Fields in which an existing VM differs from what a spec asks for (empty when it is the same VM). */
export function specDifferences(vm: VirtualMachine, spec: InstanceSpec, image: ImageReference): string[] {
  const diffs: string[] = [];
  if (normalizeLocation(vm.location) !== normalizeLocation(spec.region)) diffs.push(`region (${vm.location ?? '?'} vs ${spec.region})`);
  if (vm.hardwareProfile?.vmSize?.toLowerCase() !== spec.size.toLowerCase()) diffs.push(`size (${vm.hardwareProfile?.vmSize ?? '?'} vs ${spec.size})`);
  if (!sameImage(vm.storageProfile?.imageReference, image)) diffs.push('image');
  return diffs;
}

const POWER_STATES: Readonly<Record<string, InstanceState>> = {
  starting: 'pending', running: 'running', stopping: 'stopping', stopped: 'stopped', deallocating: 'stopping', deallocated: 'stopped',
};

/**
 * The normalized state. Provisioning says whether ARM is still building or deleting the VM; the
 * instance view's `PowerState/*` says what the machine does. Without an instance view (list calls)
 * a provisioned VM counts as running.
 */
export function stateOf(vm: VirtualMachine): InstanceState {
  const prov = (vm.provisioningState ?? '').toLowerCase();
  if (prov === 'creating') return 'pending';
  if (prov === 'deleting') return 'terminating';
  const power = vm.instanceView?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
  if (power !== undefined && POWER_STATES[power]) return POWER_STATES[power];
  if (prov === 'failed') return 'stopped';
  return 'running';
}

/** The addresses of a VM, read from its NIC and public IP. */
export interface VmAddresses {
  readonly privateIp?: string;
  readonly publicIp?: string;
}

/** A VM as a Meridian `Instance`; `id` is the VM name (unique in the resource group). */
export function toInstance(vm: VirtualMachine, addresses: VmAddresses = {}): Instance {
  return {
    cloud: 'azure',
    region: normalizeLocation(vm.location),
    id: vm.name ?? '',
    state: stateOf(vm),
    size: vm.hardwareProfile?.vmSize ?? '',
    ...(addresses.publicIp ? { publicIp: addresses.publicIp } : {}),
    ...(addresses.privateIp ? { privateIp: addresses.privateIp } : {}),
    tags: { ...(vm.tags ?? {}) },
    launchedAt: vm.timeCreated ? new Date(vm.timeCreated).toISOString() : '',
  };
}

/** The resource group and name of an ARM resource id (`/subscriptions/s/resourceGroups/rg/providers/P/T/name`). */
export function parseResourceId(id: string | undefined): { resourceGroup: string; name: string } | undefined {
  const m = /\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)/i.exec(id ?? '');
  return m ? { resourceGroup: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) } : undefined;
}
