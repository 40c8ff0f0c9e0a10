import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CLOUD_IDS, listRegions, regionDenial, type CloudId } from '../../../providers';
import { errorResponses } from '../schemas';
import type { ApiDeps } from '../types';

const RegionView = Type.Object({
  cloud: Type.String(), id: Type.String(), name: Type.String(), country: Type.String(), continent: Type.String(),
  lat: Type.Number(), lon: Type.Number(),
  /** The partition or sovereign cloud: `aws`, `aws-cn`, `aws-us-gov`, `azure`, `azure-china`, `azure-us-gov`, `alibaba`. */
  partition: Type.String(),
  access: Type.Union([Type.Literal('default'), Type.Literal('opt-in'), Type.Literal('restricted')]),
  /** Whether placement may use the region with the configured accounts. */
  usable: Type.Boolean(),
  /** Why placement may not use it (another partition, or an opt-in region not enabled). */
  unusableReason: Type.Optional(Type.String()),
  healthy: Type.Boolean(),
  breaker: Type.Union([Type.Literal('closed'), Type.Literal('open')]),
  lastError: Type.Optional(Type.String()),
  /** Instance types (or the whole region, `*`) held out of placement after capacity or quota errors. */
  constrained: Type.Array(Type.Object({ size: Type.String(), reason: Type.String(), untilMs: Type.Number() })),
});

/** `GET /v1/regions`: the catalog with each region's partition, whether the accounts can use it, health and breaker state. */
export const regionRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { cloud?: CloudId } }>('/v1/regions', {
    schema: {
      operationId: 'listRegions',
      summary: 'Every region of the catalog with health, breaker state and capacity constraints', tags: ['regions'],
      querystring: Type.Object({ cloud: Type.Optional(Type.Union(CLOUD_IDS.map((c) => Type.Literal(c)))) }),
      response: { 200: Type.Object({ items: Type.Array(RegionView) }), ...errorResponses(400) },
    },
  }, async (req) => {
    const constraints = await deps.store.listConstraints(Date.now());
    const items = listRegions(req.query.cloud).map((r) => {
      const h = deps.scheduler.health.state(r.cloud, r.id);
      const denied = regionDenial(deps.account ?? {}, r);
      return {
        cloud: r.cloud, id: r.id, name: r.name, country: r.country, continent: r.continent, lat: r.lat, lon: r.lon,
        partition: r.partition, access: r.access, usable: !denied, ...(denied ? { unusableReason: denied.reason } : {}),
        healthy: h.healthy, breaker: h.breaker, ...(h.lastError && !h.healthy ? { lastError: h.lastError } : {}),
        constrained: constraints.filter((c) => c.cloud === r.cloud && c.region === r.id)
          .map((c) => ({ size: c.size || '*', reason: c.reason, untilMs: c.untilMs })),
      };
    });
    return { items };
  });
};
