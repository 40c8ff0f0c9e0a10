import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { tryFindRegion } from '../../../providers';
import { ApiError, invalid, type Issue } from '../errors';
import { PlacementSchema, RejectionSchema, errorResponses } from '../schemas';
import type { ApiDeps } from '../types';

const PlanAnswer = Type.Object({
  ok: Type.Boolean(),
  placement: Type.Optional(PlacementSchema),
  /** Per assignment: region details and the cost of its replicas. */
  regions: Type.Optional(Type.Array(Type.Object({
    cloud: Type.String(), region: Type.String(), name: Type.String(), size: Type.String(), replicas: Type.Integer(),
    usdPerHour: Type.Number(), totalUsdPerHour: Type.Number(),
  }))),
  usdPerHour: Type.Optional(Type.Number()),
  constraint: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  rejected: Type.Array(RejectionSchema),
});

/** `POST /v1/plan`: a dry run of placement, with the cost and every left-out region's reasons. */
export const planRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const { store, scheduler, validation } = deps;
  app.post<{ Body: { workload: unknown; policy?: unknown } }>('/v1/plan', {
    schema: {
      operationId: 'plan',
      summary: 'Dry run: where a workload would go, what it costs per hour, and why each other region was left out',
      tags: ['plan'],
      body: Type.Object({
        workload: validation.workloadSchema,
        policy: Type.Optional(validation.policySchema),
      }, { additionalProperties: false, description: 'the workload, and optionally the policy to use instead of the stored one it names' }),
      response: { 200: PlanAnswer, ...errorResponses(400, 404) },
    },
  }, async (req) => {
    const w = validation.parseWorkload(req.body.workload);
    const issues: Issue[] = [];
    if (!w.ok) issues.push(...w.errors.map((e) => ({ path: `/workload${e.path}`, message: e.message })));
    let policyDoc: unknown;
    if (req.body.policy !== undefined) {
      const p = validation.parsePolicy(req.body.policy);
      if (!p.ok) issues.push(...p.errors.map((e) => ({ path: `/policy${e.path}`, message: e.message })));
      else policyDoc = p.value;
    }
    if (issues.length || !w.ok) throw invalid('plan request', issues);
    if (policyDoc === undefined) {
      const stored = await store.getPolicy(w.value.policy);
      if (!stored) throw new ApiError('MERIDIAN_ERR_NOT_FOUND', `policy '${w.value.policy}' does not exist; apply it or pass it as "policy"`);
      policyDoc = stored.spec;
    }
    const result = await scheduler.plan(w.value, policyDoc);
    if (!result.ok) return { ok: false, constraint: result.constraint, reason: result.reason, rejected: result.rejected };
    return {
      ok: true,
      placement: result.placement,
      usdPerHour: result.placement.usdPerHour,
      regions: result.placement.assignments.map((a) => ({
        cloud: a.cloud, region: a.region, name: tryFindRegion(a.cloud, a.region)?.name ?? a.region, size: a.size, replicas: a.replicas,
        usdPerHour: a.usdPerHour, totalUsdPerHour: Math.round(a.usdPerHour * a.replicas * 10_000) / 10_000,
      })),
      rejected: result.rejected,
    };
  });
};
