import { createHash } from 'node:crypto';
import type { EmuInstance } from '../core';
import { resourceId } from './arm';

/** What the emulator keeps about a VM beyond the shared store's fields (in `EmuInstance.extra.azure`). */
export interface AzureVmRecord {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** The VM name as first written (ARM keeps the caller's casing). */
  readonly name: string;
  /** The request's `properties`, without secrets, echoed back on reads. */
  readonly properties: Record<string, unknown>;
  readonly zones?: readonly string[];
  readonly vmId: string;
  /** The NIC that the VM's network interface configuration made (Azure creates it with the VM). */
  readonly nic: { readonly name: string; readonly ipConfigName: string; readonly subnetId?: string; readonly publicIpName?: string };
  /** Normalized image reference, to refuse an image change on a later PUT. */
  readonly imageKey: string;
}

/** The Azure record of a stored instance. */
export function recordOf(i: EmuInstance): AzureVmRecord {
  return i.extra.azure as AzureVmRecord;
}

/** ARM's provisioning state of a VM: `Creating` until the platform has it running. */
export function provisioningState(i: EmuInstance): string {
  return i.state === 'pending' ? 'Creating' : i.state === 'terminated' ? 'Deleting' : 'Succeeded';
}

/** A stable GUID-shaped id from a string (the VM's `vmId`). */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function vmIdOf(r: AzureVmRecord): string {
  return resourceId(r.subscriptionId, r.resourceGroup, 'Microsoft.Compute', 'virtualMachines', r.name);
}

function nicIdOf(r: AzureVmRecord): string {
  return resourceId(r.subscriptionId, r.resourceGroup, 'Microsoft.Network', 'networkInterfaces', r.nic.name);
}

function pipIdOf(r: AzureVmRecord): string | undefined {
  return r.nic.publicIpName === undefined
    ? undefined
    : resourceId(r.subscriptionId, r.resourceGroup, 'Microsoft.Network', 'publicIPAddresses', r.nic.publicIpName);
}

/** The VM's instance view: provisioning and power state statuses, as `GET .../instanceView` answers. */
export function instanceViewJson(i: EmuInstance): Record<string, unknown> {
  const r = recordOf(i);
  const prov = provisioningState(i);
  const power = i.state === 'running' ? ['PowerState/running', 'VM running']
    : i.state === 'stopped' ? (i.extra.powerState === 'stopped' ? ['PowerState/stopped', 'VM stopped'] : ['PowerState/deallocated', 'VM deallocated'])
      : ['PowerState/starting', 'VM starting'];
  return {
    computerName: (r.properties.osProfile as { computerName?: string } | undefined)?.computerName ?? r.name,
    statuses: [
      { code: `ProvisioningState/${prov.toLowerCase()}`, level: 'Info', displayStatus: `Provisioning ${prov === 'Succeeded' ? 'succeeded' : prov.toLowerCase()}`, time: i.launchedAt.toISOString() },
      { code: power[0], level: 'Info', displayStatus: power[1] },
    ],
  };
}

/** The VM as ARM returns it (nested `properties` on the wire), optionally with its instance view. */
export function vmJson(i: EmuInstance, withInstanceView = false): Record<string, unknown> {
  const r = recordOf(i);
  const props = r.properties;
  const network = (props.networkProfile ?? {}) as Record<string, unknown>;
  return {
    name: r.name,
    id: vmIdOf(r),
    type: 'Microsoft.Compute/virtualMachines',
    location: i.region,
    ...(Object.keys(i.tags).length ? { tags: { ...i.tags } } : {}),
    ...(r.zones?.length ? { zones: [...r.zones] } : {}),
    properties: {
      ...props,
      vmId: r.vmId,
      hardwareProfile: { ...(props.hardwareProfile as object | undefined), vmSize: i.type },
      networkProfile: {
        ...network,
        // Azure creates the NIC from the configuration and lists it here, like a NIC the caller made.
        networkInterfaces: [{ id: nicIdOf(r), properties: { primary: true, deleteOption: 'Delete' } }],
      },
      provisioningState: provisioningState(i),
      timeCreated: i.launchedAt.toISOString(),
      ...(withInstanceView ? { instanceView: instanceViewJson(i) } : {}),
    },
  };
}

/** The VM's network interface, as `Microsoft.Network/networkInterfaces` GET answers. */
export function nicJson(i: EmuInstance): Record<string, unknown> {
  const r = recordOf(i);
  const nicId = nicIdOf(r);
  const pipId = pipIdOf(r);
  return {
    name: r.nic.name,
    id: nicId,
    type: 'Microsoft.Network/networkInterfaces',
    location: i.region,
    properties: {
      provisioningState: 'Succeeded',
      primary: true,
      virtualMachine: { id: vmIdOf(r) },
      ipConfigurations: [{
        name: r.nic.ipConfigName,
        id: `${nicId}/ipConfigurations/${r.nic.ipConfigName}`,
        properties: {
          provisioningState: 'Succeeded',
          privateIPAddress: i.privateIp,
          privateIPAllocationMethod: 'Dynamic',
          privateIPAddressVersion: 'IPv4',
          primary: true,
          ...(r.nic.subnetId ? { subnet: { id: r.nic.subnetId } } : {}),
          ...(pipId ? { publicIPAddress: { id: pipId } } : {}),
        },
      }],
    },
  };
}

/** The VM's public IP address resource, or undefined when its configuration asked for none. */
export function pipJson(i: EmuInstance): Record<string, unknown> | undefined {
  const r = recordOf(i);
  const pipId = pipIdOf(r);
  if (pipId === undefined) return undefined;
  return {
    name: r.nic.publicIpName,
    id: pipId,
    type: 'Microsoft.Network/publicIPAddresses',
    location: i.region,
    sku: { name: 'Standard', tier: 'Regional' },
    properties: {
      provisioningState: 'Succeeded',
      publicIPAddressVersion: 'IPv4',
      publicIPAllocationMethod: 'Static',
      ...(i.publicIp ? { ipAddress: i.publicIp } : {}),
      ipConfiguration: { id: `${nicIdOf(r)}/ipConfigurations/${r.nic.ipConfigName}` },
    },
  };
}
