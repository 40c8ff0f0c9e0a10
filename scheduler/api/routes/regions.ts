import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { listRegions, type CloudId } from '../../../providers';
import { errorResponses } from '../schemas';
import type { ApiDeps } from '../types';

const RegionView = Type.Object({
  cloud: Type.String(), id: Type.String(), name: Type.String(), country: Type.String(), continent: Type.String(),
  lat: Type.Number(), lon: Type.Number(),
  healthy: Type.Boolean(),
  breaker: Type.Union([Type.Literal('closed'), Type.Literal('open')]),
  lastError: Type.Optional(Type.String()),
  /** Instance types (or the whole region, `*`) held out of placement after capacity or quota errors. */
  constrained: Type.Array(Type.Object({ size: Type.String(), reason: Type.String(), untilMs: Type.Number() })),
});

/** `GET /v1/regions`: the catalog with each region's health and breaker state. */
export const regionRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { cloud?: CloudId } }>('/v1/regions', {
    schema: {
      operationId: 'listRegions',
      summary: 'Every region of the catalog with health, breaker state and capacity constraints', tags: ['regions'],
      querystring: Type.Object({ cloud: Type.Optional(Type.Union([Type.Literal('aws'), Type.Literal('azure'), Type.Literal('alibaba')])) }),
      response: { 200: Type.Object({ items: Type.Array(RegionView) }), ...errorResponses(400) },
    },
  }, async (req) => {
    const constraints = deps.store.listConstraints(Date.now());
    const items = listRegions(req.query.cloud).map((r) => {
      const h = deps.scheduler.health.state(r.cloud, r.id);
      return {
        cloud: r.cloud, id: r.id, name: r.name, country: r.country, continent: r.continent, lat: r.lat, lon: r.lon,
        healthy: h.healthy, breaker: h.breaker, ...(h.lastError && !h.healthy ? { lastError: h.lastError } : {}),
        constrained: constraints.filter((c) => c.cloud === r.cloud && c.region === r.id)
          .map((c) => ({ size: c.size || '*', reason: c.reason, untilMs: c.untilMs })),
      };
    });
    return { items };
  });
};
