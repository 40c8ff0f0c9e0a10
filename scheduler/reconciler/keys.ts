import type { CloudId } from '../../providers';

/**
 * The idempotency key of one instance: deterministic per (workload, cloud, region, ordinal).
 * The ordinal comes from the store and is never reused, so a replaced or re-added replica never
 * collides with a terminated one that the cloud still remembers under an old token.
 */
export function idempotencyKey(workload: string, cloud: CloudId, region: string, ordinal: number): string {
  return `mrd:${workload}:${cloud}:${region}:${ordinal}`;
}
