/** Faults an emulator injects, set through its admin API. Every field is optional in a PATCH. */
export interface FaultSettings {
  /** Max live instances per `region/type` (or `region/*`); 0 means the region is out of that capacity. */
  readonly capacity: Readonly<Record<string, number>>;
  /** Max live instances per region (or `*` for all regions): the account quota. */
  readonly quota: Readonly<Record<string, number>>;
  /** A token bucket over all API calls; calls beyond it are throttled. */
  readonly rateLimit?: { readonly ratePerSecond: number; readonly burst: number };
  /** Share of calls throttled, spread evenly (0.5 throttles every other call). */
  readonly throttleShare: number;
  /** Seconds advertised in Retry-After on throttled answers. */
  readonly retryAfterSeconds: number;
  /** Added latency per call. */
  readonly latencyMs: number;
  /** Share of calls answered with a 5xx, spread evenly. */
  readonly errorShare: number;
  /** Regions whose API is down: every call for them fails with 503. */
  readonly outages: readonly string[];
  /** The next N mutating calls are carried out but their reply is lost (the connection is dropped). */
  readonly dropReplies: number;
}

/** No faults. */
export const NO_FAULTS: FaultSettings = Object.freeze({
  capacity: {}, quota: {}, throttleShare: 0, retryAfterSeconds: 1, latencyMs: 0, errorShare: 0, outages: [], dropReplies: 0,
});

/** What the fault gate decided for one call, before the call's own logic runs. */
export type GateDecision =
  | { readonly kind: 'pass' }
  | { readonly kind: 'throttled'; readonly retryAfterSeconds: number }
  | { readonly kind: 'server-error' }
  | { readonly kind: 'outage' };

/** Validates a faults patch, returning every problem with its key. */
export function validateFaultsPatch(patch: unknown): string[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return ['body: expected a JSON object'];
  const errors: string[] = [];
  const p = patch as Record<string, unknown>;
  const known = new Set(Object.keys(NO_FAULTS).concat('rateLimit'));
  for (const k of Object.keys(p)) if (!known.has(k)) errors.push(`${k}: unknown fault setting`);
  const share = (k: string) => {
    if (k in p && (typeof p[k] !== 'number' || (p[k] as number) < 0 || (p[k] as number) > 1)) errors.push(`${k}: expected a number from 0 to 1`);
  };
  const nonNeg = (k: string) => {
    if (k in p && (typeof p[k] !== 'number' || (p[k] as number) < 0)) errors.push(`${k}: expected a number >= 0`);
  };
  share('throttleShare'); share('errorShare');
  nonNeg('latencyMs'); nonNeg('dropReplies'); nonNeg('retryAfterSeconds');
  for (const k of ['capacity', 'quota']) {
    if (!(k in p)) continue;
    const v = p[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { errors.push(`${k}: expected an object of counts`); continue; }
    for (const [kk, n] of Object.entries(v)) if (typeof n !== 'number' || n < 0) errors.push(`${k}.${kk}: expected a count >= 0`);
  }
  if ('outages' in p && (!Array.isArray(p.outages) || p.outages.some((r) => typeof r !== 'string'))) errors.push('outages: expected an array of region ids');
  if ('rateLimit' in p && p.rateLimit !== null) {
    const r = p.rateLimit as Record<string, unknown>;
    if (typeof r !== 'object' || typeof r.ratePerSecond !== 'number' || typeof r.burst !== 'number' || r.ratePerSecond <= 0 || r.burst < 1) {
      errors.push('rateLimit: expected { ratePerSecond > 0, burst >= 1 } or null');
    }
  }
  return errors;
}
