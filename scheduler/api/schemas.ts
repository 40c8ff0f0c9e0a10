import { Type } from '@sinclair/typebox';
import { STATUS_REASON_CODES } from '../reconciler';

/** The body of every error answer. */
export const ErrorBody = Type.Object({
  error: Type.String({ description: 'a stable MERIDIAN_ERR_* code' }),
  message: Type.String(),
  errors: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
}, { $id: 'Error' });

/** `:name` path parameter. */
export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) });

/** Standard error responses of authenticated routes. */
export const errorResponses = (...codes: number[]) =>
  Object.fromEntries([401, ...codes].map((c) => [c, Type.Ref('Error')]));

/** Any JSON value (documents echoed back as stored). */
export const AnyJson = Type.Unknown();

/** Counts of a workload's instances. */
export const StatusSchema = Type.Object({
  desired: Type.Integer(), ready: Type.Integer(), pending: Type.Integer(), terminating: Type.Integer(),
  converged: Type.Boolean(), placementError: Type.Optional(Type.String()),
  reasons: Type.Array(Type.Object({
    code: Type.Union(STATUS_REASON_CODES.map((c) => Type.Literal(c))),
    cloud: Type.Optional(Type.String()), region: Type.Optional(Type.String()), message: Type.String(),
    until: Type.Optional(Type.String({ description: 'when a cool-down or quota exclusion ends' })),
  }), { description: 'why the workload is not converged, per region; empty when it is' }),
  observedGeneration: Type.Integer({ description: 'the spec generation the reconciler last acted on; counts of an older one do not describe this spec' }),
});

/** One replica group of a placement. */
export const AssignmentSchema = Type.Object({
  cloud: Type.String(), region: Type.String(), size: Type.String(), replicas: Type.Integer(), usdPerHour: Type.Number(),
});

/** A placement. */
export const PlacementSchema = Type.Object({
  workload: Type.String(), assignments: Type.Array(AssignmentSchema), usdPerHour: Type.Number(),
});

/** Why a region was left out. */
export const RejectionSchema = Type.Object({ cloud: Type.String(), region: Type.String(), rule: Type.String(), reason: Type.String() });

/** A workload as the API returns it. */
export const WorkloadView = Type.Object({
  name: Type.String(),
  spec: AnyJson,
  generation: Type.Integer(),
  updatedAt: Type.String(),
  deleting: Type.Boolean(),
  status: StatusSchema,
  placement: Type.Union([PlacementSchema, Type.Null()]),
});
