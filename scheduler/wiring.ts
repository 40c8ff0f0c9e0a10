import { Type } from '@sinclair/typebox';
import { parsePolicy, parseWorkload, RegionPolicySchema, WorkloadDocumentSchema, WorkloadSchema, type RegionPolicy } from '../policies';
import type { DocumentValidation } from './api';
import type { PolicyAdapter } from './reconciler';

/**
 * A workload flat (`{ name, replicas, ... }`) or as a `Workload` document (`{ apiVersion, kind,
 * metadata, spec }`), told apart by the document's keys as `parseWorkload` does, so that errors
 * are those of the form the client meant.
 */
const WorkloadBodySchema = Type.Unsafe<unknown>({
  title: 'WorkloadOrDocument',
  if: { anyOf: ['apiVersion', 'kind', 'metadata', 'spec'].map((k) => ({ type: 'object', required: [k] })) },
  then: WorkloadDocumentSchema,
  else: WorkloadSchema,
});

/** The API's document validation, from the policy language's schemas and parsers. */
export const documentValidation: DocumentValidation = {
  workloadSchema: WorkloadBodySchema,
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
