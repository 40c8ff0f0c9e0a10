import { CLOUD_IDS, listRegions, listSizes, type CloudId, type Region } from '../providers';
import { compilePolicy } from './compile';
import { isKnownCountry } from './countries';
import { evaluate, rejectionsOf } from './evaluate';
import { compileRegionPattern, globMatcher, hasWildcard } from './patterns';
import {
  RegionPolicySchema, WorkloadDocumentSchema, WorkloadSchema, type RegionPolicy, type WorkloadDocument, type WorkloadInput,
} from './schema';
import { schemaErrors, type ParseResult, type ValidationError } from './schema-errors';

/** Options for checks that need the region catalog. */
export interface ParseOptions {
  /** Regions to check names against; the whole catalog by default. */
  readonly regions?: readonly Region[];
}

// How far the demand shares may sum from 1 (users are estimates, rounding is expected).
const SHARE_TOLERANCE = 0.01;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const rec = (v: unknown): Rec => (isRec(v) ? v : {});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

function suggest(name: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) { bestD = d; best = k; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 4)) ? `; did you mean '${best}'?` : '';
}

/** Checks the policy rules a schema cannot express, tolerating parts that failed the schema. */
function policySemanticErrors(doc: unknown, regions: readonly Region[]): ValidationError[] {
  const errors: ValidationError[] = [];
  const err = (path: string, message: string) => errors.push({ path, message });
  const spec = rec(rec(doc).spec);
  const regionIds = new Set(regions.map((r) => r.id));
  const cloudsWithRegions = new Set<string>(CLOUD_IDS);

  const checkCloud = (path: string, v: unknown) => {
    if (typeof v !== 'string') return;
    const test = globMatcher(v);
    if (!CLOUD_IDS.some(test)) {
      err(path, hasWildcard(v)
        ? `cloud pattern '${v}' matches no cloud; known clouds: ${CLOUD_IDS.join(', ')}`
        : `unknown cloud '${v}'; known clouds: ${CLOUD_IDS.join(', ')}`);
    }
  };
  // Exact region names must exist (a typo would silently allow or deny nothing); wildcards may match none.
  const checkRegion = (path: string, v: unknown, exactOnly: boolean) => {
    if (typeof v !== 'string') return;
    const m = compileRegionPattern(v);
    if (m.cloud !== undefined && !cloudsWithRegions.has(m.cloud)) {
      err(path, `unknown cloud '${m.cloud}' in '${v}'; known clouds: ${CLOUD_IDS.join(', ')}`);
      return;
    }
    if (m.wildcard && exactOnly) {
      err(path, `expected a region id without wildcards, got '${v}'`);
      return;
    }
    if (m.wildcard) return;
    if (!regions.some((r) => m.matches(r.cloud, r.id))) {
      const known = m.cloud ? regions.filter((r) => r.cloud === m.cloud).map((r) => r.id) : regionIds;
      err(path, `unknown region '${v}'${m.cloud ? ` in ${m.cloud}` : ' (no cloud has it)'}${suggest(m.id, known)}`);
    }
  };

  const clouds = rec(spec.clouds);
  arr(clouds.allow).forEach((v, i) => checkCloud(`/spec/clouds/allow/${i}`, v));
  arr(clouds.deny).forEach((v, i) => checkCloud(`/spec/clouds/deny/${i}`, v));
  const regionRules = rec(spec.regions);
  arr(regionRules.allow).forEach((v, i) => checkRegion(`/spec/regions/allow/${i}`, v, false));
  arr(regionRules.deny).forEach((v, i) => checkRegion(`/spec/regions/deny/${i}`, v, false));

  arr(rec(spec.residency).countries).forEach((v, i) => {
    if (typeof v === 'string' && /^[A-Z]{2}$/.test(v) && !isKnownCountry(v)) err(`/spec/residency/countries/${i}`, `unknown country code '${v}'`);
  });

  const spread = rec(spec.spread);
  if (typeof spread.maxPerRegion === 'string' && /^[0-9]+(\.[0-9]+)?%$/.test(spread.maxPerRegion)) {
    const p = Number.parseFloat(spread.maxPerRegion);
    if (p < 1 || p > 100) err('/spec/spread/maxPerRegion', `expected a percentage from 1% to 100%, got "${spread.maxPerRegion}"`);
  }
  if (typeof spread.minClouds === 'number' && spread.minClouds > CLOUD_IDS.length) {
    err('/spec/spread/minClouds', `expected at most ${CLOUD_IDS.length} (the clouds Meridian drives), got ${spread.minClouds}`);
  }

  const byLevel = new Map<unknown, number>();
  arr(spec.weights).forEach((level, i) => {
    if (!isRec(level)) return;
    if (byLevel.has(level.by)) err(`/spec/weights/${i}/by`, `duplicate weights level by: ${String(level.by)} (first at /spec/weights/${byLevel.get(level.by)})`);
    else byLevel.set(level.by, i);
    for (const key of Object.keys(level)) {
      if (key === 'by') continue;
      const path = `/spec/weights/${i}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (level.by === 'cloud') checkCloud(path, key);
      else if (level.by === 'region') {
        if (!/^([a-z]+:)?[a-z0-9*?-]+$/.test(key)) err(path, `expected a region id or wildcard as key, got '${key}'`);
        else checkRegion(path, key, false);
      }
    }
  });

  const demand = arr(spec.demand);
  const seenCountry = new Map<string, number>();
  let shareSum = 0;
  let sharesValid = demand.length > 0;
  demand.forEach((d, i) => {
    const { country, share } = rec(d);
    if (typeof country === 'string' && /^[A-Z]{2}$/.test(country)) {
      if (!isKnownCountry(country)) err(`/spec/demand/${i}/country`, `unknown country code '${country}'`);
      else if (seenCountry.has(country)) err(`/spec/demand/${i}/country`, `duplicate country ${country} (first at /spec/demand/${seenCountry.get(country)})`);
      else seenCountry.set(country, i);
    }
    if (typeof share === 'number' && share > 0) shareSum += share;
    else sharesValid = false;
  });
  if (sharesValid && Math.abs(shareSum - 1) > SHARE_TOLERANCE) {
    err('/spec/demand', `expected shares summing to 1 (within ${SHARE_TOLERANCE}), got ${Number(shareSum.toFixed(6))}`);
  }

  const seenRef = new Map<string, string>();
  arr(rec(spec.failover).order).forEach((tier, t) => {
    arr(tier).forEach((v, i) => {
      const path = `/spec/failover/order/${t}/${i}`;
      checkRegion(path, v, true);
      if (typeof v !== 'string') return;
      const prior = seenRef.get(v);
      if (prior) err(path, `region '${v}' is listed twice in failover.order (first at ${prior})`);
      else seenRef.set(v, path);
    });
  });
  return errors;
}

/** Checks that need the whole, schema-valid policy: failover regions the rules reject, unreachable spread. */
function policyFeasibilityErrors(policy: RegionPolicy, regions: readonly Region[]): ValidationError[] {
  const errors: ValidationError[] = [];
  const c = compilePolicy(policy);
  (policy.spec.failover?.order ?? []).forEach((tier, t) => tier.forEach((ref, i) => {
    const m = compileRegionPattern(ref);
    const matched = regions.filter((x) => m.matches(x.cloud, x.id));
    const why = matched.map((r) => rejectionsOf(c, r.cloud, r.id, r.country, r.continent));
    // An unqualified id may name regions of several clouds: it is an error only when the policy rejects all of them.
    if (matched.length > 0 && why.every((w) => w.length > 0)) {
      errors.push({
        path: `/spec/failover/order/${t}/${i}`,
        message: `failover region '${ref}' is rejected by the policy's own rules: ${why.flat().map((w) => w.reason).join('; ')}`,
      });
    }
  }));
  const { eligible } = evaluate(policy, regions);
  const clouds = new Set(eligible.map((e) => e.candidate.cloud));
  if (eligible.length === 0) {
    errors.push({ path: '/spec', message: 'no region of the catalog passes the clouds, regions, residency and weights rules together' });
  } else {
    if (c.minRegions > eligible.length) {
      errors.push({
        path: '/spec/spread/minRegions',
        message: `needs ${c.minRegions} regions but only ${eligible.length} pass the policy's rules: ${eligible.map((e) => `${e.candidate.cloud}:${e.candidate.id}`).join(', ')}`,
      });
    }
    if (c.minClouds > clouds.size) {
      errors.push({ path: '/spec/spread/minClouds', message: `needs ${c.minClouds} clouds but only ${clouds.size} have regions that pass the policy's rules: ${[...clouds].join(', ')}` });
    }
  }
  return errors;
}

/**
 * Validates a `RegionPolicy` document (already parsed from YAML or JSON). Reports every error:
 * schema errors with their key path, then rules a schema cannot express (percentages, demand
 * shares, unknown clouds and regions, failover regions the policy rejects, spread the catalog
 * cannot meet). On success the value is a deep-frozen copy.
 */
export function parsePolicy(input: unknown, opts: ParseOptions = {}): ParseResult<RegionPolicy> {
  const regions = opts.regions ?? listRegions();
  const errors = [...schemaErrors(RegionPolicySchema, input), ...policySemanticErrors(input, regions)];
  if (errors.length > 0) return { ok: false, errors };
  const value = deepFreeze(structuredClone(input) as RegionPolicy);
  const feasibility = policyFeasibilityErrors(value, regions);
  if (feasibility.length > 0) return { ok: false, errors: feasibility };
  return { ok: true, value };
}

/** Semantic checks on a flat workload: clouds that can run it, instance type names, sizes that fit somewhere. */
function workloadSemanticErrors(w: Rec, prefix: string): ValidationError[] {
  const errors: ValidationError[] = [];
  const image = rec(w.image);
  const size = w.size;
  const imageClouds = CLOUD_IDS.filter((c) => typeof image[c] === 'string' && image[c] !== '');
  if (isRec(size) && !('vcpu' in size) && !('memoryGiB' in size)) {
    for (const cloud of CLOUD_IDS) {
      const name = size[cloud];
      if (typeof name !== 'string' || name === '') continue;
      const known = listSizes(cloud).map((s) => s.name);
      if (!known.includes(name)) errors.push({ path: `${prefix}/size/${cloud}`, message: `unknown ${cloud} instance type '${name}'${suggest(name, known)}` });
    }
    const sized = CLOUD_IDS.filter((c) => typeof size[c] === 'string');
    if (sized.length > 0 && imageClouds.length > 0 && !sized.some((c) => imageClouds.includes(c))) {
      errors.push({ path: `${prefix}/image`, message: `no cloud has both an instance type and an image: types for ${sized.join(', ')}, images for ${imageClouds.join(', ')}` });
    }
  } else if (isRec(size) && typeof size.vcpu === 'number' && typeof size.memoryGiB === 'number' && imageClouds.length > 0) {
    const { vcpu, memoryGiB } = size;
    const arch = size.arch;
    const fits = imageClouds.some((c: CloudId) => listSizes(c).some((s) => s.vcpu >= vcpu && s.memoryGiB >= memoryGiB && (arch === undefined || s.arch === arch)));
    if (!fits) {
      errors.push({ path: `${prefix}/size`, message: `no instance type of ${imageClouds.join(', ')} has ${vcpu} vCPU and ${memoryGiB} GiB${typeof arch === 'string' ? ` on ${arch}` : ''}` });
    }
  }
  return errors;
}

function isDocumentForm(input: unknown): boolean {
  return isRec(input) && ('kind' in input || 'apiVersion' in input || 'spec' in input || 'metadata' in input);
}

/**
 * Validates a workload, given either flat (`{ name, replicas, size, image, policy, dns? }`, as the
 * API takes it) or as a `Workload` document (`{ apiVersion, kind, metadata: { name }, spec }`).
 * Reports every error with its key path; on success returns the flat, deep-frozen workload.
 */
export function parseWorkload(input: unknown): ParseResult<WorkloadInput> {
  if (isDocumentForm(input)) {
    const errors = schemaErrors(WorkloadDocumentSchema, input);
    const doc = rec(input);
    errors.push(...workloadSemanticErrors(rec(doc.spec), '/spec'));
    if (errors.length > 0) return { ok: false, errors };
    const d = structuredClone(input) as WorkloadDocument;
    return { ok: true, value: deepFreeze({ name: d.metadata.name, ...d.spec }) };
  }
  const errors = [...schemaErrors(WorkloadSchema, input), ...workloadSemanticErrors(rec(input), '')];
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: deepFreeze(structuredClone(input) as WorkloadInput) };
}

