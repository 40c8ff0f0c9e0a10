import { parsePolicy, parseWorkload, RegionPolicySchema, WorkloadSchema, type RegionPolicy } from '../policies';
import type { DocumentValidation } from './api';
import type { PolicyAdapter } from './reconciler';

/** The API's document validation, from the policy language's schemas and parsers. */
export const documentValidation: DocumentValidation = {
  workloadSchema: WorkloadSchema,
  policySchema: RegionPolicySchema,
  parseWorkload: (input) => parseWorkload(input),
  parsePolicy: (input) => parsePolicy(input),
};

/** How the reconciler reads `RegionPolicy` documents. */
export const regionPolicyAdapter: PolicyAdapter<RegionPolicy> = {
  parse: (spec) => {
    const r = parsePolicy(spec);
    return r.ok ? { ok: true, policy: r.value } : { ok: false, error: `stored policy is no longer valid: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}` };
  },
  // Failback is on unless the policy turns it off.
  failback: (p) => p.spec.failover?.failback ?? true,
  provisionTimeoutSeconds: (p) => p.spec.failover?.provisionTimeoutSeconds,
  residency: (p) => p.spec.residency ?? null,
};
