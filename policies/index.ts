/** The region-policy language: schema, validation, multi-document loading and pure evaluation. */
export {
  API_VERSION, CloudRulesSchema, CloudWeightsSchema, DemandSchema, FailoverSchema, MetadataSchema, NameSchema, ObjectiveSchema,
  RegionPolicySchema, RegionPolicySpecSchema, RegionRulesSchema, RegionWeightsSchema, ResidencySchema, SizeRequestSchema,
  SpreadSchema, WorkloadDnsSchema, WorkloadDocumentSchema, WorkloadSchema,
  type Objective, type RegionPolicy, type RegionPolicySpec, type WeightLevel, type WorkloadDocument, type WorkloadInput,
} from './schema';
export type { ParseResult, ValidationError } from './schema-errors';
export { parsePolicy, parseWorkload, type ParseOptions } from './validate';
export { loadDocuments, type DocumentError, type LoadedDocuments, type LoadOptions, type LoadResult } from './documents';
export { compareScored, evaluate, policyRejections, type Candidate, type Evaluation, type PolicyRejection, type ScoredCandidate } from './evaluate';
export { compilePolicy, maxPerRegionFor, type CompiledPolicy, type MaxPerRegion } from './compile';
export { countryLocation, isKnownCountry, type LatLon } from './countries';
