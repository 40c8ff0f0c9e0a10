import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { CLOUD_IDS, type CloudId } from '../providers';

/** The API version every Meridian document carries. */
export const API_VERSION = 'meridian/v1';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
// RFC 1035 section 2.3.4: labels of at most 63 octets, the whole name at most 253 characters written out.
const FQDN = '^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$';
const CLOUD_PATTERN = '^[a-z*?]+$';
// An optional `cloud:` qualifier, then a region id or a glob with `*` and `?`.
const REGION_PATTERN = '^([a-z]+:)?[a-z0-9*?-]+$';
const REGION_REF = '^([a-z]+:)?[a-z0-9-]+$';
const PERCENT = '^[0-9]+(\\.[0-9]+)?%$';

/** A DNS label: lowercase letters, digits and inner hyphens, 1-63 characters. */
export const NameSchema = Type.String({ pattern: DNS_LABEL, description: 'a DNS label: lowercase letters, digits and inner hyphens, 1-63 characters' });

const CountryCode = Type.String({ pattern: '^[A-Z]{2}$', description: 'an ISO 3166-1 alpha-2 country code such as DE' });
const ContinentCode = Type.Union(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'].map((c) => Type.Literal(c)), {
  description: 'a continent code: AF, AN, AS, EU, NA, OC or SA',
});
const CloudPattern = Type.String({ pattern: CLOUD_PATTERN, description: `a cloud id (${CLOUD_IDS.join(', ')}) or a wildcard such as "a*"` });
const RegionPattern = Type.String({
  pattern: REGION_PATTERN, description: 'a region id or wildcard such as "eu-*", optionally qualified by cloud as "aws:eu-*"',
});
const RegionRef = Type.String({ pattern: REGION_REF, description: 'a region id, optionally qualified by cloud as "aws:eu-central-1"' });

function allowDeny<T extends TSchema>(item: T, what: string) {
  return Type.Object({
    allow: Type.Optional(Type.Array(item, { minItems: 1, description: `${what} that may be used; absent means all` })),
    deny: Type.Optional(Type.Array(item, { description: `${what} that must not be used; deny wins over allow` })),
  }, { additionalProperties: false, minProperties: 1, description: `an object with allow and/or deny lists of ${what}` });
}

/** Which clouds a policy may use. */
export const CloudRulesSchema = allowDeny(CloudPattern, 'clouds');
/** Which regions a policy may use, by id or wildcard. */
export const RegionRulesSchema = allowDeny(RegionPattern, 'regions');

/** Data residency: a region qualifies when its country or its continent is listed. */
export const ResidencySchema = Type.Object({
  countries: Type.Optional(Type.Array(CountryCode, { minItems: 1, description: 'a non-empty list of ISO 3166-1 alpha-2 country codes' })),
  continents: Type.Optional(Type.Array(ContinentCode, { minItems: 1, description: 'a non-empty list of continent codes (AF AN AS EU NA OC SA)' })),
}, { additionalProperties: false, minProperties: 1, description: 'an object with countries and/or continents' });

/** Hard spread constraints: a placement that misses one is not made at all. */
export const SpreadSchema = Type.Object({
  minClouds: Type.Optional(Type.Integer({ minimum: 1, description: 'an integer >= 1' })),
  minRegions: Type.Optional(Type.Integer({ minimum: 1, description: 'an integer >= 1' })),
  maxPerRegion: Type.Optional(Type.Union([
    Type.Integer({ minimum: 1 }),
    Type.String({ pattern: PERCENT }),
  ], { description: 'an integer >= 1 or a percentage of the replicas such as "40%"' })),
}, { additionalProperties: false });

/** Relative weights of clouds: `{ by: cloud, aws: 2, azure: 1 }`; a cloud left out weighs 1, a weight of 0 excludes it. */
export const CloudWeightsSchema = Type.Object({ by: Type.Literal('cloud') }, {
  additionalProperties: Type.Number({ minimum: 0, description: 'a weight >= 0' }),
});
/** Relative weights of regions within their cloud: `{ by: region, eu-central-1: 3 }`. */
export const RegionWeightsSchema = Type.Object({ by: Type.Literal('region') }, {
  additionalProperties: Type.Number({ minimum: 0, description: 'a weight >= 0' }),
});

/** What the placement optimizes once the hard constraints hold. */
export const ObjectiveSchema = Type.Union([Type.Literal('cost'), Type.Literal('latency'), Type.Literal('balanced')], {
  description: 'one of cost, latency, balanced',
});

/** One country's share of the users. */
export const DemandSchema = Type.Object({
  country: CountryCode,
  share: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'a share in (0, 1]' }),
}, { additionalProperties: false });

/** Tiers of preferred regions, used in order; regions not listed form one last tier. */
export const FailoverSchema = Type.Object({
  order: Type.Array(Type.Array(RegionRef, { minItems: 1, description: 'a non-empty list of region ids' }), { minItems: 1, description: 'a non-empty list of tiers, each a list of regions' }),
  failback: Type.Optional(Type.Boolean({ description: 'true to move replicas back to a preferred tier when it recovers (default true)' })),
  provisionTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'seconds, 1 to 86400' })),
}, { additionalProperties: false });

/** The body of a region policy. */
export const RegionPolicySpecSchema = Type.Object({
  clouds: Type.Optional(CloudRulesSchema),
  regions: Type.Optional(RegionRulesSchema),
  residency: Type.Optional(ResidencySchema),
  spread: Type.Optional(SpreadSchema),
  weights: Type.Optional(Type.Array(Type.Union([CloudWeightsSchema, RegionWeightsSchema], {
    description: 'an object with by: cloud or by: region and numeric weights',
  }))),
  objective: Type.Optional(ObjectiveSchema),
  demand: Type.Optional(Type.Array(DemandSchema, { minItems: 1, description: 'a non-empty list of { country, share }' })),
  failover: Type.Optional(FailoverSchema),
}, { additionalProperties: false });

/** Name and labels of a document. */
export const MetadataSchema = Type.Object({
  name: NameSchema,
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
}, { additionalProperties: false });

/** A `RegionPolicy` document: where a workload may run and how its replicas are spread. */
export const RegionPolicySchema = Type.Object({
  apiVersion: Type.Literal(API_VERSION),
  kind: Type.Literal('RegionPolicy'),
  metadata: MetadataSchema,
  spec: RegionPolicySpecSchema,
}, { additionalProperties: false, title: 'RegionPolicy' });

/** A cloud-neutral size: resolved per region to the cheapest fitting instance type. */
export const SizeRequestSchema = Type.Object({
  vcpu: Type.Number({ exclusiveMinimum: 0, description: 'a number of vCPUs > 0' }),
  memoryGiB: Type.Number({ exclusiveMinimum: 0, description: 'GiB of memory > 0' }),
  arch: Type.Optional(Type.Union([Type.Literal('x86_64'), Type.Literal('arm64')], { description: 'x86_64 or arm64' })),
}, { additionalProperties: false });

/** One optional property per cloud of `CLOUD_IDS`, each with the same schema. */
function perCloud<T extends TSchema>(schema: T): { [C in CloudId]: TOptional<T> } {
  // fromEntries cannot know the keys are exactly CLOUD_IDS; they are.
  return Object.fromEntries(CLOUD_IDS.map((c) => [c, Type.Optional(schema)])) as unknown as { [C in CloudId]: TOptional<T> };
}

const PerCloudString = (what: string) => Type.Object(perCloud(Type.String({ minLength: 1 })), {
  additionalProperties: false, minProperties: 1, description: `${what} per cloud: an object with at least one of ${CLOUD_IDS.join(', ')}`,
});

/** A workload's DNS name and record TTL. */
export const WorkloadDnsSchema = Type.Object({
  name: Type.String({ pattern: FQDN, description: 'a lowercase domain name without trailing dot, such as web.example.com' }),
  ttl: Type.Integer({ minimum: 0, maximum: 86_400, description: 'seconds, 0 to 86400' }),
}, { additionalProperties: false });

const workloadSpecProperties = {
  replicas: Type.Integer({ minimum: 0, maximum: 10_000, description: 'an integer from 0 to 10000' }),
  size: Type.Union([SizeRequestSchema, PerCloudString('an instance type name')], {
    description: '{ vcpu, memoryGiB, arch? } or an instance type name per cloud',
  }),
  image: PerCloudString('an image id'),
  policy: NameSchema,
  dns: Type.Optional(WorkloadDnsSchema),
};

/** A workload as the scheduler uses it (the shape of `scheduler/placement` `Workload`). */
export const WorkloadSchema = Type.Object({ name: NameSchema, ...workloadSpecProperties }, { additionalProperties: false, title: 'Workload' });

/** A `Workload` document as written in YAML: the workload's name in `metadata`, the rest in `spec`. */
export const WorkloadDocumentSchema = Type.Object({
  apiVersion: Type.Literal(API_VERSION),
  kind: Type.Literal('Workload'),
  metadata: MetadataSchema,
  spec: Type.Object(workloadSpecProperties, { additionalProperties: false }),
}, { additionalProperties: false, title: 'WorkloadDocument' });

/** Weights of one level; every key but `by` is a cloud or region id mapped to its weight. */
export type WeightLevel =
  | ({ readonly by: 'cloud' } & Readonly<Record<string, number | 'cloud'>>)
  | ({ readonly by: 'region' } & Readonly<Record<string, number | 'region'>>);

type StaticSpec = Static<typeof RegionPolicySpecSchema>;

/** The body of a region policy, as validated. */
export type RegionPolicySpec = Omit<StaticSpec, 'weights'> & { readonly weights?: readonly WeightLevel[] };

/** A validated `RegionPolicy` document. */
export type RegionPolicy = Omit<Static<typeof RegionPolicySchema>, 'spec'> & { readonly spec: RegionPolicySpec };

/** A validated workload (assignable to `scheduler/placement` `Workload`). */
export type WorkloadInput = Static<typeof WorkloadSchema>;

/** A validated `Workload` document. */
export type WorkloadDocument = Static<typeof WorkloadDocumentSchema>;

/** The objective of a policy. */
export type Objective = Static<typeof ObjectiveSchema>;
