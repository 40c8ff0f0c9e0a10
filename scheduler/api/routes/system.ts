import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../types';

/** `/healthz` and `/metrics`, open without a token. */
export const systemRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness', tags: ['system'], security: [], response: { 200: Type.Object({ ok: Type.Boolean(), revision: Type.Integer() }) } },
  }, async () => ({ ok: true, revision: deps.store.currentRevision() }));

  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics', tags: ['system'], security: [], produces: ['text/plain'], response: { 200: Type.String() } },
  }, async (_req, reply) => reply.type('text/plain; version=0.0.4').send(deps.metrics.expose()));
};
