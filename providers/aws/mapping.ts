import { createHash } from 'node:crypto';
import type { Instance as Ec2Instance, Tag } from '@aws-sdk/client-ec2';
import { findSize } from '../catalog';
import { CloudError } from '../errors';
import { MERIDIAN_TAGS, type Instance, type InstanceSpec, type InstanceState } from '../types';

/** EC2 limits the driver checks before sending anything (EC2 User Guide, "Tag restrictions"; RunInstances). */
export const EC2_LIMITS = Object.freeze({
  maxTags: 50,
  maxTagKeyLength: 128,
  maxTagValueLength: 256,
  maxClientTokenLength: 64,
  /** UserData before base64 encoding. */
  maxUserDataBytes: 16 * 1024,
});

/** EC2 state names to Meridian's states. */
const STATES: Readonly<Record<string, InstanceState>> = {
  pending: 'pending', running: 'running', 'shutting-down': 'terminating', terminated: 'terminated', stopping: 'stopping', stopped: 'stopped',
};

/** EC2 state codes (low byte of `InstanceState.Code`) for when a name is missing. */
const STATE_BY_CODE: Readonly<Record<number, InstanceState>> = {
  0: 'pending', 16: 'running', 32: 'terminating', 48: 'terminated', 64: 'stopping', 80: 'stopped',
};

/** States whose instances still exist; `listInstances` asks EC2 for these only. */
export const LIVE_EC2_STATES: readonly string[] = Object.freeze(['pending', 'running', 'shutting-down', 'stopping', 'stopped']);

/** Meridian's state for an EC2 state name (or code when the name is absent). */
export function toInstanceState(name: string | undefined, code?: number): InstanceState {
  const byName = name === undefined ? undefined : STATES[name];
  if (byName) return byName;
  // The high byte of the code is internal to EC2 (EC2 API Reference, InstanceState).
  const byCode = code === undefined ? undefined : STATE_BY_CODE[code & 0xff];
  if (byCode) return byCode;
  throw new CloudError(`EC2 reported an unknown instance state '${name ?? ''}' (code ${code ?? 'none'})`, { kind: 'unavailable', cloud: 'aws', code: 'UnknownInstanceState', retryable: false });
}

/** An EC2 instance as a Meridian `Instance`. */
export function toInstance(region: string, i: Ec2Instance): Instance {
  if (!i.InstanceId) throw new CloudError('EC2 returned an instance without an InstanceId', { kind: 'unavailable', cloud: 'aws', region, code: 'MalformedResponse', retryable: false });
  const tags: Record<string, string> = {};
  for (const t of i.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return {
    cloud: 'aws', region, id: i.InstanceId,
    state: toInstanceState(i.State?.Name, i.State?.Code),
    size: i.InstanceType ?? '',
    ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
    ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
    tags,
    launchedAt: (i.LaunchTime ?? new Date(0)).toISOString(),
  };
}

const sha256 = (s: string, encoding: 'hex' | 'base64url') => createHash('sha256').update(s, 'utf8').digest(encoding);

/**
 * The EC2 `ClientToken` for an idempotency key: the key itself when it already fits (at most 64
 * printable ASCII characters), else a hash of it, so the same key always gives the same token.
 */
export function clientTokenFor(idempotencyKey: string): string {
  if (idempotencyKey.length <= EC2_LIMITS.maxClientTokenLength && /^[\x21-\x7e]+$/.test(idempotencyKey)) return idempotencyKey;
  // 'mh-' + 43 base64url characters of SHA-256 = 46 characters.
  return `mh-${sha256(idempotencyKey, 'base64url')}`;
}

/** The value of the `meridian:key` tag: the key, or its hash when it exceeds EC2's tag value limit. */
export function keyTagValue(idempotencyKey: string): string {
  return idempotencyKey.length <= EC2_LIMITS.maxTagValueLength ? idempotencyKey : `sha256:${sha256(idempotencyKey, 'hex')}`;
}

/** The instance's tags: the spec's plus Meridian's, sorted by key so a retried request is identical. */
export function instanceTags(spec: InstanceSpec): Tag[] {
  const all: Record<string, string> = { ...spec.tags, [MERIDIAN_TAGS.workload]: spec.workload, [MERIDIAN_TAGS.key]: keyTagValue(spec.idempotencyKey) };
  return Object.keys(all).sort().map((Key) => ({ Key, Value: all[Key] }));
}

/** Problems with user tags under EC2's restrictions, each naming the tag. */
export function tagProblems(tags: Readonly<Record<string, string>>, field = 'tags'): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(tags)) {
    if (k.length === 0 || k.length > EC2_LIMITS.maxTagKeyLength) problems.push(`${field}: key '${k}' must be 1 to ${EC2_LIMITS.maxTagKeyLength} characters`);
    if (k.toLowerCase().startsWith('aws:')) problems.push(`${field}.${k}: keys starting with 'aws:' are reserved by AWS`);
    if (typeof v !== 'string') problems.push(`${field}.${k}: value must be a string`);
    else if (v.length > EC2_LIMITS.maxTagValueLength) problems.push(`${field}.${k}: value is longer than ${EC2_LIMITS.maxTagValueLength} characters`);
  }
  return problems;
}

/** Checks a spec before any request; throws `CloudError` kind `invalid` listing every problem. */
export function validateSpec(spec: InstanceSpec): void {
  const region = spec.region;
  if (spec.cloud !== 'aws') {
    throw new CloudError(`spec.cloud must be 'aws' for the AWS driver, got '${String(spec.cloud)}'`, { kind: 'invalid', cloud: 'aws', region, code: 'InvalidSpec' });
  }
  // Region and size first: their errors name the known regions and whether the type exists at all.
  findSize('aws', region, spec.size);
  const problems: string[] = [];
  if (typeof spec.image !== 'string' || spec.image.trim() === '') problems.push('image: must be a non-empty AMI id');
  else if (!/^ami-[0-9a-zA-Z]+$/.test(spec.image)) problems.push(`image: '${spec.image}' is not an AMI id (ami-...)`);
  if (typeof spec.workload !== 'string' || spec.workload.trim() === '') problems.push('workload: must be non-empty');
  else if (spec.workload.length > EC2_LIMITS.maxTagValueLength) problems.push(`workload: longer than ${EC2_LIMITS.maxTagValueLength} characters (EC2 tag value limit)`);
  if (typeof spec.idempotencyKey !== 'string' || spec.idempotencyKey === '') problems.push('idempotencyKey: must be non-empty');
  const tags = spec.tags ?? {};
  problems.push(...tagProblems(tags));
  for (const reserved of [MERIDIAN_TAGS.workload, MERIDIAN_TAGS.key]) {
    if (reserved in tags) {
      const own = reserved === MERIDIAN_TAGS.workload ? spec.workload : keyTagValue(String(spec.idempotencyKey));
      if (tags[reserved] !== own) problems.push(`tags.${reserved}: reserved for Meridian and differs from the spec's own value`);
    }
  }
  const count = new Set([...Object.keys(tags), MERIDIAN_TAGS.workload, MERIDIAN_TAGS.key]).size;
  if (count > EC2_LIMITS.maxTags) problems.push(`tags: ${count} tags with Meridian's own two, EC2 allows ${EC2_LIMITS.maxTags}`);
  if (spec.userData !== undefined && Buffer.byteLength(spec.userData, 'utf8') > EC2_LIMITS.maxUserDataBytes) {
    problems.push(`userData: ${Buffer.byteLength(spec.userData, 'utf8')} bytes, EC2 allows ${EC2_LIMITS.maxUserDataBytes}`);
  }
  if (problems.length > 0) {
    throw new CloudError(`invalid aws instance spec: ${problems.join('; ')}`, { kind: 'invalid', cloud: 'aws', region, code: 'InvalidSpec' });
  }
}
