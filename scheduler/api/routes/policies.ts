import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { StoredPolicy } from '../../store';
import { ApiError, invalid, notFound } from '../errors';
import { AnyJson, errorResponses, NameParams } from '../schemas';
import type { ApiDeps } from '../types';

const PolicyView = Type.Object({ name: Type.String(), updatedAt: Type.String(), document: AnyJson });

/** `PUT/GET/DELETE /v1/policies/:name` and `GET /v1/policies`. */
export const policyRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const { store, scheduler, validation } = deps;
  const view = (p: StoredPolicy) => ({ name: p.name, updatedAt: p.updatedAt, document: p.spec });

  app.put<{ Params: { name: string }; Body: unknown }>('/v1/policies/:name', {
    schema: {
      summary: 'Create or replace a RegionPolicy', operationId: 'applyPolicy', tags: ['policies'], params: NameParams, body: validation.policySchema,
      response: { 200: PolicyView, 201: PolicyView, ...errorResponses(400) },
    },
  }, async (req, reply) => {
    const parsed = validation.parsePolicy(req.body);
    if (!parsed.ok) throw invalid('policy', parsed.errors);
    if (parsed.value.metadata.name !== req.params.name) {
      throw invalid('policy', [{ path: '/metadata/name', message: `must equal the name in the URL, '${req.params.name}'` }]);
    }
    const { policy, created, changed } = await store.putPolicy(req.params.name, parsed.value);
    // A policy change re-evaluates every workload under it.
    if (changed) scheduler.trigger();
    return reply.status(created ? 201 : 200).send(view(policy));
  });

  app.get<{ Params: { name: string } }>('/v1/policies/:name', {
    schema: { summary: 'A RegionPolicy', operationId: 'getPolicy', tags: ['policies'], params: NameParams, response: { 200: PolicyView, ...errorResponses(404) } },
  }, async (req) => {
    const p = await store.getPolicy(req.params.name);
    if (!p) throw notFound('policy', req.params.name);
    return view(p);
  });

  app.delete<{ Params: { name: string } }>('/v1/policies/:name', {
    schema: {
      summary: 'Delete a RegionPolicy; refused (409, naming them) while workloads use it, including workloads still being deleted',
      operationId: 'deletePolicy', tags: ['policies'], params: NameParams, response: { 200: PolicyView, ...errorResponses(404, 409) },
    },
  }, async (req) => {
    const p = await store.getPolicy(req.params.name);
    if (!p) throw notFound('policy', req.params.name);
    const users = await store.workloadsUsingPolicy(req.params.name);
    if (users.length) {
      throw new ApiError('MERIDIAN_ERR_CONFLICT', `policy '${p.name}' is used by workload${users.length === 1 ? '' : 's'} ${users.map((u) => `'${u}'`).join(', ')}: ` +
        'delete them or move them to another policy first', users.map((u) => ({ path: '', message: `workload '${u}' uses this policy` })));
    }
    await store.deletePolicy(p.name);
    return view(p);
  });

  app.get('/v1/policies', {
    schema: { summary: 'Every RegionPolicy', operationId: 'listPolicies', tags: ['policies'], response: { 200: Type.Object({ items: Type.Array(PolicyView) }), ...errorResponses() } },
  }, async () => ({ items: (await store.listPolicies()).map(view) }));
};
