import { createHash } from 'node:crypto';
import type { DescribeInstancesResponseBodyInstancesInstance } from '@alicloud/ecs20140526';
import type { Instance, InstanceState } from '../types';

/** ECS accepts a ClientToken of at most 64 ASCII characters. */
export const MAX_CLIENT_TOKEN_LENGTH = 64;
/** ECS tag keys and values are at most 128 characters. */
export const MAX_TAG_LENGTH = 128;

/**
 * The ClientToken for an idempotency key: the key itself when ECS accepts it (printable ASCII,
 * at most 64 characters), else `mrd-` and a SHA-256 prefix of it, so the same key always maps
 * to the same token.
 */
export function clientTokenFor(idempotencyKey: string): string {
  if (idempotencyKey.length <= MAX_CLIENT_TOKEN_LENGTH && /^[\x21-\x7e]+$/.test(idempotencyKey)) return idempotencyKey;
  return `mrd-${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 56)}`;
}

/** The value of the `meridian:key` tag: the key when it fits ECS's tag rules, else `sha256:<hex>`. */
export function keyTagValue(idempotencyKey: string): string {
  if (idempotencyKey.length <= MAX_TAG_LENGTH && !/https?:\/\//i.test(idempotencyKey)) return idempotencyKey;
  return `sha256:${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex')}`;
}

/**
 * ECS `Status` to the normalized state. ECS lists Pending, Starting, Running, Stopping and
 * Stopped; a released instance disappears instead of showing a terminal state.
 */
export function instanceStateOf(status: string | undefined): InstanceState {
  switch (status) {
    case 'Pending':
    case 'Starting':
      return 'pending';
    case 'Running':
      return 'running';
    case 'Stopping':
      return 'stopping';
    case 'Stopped':
      return 'stopped';
    case 'Deleted':
    case 'Released':
      return 'terminated';
    default:
      // An unknown status is one ECS added later; treat it as not yet usable.
      return 'pending';
  }
}

/** ECS prints times to the minute (`2017-12-10T04:04Z`); this returns full ISO 8601. */
export function isoTime(ecsTime: string | undefined): string {
  const t = ecsTime ? Date.parse(ecsTime) : Number.NaN;
  return Number.isNaN(t) ? new Date(0).toISOString() : new Date(t).toISOString();
}

/** One DescribeInstances entry as an `Instance`. */
export function toInstance(region: string, i: DescribeInstancesResponseBodyInstancesInstance): Instance {
  const tags: Record<string, string> = {};
  for (const t of i.tags?.tag ?? []) if (t.tagKey !== undefined) tags[t.tagKey] = t.tagValue ?? '';
  const publicIp = i.publicIpAddress?.ipAddress?.[0] || i.eipAddress?.ipAddress || undefined;
  const privateIp = i.vpcAttributes?.privateIpAddress?.ipAddress?.[0] || i.innerIpAddress?.ipAddress?.[0] || undefined;
  return Object.freeze({
    cloud: 'alibaba' as const,
    region: i.regionId || region,
    id: i.instanceId ?? '',
    state: instanceStateOf(i.status),
    size: i.instanceType ?? '',
    ...(publicIp ? { publicIp } : {}),
    ...(privateIp ? { privateIp } : {}),
    tags: Object.freeze(tags),
    launchedAt: isoTime(i.creationTime),
  });
}
