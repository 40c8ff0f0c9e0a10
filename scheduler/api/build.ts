import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { installAuth } from './auth';
import { installErrorHandler } from './error-handler';
import { policyRoutes } from './routes/policies';
import { planRoutes } from './routes/plan';
import { regionRoutes } from './routes/regions';
import { systemRoutes } from './routes/system';
import { watchRoutes } from './routes/watch';
import { workloadRoutes } from './routes/workloads';
import { ErrorBody } from './schemas';
import type { ApiDeps } from './types';

/** Builds the scheduler's HTTP API (not listening: use `inject()` in tests, `listen()` to serve). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    // Report every schema error, never coerce or silently drop what the client sent.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: false } },
    bodyLimit: 1024 * 1024,
    // Watch streams never end on their own: close them with the server.
    forceCloseConnections: true,
  });
  app.addSchema(ErrorBody);
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
