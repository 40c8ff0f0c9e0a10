import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from '../errors';
import type { ApiDeps } from '../types';

/** The leader lease of schedulers sharing one state, as `/healthz` and `/readyz` show it. */
const LeaseBody = Type.Optional(Type.Object({
  role: Type.Union([Type.Literal('leader'), Type.Literal('follower')], { description: 'leader: reconciles; follower: serves the API and watch stream only' }),
  self: Type.String(),
  holder: Type.Optional(Type.String()),
  token: Type.Optional(Type.Integer()),
  renewedSecondsAgo: Type.Optional(Type.Number()),
}));

/** `/healthz`, `/readyz` and `/metrics`, open without a token. */
export const systemRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/healthz', {
    schema: {
      summary: 'Liveness: the process answers', operationId: 'getHealth', tags: ['system'], security: [],
      response: { 200: Type.Object({ ok: Type.Boolean(), revision: Type.Integer(), lease: LeaseBody }) },
    },
  }, async () => {
    const lease = await deps.scheduler.lease?.();
    return { ok: true, revision: await deps.store.currentRevision(), ...(lease ? { lease } : {}) };
  });

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: the store answers and the reconciler runs (503 with every reason otherwise)', operationId: 'getReadiness',
      tags: ['system'], security: [], response: { 200: Type.Object({ ready: Type.Boolean(), revision: Type.Integer(), lease: LeaseBody }), 503: Type.Ref('Error') },
    },
  }, async () => {
    // Reading the revision is a query: a store that cannot answer throws here.
    const revision = await deps.store.currentRevision();
    const reasons = deps.scheduler.notReady();
    if (reasons.length) throw new ApiError('MERIDIAN_ERR_NOT_READY', `not ready: ${reasons.join('; ')}`, reasons.map((message) => ({ path: '', message })));
    const lease = await deps.scheduler.lease?.();
    return { ready: true, revision, ...(lease ? { lease } : {}) };
  });

  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics', operationId: 'getMetrics', tags: ['system'], security: [], produces: ['text/plain'],
      response: { 200: Type.String() },
    },
  }, async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.expose()));
};
