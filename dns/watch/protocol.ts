import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { CLOUD_IDS } from '../../providers';
import '../formats';

/** Schema of one workload's endpoints as the scheduler's watch stream sends them. */
export const WorkloadEndpointsSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  dns: Type.Union([Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }), ttl: Type.Integer({ minimum: 0 }) }), Type.Null()]),
  residency: Type.Union([Type.Object({
    countries: Type.Optional(Type.Array(Type.String())),
    continents: Type.Optional(Type.Array(Type.String())),
  }), Type.Null()]),
  regions: Type.Array(Type.Object({
    cloud: Type.Union(CLOUD_IDS.map((c) => Type.Literal(c))),
    region: Type.String({ minLength: 1 }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    country: Type.String(),
    continent: Type.String(),
    healthy: Type.Boolean(),
    instances: Type.Array(Type.Object({
      id: Type.String(),
      ipv4: Type.Optional(Type.String({ format: 'ipv4' })),
      ipv6: Type.Optional(Type.String({ format: 'ipv6' })),
      healthy: Type.Boolean(),
    })),
  })),
});

/** One workload's DNS name, residency and regions with instances (see the watch protocol). */
export type WorkloadEndpoints = Static<typeof WorkloadEndpointsSchema>;

/** `snapshot` event data: the full state at `revision`. */
export const SnapshotEventSchema = Type.Object({
  revision: Type.Integer(),
  /** The scheduler state's identity: a snapshot with another one comes from a recreated or restored state. */
  stateId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  workloads: Type.Array(WorkloadEndpointsSchema),
});
/** `upsert` event data. */
export const UpsertEventSchema = Type.Object({ revision: Type.Integer(), workload: WorkloadEndpointsSchema });
/** `delete` event data. */
export const DeleteEventSchema = Type.Object({ revision: Type.Integer(), name: Type.String({ minLength: 1 }) });

/** A decoded watch event. */
export type WatchEvent =
  | { readonly type: 'snapshot'; readonly revision: number; readonly stateId?: string; readonly workloads: readonly WorkloadEndpoints[] }
  | { readonly type: 'upsert'; readonly revision: number; readonly workload: WorkloadEndpoints }
  | { readonly type: 'delete'; readonly revision: number; readonly name: string };

/** Raised for an event whose data does not match the protocol; names the first problem. */
export class WatchProtocolError extends Error {
  override readonly name = 'WatchProtocolError';
  readonly code = 'DNS_ERR_WATCH_PROTOCOL';
}

/** Checkers compiled once per schema: a snapshot's every workload is checked, and the compiled check is several times faster. */
const compiled = new Map<TSchema, TypeCheck<TSchema>>();

function check<T>(schema: TSchema, value: unknown, what: string): T {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    compiled.set(schema, checker);
  }
  if (checker.Check(value)) return value as T;
  const first = [...Value.Errors(schema, value)][0];
  throw new WatchProtocolError(`bad ${what} event: ${first ? `${first.path || '/'}: ${first.message}` : 'invalid'}`);
}

/** Parses one SSE event (name + data line) into a `WatchEvent`; undefined for unknown event names. */
export function parseWatchEvent(event: string, data: string): WatchEvent | undefined {
  if (event !== 'snapshot' && event !== 'upsert' && event !== 'delete') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (e) {
    throw new WatchProtocolError(`bad ${event} event: data is not JSON (${(e as Error).message})`);
  }
  switch (event) {
    case 'snapshot': {
      const v = check<Static<typeof SnapshotEventSchema>>(SnapshotEventSchema, json, event);
      return { type: 'snapshot', revision: v.revision, stateId: v.stateId, workloads: v.workloads };
    }
    case 'upsert': {
      const v = check<Static<typeof UpsertEventSchema>>(UpsertEventSchema, json, event);
      return { type: 'upsert', revision: v.revision, workload: v.workload };
    }
    case 'delete': {
      const v = check<Static<typeof DeleteEventSchema>>(DeleteEventSchema, json, event);
      return { type: 'delete', revision: v.revision, name: v.name };
    }
  }
}

const WorkloadListSchema = Type.Array(WorkloadEndpointsSchema);

/** Validates a list of workloads (e.g. from options or the snapshot file); throws naming the first problem. */
export function checkWorkloads(value: unknown, what: string): WorkloadEndpoints[] {
  return check<WorkloadEndpoints[]>(WorkloadListSchema, value, what);
}
