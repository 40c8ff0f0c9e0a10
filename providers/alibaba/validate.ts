import { findRegion, findSize } from '../catalog';
import { CloudError } from '../errors';
import { MERIDIAN_TAGS, type InstanceSpec } from '../types';
import { MAX_TAG_LENGTH } from './mapping';

/** RunInstances takes at most 20 tags (Tag.1 to Tag.20); Meridian uses two of them. */
export const MAX_ECS_TAGS = 20;
/** UserData is at most 32 KiB before Base64 encoding. */
export const MAX_USER_DATA_BYTES = 32 * 1024;

const RESERVED_KEYS: ReadonlySet<string> = new Set(Object.values(MERIDIAN_TAGS));

function invalid(region: string | undefined, code: string, problems: readonly string[]): CloudError {
  return new CloudError(`invalid alibaba request: ${problems.join('; ')}`, { kind: 'invalid', cloud: 'alibaba', region, code });
}

/** Throws `invalid` unless the region is one of the catalog's Alibaba regions. */
export function checkRegion(region: string): void {
  findRegion('alibaba', region);
}

/** Throws `invalid` unless `id` looks like something ECS could call an instance id. */
export function checkInstanceId(region: string, id: string): void {
  if (typeof id !== 'string' || id.trim() === '' || id.length > 128) throw invalid(region, 'InvalidInstanceId', ['instance id: expected a non-empty id such as i-bp67acfmxazb4p****']);
}

/** Problems with one tag key or value under ECS's rules (128 characters, no aliyun/acs: prefix, no URLs). */
function tagProblems(key: string, value: string): string[] {
  const out: string[] = [];
  if (key === '' || key.length > MAX_TAG_LENGTH) out.push(`tags['${key}']: key must be 1 to ${MAX_TAG_LENGTH} characters`);
  if (/^(aliyun|acs:)/i.test(key)) out.push(`tags['${key}']: key must not start with aliyun or acs:`);
  if (/https?:\/\//i.test(key)) out.push(`tags['${key}']: key must not contain http:// or https://`);
  if (typeof value !== 'string' || value.length > MAX_TAG_LENGTH) out.push(`tags['${key}']: value must be a string of at most ${MAX_TAG_LENGTH} characters`);
  else if (/https?:\/\//i.test(value)) out.push(`tags['${key}']: value must not contain http:// or https://`);
  return out;
}

/** Throws `invalid` unless every tag filter obeys ECS's tag rules and there are at most 20. */
export function checkTagFilter(region: string, tags: Readonly<Record<string, string>>): void {
  const problems = Object.entries(tags).flatMap(([k, v]) => tagProblems(k, v));
  if (Object.keys(tags).length > MAX_ECS_TAGS) problems.push(`tags: at most ${MAX_ECS_TAGS} tag filters`);
  if (problems.length) throw invalid(region, 'InvalidTagFilter', problems);
}

/**
 * Checks a spec before any request is sent, reporting every problem at once: the region and
 * type must be in the catalog (and the type offered there), the image non-empty, the workload a
 * valid tag value, and the tags within ECS's limits.
 */
export function validateSpec(spec: InstanceSpec): void {
  if (spec.cloud !== 'alibaba') throw invalid(spec.region, 'WrongCloud', [`cloud: expected 'alibaba', got '${String(spec.cloud)}'`]);
  // Region and size first: their errors name the known regions and say whether type or region is wrong.
  findRegion('alibaba', spec.region);
  findSize('alibaba', spec.region, spec.size);
  const problems: string[] = [];
  if (typeof spec.image !== 'string' || spec.image.trim() === '') problems.push('image: expected a non-empty ECS image id such as aliyun_3_x64_20G_alibase_20240528.vhd');
  if (typeof spec.idempotencyKey !== 'string' || spec.idempotencyKey === '') problems.push('idempotencyKey: expected a non-empty string');
  if (typeof spec.workload !== 'string' || spec.workload.trim() === '') problems.push('workload: expected a non-empty name');
  else problems.push(...tagProblems(MERIDIAN_TAGS.workload, spec.workload).map((p) => p.replace(`tags['${MERIDIAN_TAGS.workload}']: value`, 'workload')));
  const tags = spec.tags ?? {};
  for (const [k, v] of Object.entries(tags)) {
    if (RESERVED_KEYS.has(k)) problems.push(`tags['${k}']: the key is reserved for Meridian's own bookkeeping`);
    else problems.push(...tagProblems(k, v));
  }
  const total = Object.keys(tags).filter((k) => !RESERVED_KEYS.has(k)).length + RESERVED_KEYS.size;
  if (total > MAX_ECS_TAGS) problems.push(`tags: ECS takes at most ${MAX_ECS_TAGS} tags and Meridian adds ${RESERVED_KEYS.size}, so at most ${MAX_ECS_TAGS - RESERVED_KEYS.size} may be given`);
  if (spec.userData !== undefined && Buffer.byteLength(spec.userData, 'utf8') > MAX_USER_DATA_BYTES) {
    problems.push(`userData: at most ${MAX_USER_DATA_BYTES} bytes before Base64 encoding`);
  }
  if (problems.length) throw invalid(spec.region, 'InvalidInstanceSpec', problems);
}
