import type { CloudId } from '../../providers';

/** The hard spread constraints for one workload, with the per-region cap already resolved to a count. */
export interface SpreadLimits {
  readonly replicas: number;
  readonly minClouds: number;
  readonly minRegions: number;
  /** Most replicas in one region (Infinity when unlimited). */
  readonly cap: number;
}

/** What division needs to know of an eligible region. */
export interface Slot {
  readonly key: string;
  readonly cloud: CloudId;
  /** Position in preference order (tier, then score): 0 is the best. */
  readonly rank: number;
}

/** The fewest regions a placement can use: one per required region and cloud, and enough to stay under the cap. */
export function regionsNeeded(l: SpreadLimits): number {
  return Math.max(l.minRegions, l.minClouds, Number.isFinite(l.cap) ? Math.ceil(l.replicas / l.cap) : 1, 1);
}

/** Number of distinct clouds among slots. */
export function cloudCount(slots: readonly Pick<Slot, 'cloud'>[]): number {
  return new Set(slots.map((s) => s.cloud)).size;
}

/**
 * Chooses the regions to use from a pool sorted best first: the best region of each of the best
 * `minClouds` clouds, then the best others until `regionsNeeded`, then `wanted` extras (regions near
 * users) while each can still get a replica. Returns them in preference order.
 */
export function selectRegions<S extends Slot>(pool: readonly S[], l: SpreadLimits, wanted: readonly S[] = []): S[] {
  const chosen = new Set<S>();
  const clouds = new Set<CloudId>();
  for (const s of pool) {
    if (clouds.size >= l.minClouds) break;
    if (!clouds.has(s.cloud)) { clouds.add(s.cloud); chosen.add(s); }
  }
  const need = regionsNeeded(l);
  for (const s of pool) {
    if (chosen.size >= need) break;
    chosen.add(s);
  }
  for (const s of wanted) {
    if (chosen.size >= l.replicas) break;
    chosen.add(s);
  }
  return [...chosen].sort((a, b) => a.rank - b.rank);
}

/**
 * Fills regions in order: one replica each, then each up to the cap in turn (cheapest first when
 * the order is by cost). Requires `n <= replicas <= n * cap`.
 */
export function fillInOrder(replicas: number, n: number, cap: number): number[] {
  const counts = new Array<number>(n).fill(1);
  let left = replicas - n;
  for (let i = 0; i < n && left > 0; i++) {
    const add = Math.min(cap - 1, left);
    counts[i] += add;
    left -= add;
  }
  return counts;
}

/**
 * Divides replicas in proportion to `targets` with every count in [1, cap] (water-filling, then
 * largest remainder; ties go to the earlier index, which is the preferred region). Requires
 * `targets.length <= replicas <= targets.length * cap`.
 */
export function apportion(replicas: number, targets: readonly number[], cap: number): number[] {
  const n = targets.length;
  const t = targets.map((x) => (Number.isFinite(x) && x > 0 ? x : 0));
  const ideal = new Array<number>(n).fill(0);
  const fixed = new Array<boolean>(n).fill(false);
  let remaining = replicas;
  for (let round = 0; round <= n; round++) {
    const free = [...ideal.keys()].filter((i) => !fixed[i]);
    if (free.length === 0) break;
    const sum = free.reduce((s, i) => s + t[i], 0);
    for (const i of free) ideal[i] = sum > 0 ? (remaining * t[i]) / sum : remaining / free.length;
    const over = free.filter((i) => ideal[i] > cap);
    const under = over.length > 0 ? [] : free.filter((i) => ideal[i] < 1);
    const pin = over.length > 0 ? over : under;
    if (pin.length === 0) break;
    for (const i of pin) {
      ideal[i] = over.length > 0 ? cap : 1;
      fixed[i] = true;
      remaining -= ideal[i];
    }
  }
  const counts = ideal.map((q) => Math.min(cap, Math.max(1, Math.floor(q + 1e-9))));
  let total = counts.reduce((s, c) => s + c, 0);
  // Largest remainder first; then, if pinning overshot, take back from the most over-served.
  const byRemainder = [...counts.keys()].sort((a, b) => (ideal[b] - counts[b]) - (ideal[a] - counts[a]) || a - b);
  while (total < replicas) {
    const i = byRemainder.find((j) => counts[j] < cap);
    if (i === undefined) break;
    counts[i]++;
    total++;
    byRemainder.sort((a, b) => (ideal[b] - counts[b]) - (ideal[a] - counts[a]) || a - b);
  }
  while (total > replicas) {
    let pick = -1;
    for (let j = 0; j < n; j++) {
      if (counts[j] > 1 && (pick < 0 || counts[j] - ideal[j] > counts[pick] - ideal[pick])) pick = j;
    }
    if (pick < 0) break;
    counts[pick]--;
    total--;
  }
  return counts;
}
