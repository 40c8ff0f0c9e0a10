import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors';

/** Paths open without a token: probes, the API's own documentation and the status page's files (its data needs the token). */
const OPEN = [/^\/healthz(\?|$)/, /^\/readyz(\?|$)/, /^\/metrics(\?|$)/, /^\/docs(\/|\?|$)/, /^\/ui\/?(\?|$)/, /^\/ui\/assets\//];

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Requires `Authorization: Bearer <token>` on every route but the open ones. */
export function installAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (req) => {
    if (OPEN.some((re) => re.test(req.url))) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests in constant time so the token's length and prefix do not leak.
    if (!m || !timingSafeEqual(digest(m[1].trim()), expected)) {
      throw new ApiError('MERIDIAN_ERR_UNAUTHORIZED', m ? 'the bearer token is not valid' : 'missing Authorization: Bearer <token> header');
    }
  });
}
