import { CLOUD_IDS, MERIDIAN_TAGS, tryFindRegion, tryFindSize, type CloudId } from '../../providers';
import { MAX_READY_TIMEOUT_SECONDS, REPLACE_ON_CHANGE, UPDATE_IN_PLACE, type InstanceInputs } from './types';

/** One input that failed validation: the property path (`tags.team`) and why. */
export interface InputFailure {
  readonly property: string;
  readonly reason: string;
}

/** What `diffInputs` found. */
export interface InputDiff {
  readonly changes: boolean;
  /** Properties whose change replaces the instance. */
  readonly replaces: readonly string[];
  /** Properties updated in place. */
  readonly updates: readonly string[];
}

/**
 * The engine's placeholder for a value not known until apply (`pulumi preview` of a value that
 * depends on another resource's output); a check cannot judge it, so it is skipped.
 */
export const UNKNOWN_VALUE = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

const CONNECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  aws: ['endpoint', 'credentials'],
  azure: ['subscriptionId', 'resourceGroup', 'endpoint', 'token'],
  alibaba: ['endpoint', 'accessKeyId', 'accessKeySecret'],
};

// Keys Pulumi itself adds to a dynamic resource's inputs.
const ENGINE_KEYS = new Set(['__provider']);

const KNOWN_INPUTS = new Set<string>(['cloud', 'region', 'size', 'image', 'workload', 'tags', 'spot', 'userData', 'resourceUrn', 'readyTimeoutSeconds', 'connection', 'catalogFile']);

const RESERVED_TAGS = new Set<string>(Object.values(MERIDIAN_TAGS));

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUnknown = (v: unknown) => v === UNKNOWN_VALUE;
const describe = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

function checkConnection(connection: unknown, fail: (property: string, reason: string) => void): void {
  if (connection === undefined || isUnknown(connection)) return;
  if (!isRec(connection)) {
    fail('connection', `expected an object with aws, azure and/or alibaba driver settings, got ${describe(connection)}`);
    return;
  }
  for (const [cloud, settings] of Object.entries(connection)) {
    if (cloud === 'resilience') {
      if (settings !== undefined && !isRec(settings)) fail('connection.resilience', 'expected an object of resilience overrides');
      continue;
    }
    const allowed = CONNECTION_KEYS[cloud];
    if (!allowed) {
      fail(`connection.${cloud}`, `unknown cloud; expected one of ${CLOUD_IDS.join(', ')} or resilience`);
      continue;
    }
    if (settings === undefined || isUnknown(settings)) continue;
    if (!isRec(settings)) {
      fail(`connection.${cloud}`, `expected an object with ${allowed.join(', ')}`);
      continue;
    }
    for (const [k, v] of Object.entries(settings)) {
      if (!allowed.includes(k)) fail(`connection.${cloud}.${k}`, `unknown setting; expected one of ${allowed.join(', ')}`);
      else if (k === 'credentials') {
        if (!isRec(v) || typeof v.accessKeyId !== 'string' || typeof v.secretAccessKey !== 'string') {
          fail(`connection.${cloud}.credentials`, 'expected { accessKeyId, secretAccessKey, sessionToken? } strings');
        }
      } else if (typeof v !== 'string' || v === '') fail(`connection.${cloud}.${k}`, `expected a non-empty string, got ${describe(v)}`);
      else if (k === 'endpoint' && !/^https?:\/\/[^\s/]+/.test(v)) fail(`connection.${cloud}.endpoint`, `expected an http(s) URL, got ${describe(v)}`);
    }
    if (cloud === 'azure' && (typeof settings.subscriptionId !== 'string' || typeof settings.resourceGroup !== 'string')) {
      // The Azure driver cannot address a VM without both; env fallbacks apply only when the whole block is absent.
      if (typeof settings.subscriptionId !== 'string') fail('connection.azure.subscriptionId', 'required when connection.azure is set');
      if (typeof settings.resourceGroup !== 'string') fail('connection.azure.resourceGroup', 'required when connection.azure is set');
    }
  }
}

/**
 * Every problem with an Instance's inputs, each naming its property. Values the engine does not
 * know yet (preview) are skipped. Region and size are checked against the catalog installed in
 * the process (the provider installs the one `catalogFile` names first).
 */
export function inputFailures(news: unknown): InputFailure[] {
  const failures: InputFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  if (!isRec(news)) return [{ property: '', reason: `expected an object of instance inputs, got ${describe(news)}` }];
  for (const k of Object.keys(news)) if (!KNOWN_INPUTS.has(k) && !ENGINE_KEYS.has(k)) fail(k, 'unknown input');

  const { cloud, region, size, image, workload, tags, spot, userData, resourceUrn, readyTimeoutSeconds } = news;
  const cloudOk = typeof cloud === 'string' && (CLOUD_IDS as readonly string[]).includes(cloud);
  if (!isUnknown(cloud) && !cloudOk) fail('cloud', `expected one of ${CLOUD_IDS.join(', ')}, got ${describe(cloud)}`);
  const regionKnown = cloudOk && typeof region === 'string' && tryFindRegion(cloud as CloudId, region) !== undefined;
  if (!isUnknown(region)) {
    if (typeof region !== 'string' || region === '') fail('region', `expected a region id, got ${describe(region)}`);
    else if (cloudOk && !regionKnown) fail('region', `unknown ${String(cloud)} region '${region}'`);
  }
  if (!isUnknown(size)) {
    if (typeof size !== 'string' || size === '') fail('size', `expected an instance type name, got ${describe(size)}`);
    else if (regionKnown && !tryFindSize(cloud as CloudId, region as string, size)) {
      fail('size', `${String(cloud)} instance type '${size}' is unknown or not offered in ${String(region)}`);
    }
  }
  if (!isUnknown(image) && (typeof image !== 'string' || image.trim() === '')) fail('image', `expected a non-empty image id, got ${describe(image)}`);
  if (!isUnknown(workload) && (typeof workload !== 'string' || workload.trim() === '')) fail('workload', `expected a non-empty workload name, got ${describe(workload)}`);
  if (!isUnknown(resourceUrn) && (typeof resourceUrn !== 'string' || !resourceUrn.startsWith('urn:pulumi:'))) {
    fail('resourceUrn', `expected the resource's URN (urn:pulumi:...), got ${describe(resourceUrn)}`);
  }
  if (tags !== undefined && !isUnknown(tags)) {
    if (!isRec(tags)) fail('tags', `expected an object of string values, got ${describe(tags)}`);
    else {
      for (const [k, v] of Object.entries(tags)) {
        if (k === '') fail('tags', 'tag keys must be non-empty');
        else if (typeof v !== 'string' && !isUnknown(v)) fail(`tags.${k}`, `expected a string, got ${describe(v)}`);
        else if (RESERVED_TAGS.has(k)) fail(`tags.${k}`, 'reserved: the driver writes this tag itself');
      }
    }
  }
  if (spot !== undefined && !isUnknown(spot) && typeof spot !== 'boolean') fail('spot', `expected true or false, got ${describe(spot)}`);
  if (userData !== undefined && !isUnknown(userData) && typeof userData !== 'string') fail('userData', `expected a string, got ${describe(userData)}`);
  if (readyTimeoutSeconds !== undefined && !isUnknown(readyTimeoutSeconds)
    && (typeof readyTimeoutSeconds !== 'number' || !Number.isInteger(readyTimeoutSeconds) || readyTimeoutSeconds < 0 || readyTimeoutSeconds > MAX_READY_TIMEOUT_SECONDS)) {
    fail('readyTimeoutSeconds', `expected whole seconds from 0 to ${MAX_READY_TIMEOUT_SECONDS}, got ${describe(readyTimeoutSeconds)}`);
  }
  const catalogFile = news.catalogFile;
  if (catalogFile !== undefined && !isUnknown(catalogFile) && (typeof catalogFile !== 'string' || catalogFile === '')) {
    fail('catalogFile', `expected a catalog file path, got ${describe(catalogFile)}`);
  }
  checkConnection(news.connection, fail);
  return failures;
}

/** Deep equality over plain JSON values, with object keys in any order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (!isRec(a) || !isRec(b)) return false;
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue(a[k], b[k]));
}

// An absent optional input and its default mean the same instance.
const DEFAULTS: Partial<Record<keyof InstanceInputs, unknown>> = { spot: false, tags: {} };
const normal = (key: keyof InstanceInputs, v: unknown) => (v === undefined ? DEFAULTS[key] : v);

/**
 * Compares old state with new inputs: cloud, region, size, image, spot and user data replace the
 * instance; tags, workload, readiness timeout, connection settings and catalog file update it in place.
 */
export function diffInputs(olds: Partial<InstanceInputs>, news: Partial<InstanceInputs>): InputDiff {
  const changed = (k: keyof InstanceInputs) => !sameValue(normal(k, olds[k]), normal(k, news[k]));
  const replaces = REPLACE_ON_CHANGE.filter(changed);
  const updates = UPDATE_IN_PLACE.filter(changed);
  return { changes: replaces.length + updates.length > 0, replaces, updates };
}
