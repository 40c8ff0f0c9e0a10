import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installAuth } from './auth';
import { installErrorHandler } from './error-handler';
import { policyRoutes } from './routes/policies';
import { planRoutes } from './routes/plan';
import { regionRoutes } from './routes/regions';
import { systemRoutes } from './routes/system';
import { watchRoutes } from './routes/watch';
import { workloadRoutes } from './routes/workloads';
import { ErrorBody } from './schemas';
import type { Metrics } from '../metrics';
import type { ApiDeps } from './types';

/** Builds the scheduler's HTTP API (not listening: use `inject()` in tests, `listen()` to serve). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    // One line per request comes from the onResponse hook below, not fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    // A caller's X-Request-Id (a proxy's, another service's) names the request in the log line.
    requestIdHeader: 'x-request-id',
    // Report every schema error, never coerce or silently drop what the client sent.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: false } },
    bodyLimit: 1024 * 1024,
    // Watch streams never end on their own: close them with the server.
    forceCloseConnections: true,
  });
  app.addSchema(ErrorBody);
  installRequestLog(app, deps.metrics);
  installErrorHandler(app);
  await app.register(swagger, {
    // Shared schemas keep their own names (`#/components/schemas/Error`).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, as the routes' TypeBox schemas are (numeric
      // exclusiveMinimum, `type: 'null'`).
      openapi: '3.1.0',
      info: { title: 'Meridian scheduler API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  installAuth(app, deps.token);
  await app.register(systemRoutes, deps);
  await app.register(workloadRoutes, deps);
  await app.register(policyRoutes, deps);
  await app.register(planRoutes, deps);
  await app.register(regionRoutes, deps);
  await app.register(watchRoutes, deps);
  return app;
}

/**
 * One log line and one histogram observation per answered request: method, route (the pattern,
 * `/v1/workloads/:name`, so that series stay few), status, latency. Headers are never logged, so
 * neither is the bearer token.
 */
function installRequestLog(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    metrics.observe('meridian_http_request_duration_seconds', 'Scheduler API request latency, seconds, by route, method and status.',
      { method: req.method, route, status: String(status) }, seconds);
    const level = status >= 500 ? 'error' : 'info';
    req.log[level]({ method: req.method, route, url: req.url.split('?')[0], status, latencyMs: Math.round(reply.elapsedTime * 1000) / 1000 }, 'request');
    done();
  });
}
