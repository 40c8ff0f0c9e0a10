import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { InstanceRecord, StoredWorkload } from '../../store';
import { ApiError, invalid, notFound, type Issue } from '../errors';
import { didYouMean } from '../suggest';
import { errorResponses, NameParams, WorkloadView } from '../schemas';
import type { ApiDeps } from '../types';

type Params = { name: string };

/** One instance of a workload as `GET /v1/workloads/{name}/instances` shows it. */
const InstanceView = Type.Object({
  cloud: Type.String(),
  region: Type.String(),
  id: Type.Union([Type.String(), Type.Null()], { description: "the cloud's instance id; null while the create call has not answered" }),
  state: Type.String({ description: "the cloud's lifecycle state (pending, running, ...), or creating / terminating while the scheduler's call is under way" }),
  size: Type.String(),
  addresses: Type.Object({ public: Type.Union([Type.String(), Type.Null()]), private: Type.Union([Type.String(), Type.Null()]) }),
  createdAt: Type.String({ description: 'when the scheduler decided to create it' }),
  ageSeconds: Type.Integer({ description: 'seconds since createdAt' }),
  key: Type.String({ description: 'the idempotency key the instance was created with' }),
});

/** An instance record as the API shows it: the scheduler's own step while a call is under way, else the cloud's state. */
function instanceView(r: InstanceRecord, nowMs: number): Static<typeof InstanceView> {
  const state = r.state === 'active' ? r.cloudState ?? 'unknown' : r.state;
  return {
    cloud: r.cloud, region: r.region, id: r.instanceId ?? null, state, size: r.size,
    addresses: { public: r.publicIp ?? null, private: r.privateIp ?? null },
    createdAt: new Date(r.createdAtMs).toISOString(), ageSeconds: Math.max(0, Math.floor((nowMs - r.createdAtMs) / 1000)), key: r.key,
  };
}

const Flag = Type.Union([Type.Literal('true'), Type.Literal('false')]);
const ApplyQuerySchema = Type.Object({
  awaitPolicy: Type.Optional({ ...Flag, description: 'accept a workload whose policy does not exist yet (it waits for it)' }),
  cancelDeletion: Type.Optional({ ...Flag, description: 'keep a workload that is being deleted, with this spec' }),
}, { additionalProperties: false });
type ApplyQuery = Static<typeof ApplyQuerySchema>;

/** Problems of a DNS name with the zones served: it must be a zone or lie below one. */
function dnsNameIssues(name: string, zones: readonly string[]): Issue[] {
  if (zones.length === 0 || zones.some((z) => name === z || name.endsWith(`.${z}`))) return [];
  return [{ path: '/dns/name', message: `'${name}' is outside the zones the GeoDNS serves (${zones.join(', ')})` }];
}

/** `PUT/GET/DELETE /v1/workloads/:name`, `GET /v1/workloads/:name/instances` and `GET /v1/workloads`. */
export const workloadRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const { store, scheduler, validation } = deps;
  const view = async (w: StoredWorkload) => ({
    name: w.name, spec: w.spec, generation: w.generation, updatedAt: w.updatedAt, deleting: w.deletedAt !== undefined,
    status: await scheduler.status(w.name) ?? { desired: 0, ready: 0, pending: 0, terminating: 0, converged: false, observedGeneration: 0, reasons: [] },
    // A workload on its way out has no placement, nor a cost, any more.
    placement: w.deletedAt ? null : w.applied ?? null,
  });

  app.put<{ Params: Params; Body: unknown; Querystring: ApplyQuery }>('/v1/workloads/:name', {
    schema: {
      summary: 'Create or update a workload, given flat or as a Workload document (apiVersion, kind, metadata, spec)',
      operationId: 'applyWorkload', tags: ['workloads'], params: NameParams, body: validation.workloadSchema, querystring: ApplyQuerySchema,
      response: { 200: WorkloadView, 201: WorkloadView, ...errorResponses(400, 409) },
    },
  }, async (req, reply) => {
    const parsed = validation.parseWorkload(req.body);
    if (!parsed.ok) throw invalid('workload', parsed.errors);
    const spec = parsed.value;
    if (spec.name !== req.params.name) {
      const path = typeof req.body === 'object' && req.body !== null && 'metadata' in req.body ? '/metadata/name' : '/name';
      throw invalid('workload', [{ path, message: `must equal the name in the URL, '${req.params.name}'` }]);
    }
    const prior = await store.getWorkload(spec.name);
    if (prior?.deletedAt && req.query.cancelDeletion !== 'true') {
      const s = await scheduler.status(spec.name);
      throw new ApiError('MERIDIAN_ERR_CONFLICT', `workload '${spec.name}' is being deleted (${s?.terminating ?? 0} instances terminating, ` +
        `${(s?.ready ?? 0) + (s?.pending ?? 0)} not yet): apply it again once it is gone, or pass cancelDeletion=true to keep it`);
    }
    const issues: Issue[] = [];
    if (!await store.getPolicy(spec.policy) && req.query.awaitPolicy !== 'true') {
      const guess = didYouMean(spec.policy, (await store.listPolicies()).map((p) => p.name));
      issues.push({ path: '/policy', message: `policy '${spec.policy}' does not exist${guess ? `; did you mean '${guess}'?` : ''} ` +
        '(apply the policy first, or pass awaitPolicy=true to wait for it)' });
    }
    if (spec.dns) issues.push(...dnsNameIssues(spec.dns.name, deps.dnsZones));
    if (issues.length) throw invalid('workload', issues);
    const holders = spec.dns ? (await store.listWorkloadsByDnsName(spec.dns.name)).filter((w) => w.name !== spec.name) : [];
    if (holders.length) {
      throw new ApiError('MERIDIAN_ERR_CONFLICT', `dns.name '${spec.dns?.name ?? ''}' is already served for workload '${holders[0].name}'`,
        [{ path: '/dns/name', message: `taken by workload '${holders[0].name}'` }]);
    }
    const { workload, created, changed } = await store.putWorkload(spec);
    if (changed) scheduler.trigger();
    // A deletion cancelled keeps the workload it was: 200, not a creation.
    return reply.status(created && !prior ? 201 : 200).send(await view(workload));
  });

  app.get<{ Params: Params }>('/v1/workloads/:name', {
    schema: { summary: 'A workload with its placement and status', operationId: 'getWorkload', tags: ['workloads'], params: NameParams, response: { 200: WorkloadView, ...errorResponses(404) } },
  }, async (req) => {
    const w = await store.getWorkload(req.params.name);
    if (!w) throw notFound('workload', req.params.name);
    return view(w);
  });

  app.get<{ Params: Params }>('/v1/workloads/:name/instances', {
    schema: {
      summary: 'Every instance of a workload: cloud, region, id, state, addresses and age', operationId: 'listWorkloadInstances',
      tags: ['workloads'], params: NameParams, response: { 200: Type.Object({ items: Type.Array(InstanceView) }), ...errorResponses(404) },
    },
  }, async (req) => {
    if (!await store.getWorkload(req.params.name)) throw notFound('workload', req.params.name);
    const now = Date.now();
    return { items: (await store.listRecords(req.params.name)).map((r) => instanceView(r, now)) };
  });

  app.get('/v1/workloads', {
    schema: { summary: 'Every workload', operationId: 'listWorkloads', tags: ['workloads'], response: { 200: Type.Object({ items: Type.Array(WorkloadView) }), ...errorResponses() } },
  }, async () => ({ items: await Promise.all((await store.listWorkloads()).map(view)) }));

  app.delete<{ Params: Params }>('/v1/workloads/:name', {
    schema: {
      summary: 'Delete a workload: its instances are terminated, then it is forgotten (200: the deletion was already under way)',
      operationId: 'deleteWorkload', tags: ['workloads'], params: NameParams,
      response: { 200: WorkloadView, 202: WorkloadView, ...errorResponses(404) },
    },
  }, async (req, reply) => {
    const w = await store.getWorkload(req.params.name);
    if (!w) throw notFound('workload', req.params.name);
    // Deleting twice is one deletion: 202 when this request started it, 200 when it was under way.
    const started = await store.markWorkloadDeleted(req.params.name);
    if (started) scheduler.trigger();
    return reply.status(started ? 202 : 200).send(await view(await store.getWorkload(req.params.name) ?? w));
  });
};
