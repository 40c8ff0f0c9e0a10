import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { StoredWorkload } from '../../store';
import { invalid, notFound } from '../errors';
import { errorResponses, NameParams, WorkloadView } from '../schemas';
import type { ApiDeps } from '../types';

type Params = { name: string };

/** `PUT/GET/DELETE /v1/workloads/:name` and `GET /v1/workloads`. */
export const workloadRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const { store, scheduler, validation } = deps;
  const view = (w: StoredWorkload) => ({
    name: w.name, spec: w.spec, generation: w.generation, updatedAt: w.updatedAt, deleting: w.deletedAt !== undefined,
    status: scheduler.status(w.name) ?? { desired: 0, ready: 0, pending: 0, terminating: 0, converged: false },
    placement: w.applied ?? null,
  });

  app.put<{ Params: Params; Body: unknown }>('/v1/workloads/:name', {
    schema: {
      summary: 'Create or update a workload', tags: ['workloads'], params: NameParams, body: validation.workloadSchema,
      response: { 200: WorkloadView, 201: WorkloadView, ...errorResponses(400) },
    },
  }, async (req, reply) => {
    const parsed = validation.parseWorkload(req.body);
    if (!parsed.ok) throw invalid('workload', parsed.errors);
    if (parsed.value.name !== req.params.name) {
      throw invalid('workload', [{ path: '/name', message: `must equal the name in the URL, '${req.params.name}'` }]);
    }
    const { workload, created, changed } = store.putWorkload(parsed.value);
    if (changed) scheduler.trigger();
    return reply.status(created ? 201 : 200).send(view(workload));
  });

  app.get<{ Params: Params }>('/v1/workloads/:name', {
    schema: { summary: 'A workload with its placement and status', tags: ['workloads'], params: NameParams, response: { 200: WorkloadView, ...errorResponses(404) } },
  }, async (req) => {
    const w = store.getWorkload(req.params.name);
    if (!w) throw notFound('workload', req.params.name);
    return view(w);
  });

  app.get('/v1/workloads', {
    schema: { summary: 'Every workload', tags: ['workloads'], response: { 200: Type.Object({ items: Type.Array(WorkloadView) }), ...errorResponses() } },
  }, async () => ({ items: store.listWorkloads().map(view) }));

  app.delete<{ Params: Params }>('/v1/workloads/:name', {
    schema: {
      summary: 'Delete a workload: its instances are terminated, then it is forgotten', tags: ['workloads'], params: NameParams,
      response: { 202: WorkloadView, ...errorResponses(404) },
    },
  }, async (req, reply) => {
    const w = store.getWorkload(req.params.name);
    if (!w || w.deletedAt) throw notFound('workload', req.params.name);
    store.markWorkloadDeleted(req.params.name);
    scheduler.trigger();
    return reply.status(202).send(view(store.getWorkload(req.params.name) ?? w));
  });
};
