import { normalizeLocation } from './arm';
import type { AzureVmRecord } from './resources';

/** Azure's documented tag limits (Azure Resource Manager, "Use tags to organize your Azure resources"). */
const MAX_TAGS = 50;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;
/** VM names: 1 to 64 characters for Linux; letters, digits, `-`, `_`, `.`; no trailing `.` or `-`. */
const VM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9_]$/;

/** A JSON object as parsed from a request body. */
export type JsonObject = Record<string, unknown>;

/** Why ARM refuses a request: status, ARM error code, message and the offending property. */
export interface ArmRefusal {
  readonly refusal: true;
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

/** The outer shape of a VM PUT: a JSON object with a location. */
export interface VmEnvelope {
  readonly refusal?: false;
  readonly body: JsonObject;
  /** Normalized: `East US` is `eastus`. */
  readonly location: string;
}

/** A checked VM PUT: what the emulator stores. */
export interface VmPut {
  readonly refusal?: false;
  readonly vmSize: string;
  readonly tags: Record<string, string>;
  readonly zones: readonly string[];
  /** Normalized image reference, to refuse an image change on a later PUT. */
  readonly imageKey: string;
  /** The request's `properties` without secrets. */
  readonly properties: JsonObject;
  readonly nic: AzureVmRecord['nic'];
}

/** True for a JSON object (not an array or null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function refuse(status: number, code: string, message: string, target?: string): ArmRefusal {
  return { refusal: true, status, code, message, target };
}

/** ARM does not return secrets: the admin password, custom data and user data are dropped. */
function withoutSecrets(props: JsonObject): JsonObject {
  const out: JsonObject = { ...props };
  delete out.userData;
  if (isObject(out.osProfile)) {
    const os = { ...out.osProfile };
    delete os.adminPassword;
    delete os.customData;
    out.osProfile = os;
  }
  return out;
}

function imageKeyOf(ref: JsonObject): string {
  if (typeof ref.id === 'string') return ref.id.toLowerCase();
  return ['publisher', 'offer', 'sku', 'version'].map((k) => String(ref[k] ?? '').toLowerCase()).join(':');
}

/** Parses the body and checks the name and location, which the fault gate needs first. */
export function parseVmEnvelope(name: string, raw: Buffer): VmEnvelope | ArmRefusal {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8') || 'null');
  } catch {
    return refuse(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
  if (!isObject(body)) return refuse(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: expected a JSON object.');
  if (!VM_NAME.test(name)) {
    return refuse(400, 'InvalidResourceName', `The resource name '${name}' is invalid. It must be 1 to 64 letters, digits, '_', '.' or '-', and must not end with '.' or '-'.`);
  }
  if (typeof body.location !== 'string' || body.location.trim() === '') return refuse(400, 'LocationRequired', 'The location property is required for this definition.');
  return { body, location: normalizeLocation(body.location) };
}

function parseTags(raw: unknown): Record<string, string> | ArmRefusal {
  const tags: Record<string, string> = {};
  if (raw === undefined) return tags;
  if (!isObject(raw)) return refuse(400, 'InvalidTag', 'Tags must be an object of string values.');
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') return refuse(400, 'InvalidTag', `The value of tag '${k}' must be a string.`);
    if (k.length === 0 || k.length > MAX_TAG_NAME || /[<>%&\\?/]/.test(k)) {
      return refuse(400, 'InvalidTagNameCharacters', `The tag name '${k}' is invalid: 1 to ${MAX_TAG_NAME} characters, none of '<>%&\\?/'.`);
    }
    if (v.length > MAX_TAG_VALUE) return refuse(400, 'InvalidTag', `The value of tag '${k}' exceeds ${MAX_TAG_VALUE} characters.`);
    tags[k] = v;
  }
  const count = Object.keys(tags).length;
  return count > MAX_TAGS ? refuse(400, 'InvalidTag', `A resource can have at most ${MAX_TAGS} tags; the request has ${count}.`) : tags;
}

/**
 * Checks a VM PUT's properties the way Compute does (`InvalidParameter` naming the property) and
 * works out the NIC and public IP its network interface configuration makes.
 */
export function parseVmPut(name: string, body: JsonObject): VmPut | ArmRefusal {
  const props = isObject(body.properties) ? body.properties : {};
  const vmSize = isObject(props.hardwareProfile) ? props.hardwareProfile.vmSize : undefined;
  if (typeof vmSize !== 'string' || vmSize === '') return refuse(400, 'InvalidParameter', "Required parameter 'hardwareProfile.vmSize' is missing (null).", 'hardwareProfile.vmSize');
  const imageRef = isObject(props.storageProfile) && isObject(props.storageProfile.imageReference) ? props.storageProfile.imageReference : undefined;
  if (!imageRef) return refuse(400, 'InvalidParameter', "Required parameter 'storageProfile.imageReference' is missing (null).", 'imageReference');
  const network = isObject(props.networkProfile) ? props.networkProfile : undefined;
  const nicConfigs = network && Array.isArray(network.networkInterfaceConfigurations) ? network.networkInterfaceConfigurations.filter(isObject) : [];
  const nicRefs = network && Array.isArray(network.networkInterfaces) ? network.networkInterfaces.filter(isObject) : [];
  if (nicConfigs.length === 0 && nicRefs.length === 0) return refuse(400, 'InvalidParameter', "Required parameter 'networkProfile' is missing (null).", 'networkProfile');
  if (nicConfigs.length > 0 && typeof network?.networkApiVersion !== 'string') {
    return refuse(400, 'InvalidParameter', "Parameter 'networkProfile.networkApiVersion' is required when 'networkInterfaceConfigurations' are given.", 'networkApiVersion');
  }
  const tags = parseTags(body.tags);
  if ('refusal' in tags && tags.refusal === true) return tags as ArmRefusal;

  const primary = nicConfigs.find((c) => isObject(c.properties) && c.properties.primary === true) ?? nicConfigs[0];
  const primaryProps = primary && isObject(primary.properties) ? primary.properties : {};
  const ipConfig = Array.isArray(primaryProps.ipConfigurations) ? primaryProps.ipConfigurations.find(isObject) : undefined;
  const ipProps = ipConfig && isObject(ipConfig.properties) ? ipConfig.properties : {};
  const pipConfig = isObject(ipProps.publicIPAddressConfiguration) ? ipProps.publicIPAddressConfiguration : undefined;
  const nicRefName = typeof nicRefs[0]?.id === 'string' ? nicRefs[0].id.split('/').pop() : undefined;
  return {
    vmSize,
    tags: tags as Record<string, string>,
    zones: Array.isArray(body.zones) ? body.zones.filter((z): z is string => typeof z === 'string') : [],
    imageKey: imageKeyOf(imageRef),
    properties: withoutSecrets(props),
    nic: {
      name: typeof primary?.name === 'string' ? primary.name : nicRefName ?? `${name}-nic`,
      ipConfigName: typeof ipConfig?.name === 'string' ? ipConfig.name : 'ipconfig1',
      subnetId: isObject(ipProps.subnet) && typeof ipProps.subnet.id === 'string' ? ipProps.subnet.id : undefined,
      publicIpName: pipConfig && typeof pipConfig.name === 'string' ? pipConfig.name : undefined,
    },
  };
}
