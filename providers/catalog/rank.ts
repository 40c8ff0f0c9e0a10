import type { ResolvedSize } from '../types';

/**
 * Preference order among types that fit a request: cheaper first; on an equal price the smaller
 * machine (fewer vCPU, then less memory), then the type name, so resolution never depends on table order.
 */
export function bySizePreference(a: ResolvedSize, b: ResolvedSize): number {
  return a.usdPerHour - b.usdPerHour || a.vcpu - b.vcpu || a.memoryGiB - b.memoryGiB || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
