import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, type Issue } from './errors';

interface AjvIssue { instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }

/** Turns ajv's errors into issues with JSON pointers (a missing property points at itself). */
function ajvIssues(errors: readonly AjvIssue[], context: string | undefined): Issue[] {
  // An `if` error only says that the branch taken failed: that branch's own errors say how.
  return errors.filter((e) => e.keyword !== 'if').map((e) => {
    let path = e.instancePath ?? '';
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') path += `/${e.params.missingProperty}`;
    if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') path += `/${e.params.additionalProperty}`;
    const where = context && context !== 'body' ? `${context}: ` : '';
    return { path, message: `${where}${e.message ?? 'is invalid'}` };
  });
}

/** The one place where errors become HTTP statuses and `{ error, message, errors }` bodies. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(async (err: FastifyError & { validation?: AjvIssue[]; validationContext?: string }, _req, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.statusCode).send({ error: err.code, message: err.message, errors: err.issues });
    }
    if (err.validation) {
      const issues = ajvIssues(err.validation, err.validationContext);
      return reply.status(400).send({ error: 'MERIDIAN_ERR_INVALID', message: `invalid ${err.validationContext ?? 'request'}`, errors: issues });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({ error: 'MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE', message: err.message, errors: [] });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Malformed JSON, empty bodies, oversized bodies: fastify's own 4xx.
      return reply.status(err.statusCode).send({ error: 'MERIDIAN_ERR_MALFORMED', message: err.message, errors: [{ path: '', message: err.message }] });
    }
    reply.log.error(err);
    return reply.status(500).send({ error: 'MERIDIAN_ERR_INTERNAL', message: 'internal error', errors: [] });
  });
  app.setNotFoundHandler(async (req, reply) => reply.status(404).send({ error: 'MERIDIAN_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}`, errors: [] }));
}
