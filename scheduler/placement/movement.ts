import type { CloudId } from '../../providers';
import { cloudCount, type Slot, type SpreadLimits } from './divide';

/**
 * Starts from today's counts (only where still valid) and moves toward `target` as little as
 * possible: trims regions that are over target, grows those under it, then moves single replicas
 * only if the spread constraints still need more regions or clouds.
 */
export function minimalMove(
  current: Map<string, number>, target: Map<string, number>, slots: ReadonlyMap<string, Slot>, pool: readonly Slot[], limits: SpreadLimits,
): Map<string, number> {
  const a = new Map<string, number>();
  for (const [k, n] of current) a.set(k, Math.min(n, limits.cap));
  const rankOf = (k: string) => slots.get(k)?.rank ?? Number.MAX_SAFE_INTEGER;
  const get = (m: Map<string, number>, k: string) => m.get(k) ?? 0;
  let total = [...a.values()].reduce((s, n) => s + n, 0);
  if (total > limits.replicas) {
    // Trim the most over-target regions first; the least preferred loses first on ties.
    const keys = [...a.keys()].sort((x, y) => (get(a, y) - get(target, y)) - (get(a, x) - get(target, x)) || rankOf(y) - rankOf(x));
    for (const k of keys) {
      if (total <= limits.replicas) break;
      const cut = Math.min(Math.max(0, get(a, k) - get(target, k)), total - limits.replicas);
      a.set(k, get(a, k) - cut);
      total -= cut;
    }
  } else if (total < limits.replicas) {
    const keys = [...target.keys()].sort((x, y) => (get(target, y) - get(a, y)) - (get(target, x) - get(a, x)) || rankOf(x) - rankOf(y));
    for (const k of keys) {
      if (total >= limits.replicas) break;
      const add = Math.min(Math.max(0, get(target, k) - get(a, k)), limits.replicas - total);
      a.set(k, get(a, k) + add);
      total += add;
    }
  }
  for (const [k, n] of a) if (n === 0) a.delete(k);
  // Spread repair: move one replica at a time into a new region (a new cloud first, when clouds are short).
  for (let guard = 0; guard < limits.minRegions + limits.minClouds + 2; guard++) {
    const used = [...a.keys()].map((k) => slots.get(k)).filter((s): s is Slot => s !== undefined);
    const clouds = new Set(used.map((s) => s.cloud));
    const cloudsShort = clouds.size < limits.minClouds;
    if (!cloudsShort && used.length >= limits.minRegions) break;
    const fresh = pool.filter((s) => !a.has(s.key) && (!cloudsShort || !clouds.has(s.cloud)))
      .sort((x, y) => get(target, y.key) - get(target, x.key) || x.rank - y.rank)[0];
    if (!fresh) break;
    const perCloud = new Map<CloudId, number>();
    for (const s of used) perCloud.set(s.cloud, (perCloud.get(s.cloud) ?? 0) + 1);
    const donor = used
      .filter((s) => get(a, s.key) >= 2 || (cloudsShort && (perCloud.get(s.cloud) ?? 0) >= 2))
      .sort((x, y) => (get(a, y.key) - get(target, y.key)) - (get(a, x.key) - get(target, x.key)) || y.rank - x.rank)[0];
    if (!donor) break;
    a.set(donor.key, get(a, donor.key) - 1);
    if (get(a, donor.key) === 0) a.delete(donor.key);
    a.set(fresh.key, 1);
  }
  return a;
}

/** Whether counts meet every hard spread constraint for the limits. */
export function satisfies(counts: ReadonlyMap<string, number>, slots: ReadonlyMap<string, Slot>, l: SpreadLimits): boolean {
  let total = 0;
  for (const n of counts.values()) {
    if (n < 1 || n > l.cap) return false;
    total += n;
  }
  const used = [...counts.keys()].map((k) => slots.get(k)).filter((s): s is Slot => s !== undefined);
  return total === l.replicas && used.length === counts.size && used.length >= l.minRegions && cloudCount(used) >= l.minClouds;
}
