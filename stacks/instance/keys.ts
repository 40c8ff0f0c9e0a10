import { createHash } from 'node:crypto';
import type { InstanceInputs } from './types';

/** How many fresh keys `create` tries when earlier ones lead to instances already terminated. */
export const MAX_KEY_GENERATIONS = 8;

/**
 * The idempotency key of an Instance for one generation. It binds the resource's URN (stable
 * across retried `pulumi up` runs, so a retry after a crash adopts the instance it already made)
 * and the inputs that force a replacement (so a replacement, which keeps the URN, gets a new
 * instance instead of the one it replaces). Generation n > 0 appends `~n`: EC2 and ECS remember a
 * ClientToken after its instance is terminated, so a resource re-created after `destroy` or an
 * out-of-band termination moves to the next generation deterministically.
 */
export function idempotencyKeyFor(inputs: Pick<InstanceInputs, 'resourceUrn' | 'cloud' | 'region' | 'size' | 'image' | 'spot' | 'userData'>, generation = 0): string {
  const replaceInputs = JSON.stringify([inputs.cloud, inputs.region, inputs.size, inputs.image, inputs.spot ?? false, inputs.userData ?? null]);
  // 12 hex digits (48 bits) tell replacements of one URN apart; the drivers hash keys longer than the clouds accept.
  const digest = createHash('sha256').update(replaceInputs, 'utf8').digest('hex').slice(0, 12);
  return `${inputs.resourceUrn}#${digest}${generation > 0 ? `~${generation}` : ''}`;
}
