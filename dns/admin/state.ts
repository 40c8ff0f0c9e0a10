import { errorAnswer } from '../../common';
import type { AdminContext } from './http';

/**
 * `GET /state`: the served revision and state identity, and the state held back, if any (see
 * `StateGuard`). `POST /state/confirm`: serve the held state now. True when the route was one of these.
 */
export function handleStateRoute(ctx: AdminContext, method: string, path: string, send: (status: number, body: unknown) => void): boolean {
  const fail = (...args: Parameters<typeof errorAnswer>): void => { const { status, body } = errorAnswer(...args); send(status, body); };
  if (path === '/state') {
    if (method !== 'GET' && method !== 'HEAD') fail('MERIDIAN_ERR_METHOD_NOT_ALLOWED', `method ${method} not allowed on ${path}: use GET`);
    else send(200, { revision: ctx.store.revision, stateId: ctx.store.stateId ?? null, stateLost: ctx.store.stateLost, pending: ctx.guard.pending() ?? null });
    return true;
  }
  if (path === '/state/confirm') {
    if (method !== 'POST') fail('MERIDIAN_ERR_METHOD_NOT_ALLOWED', `method ${method} not allowed on ${path}: use POST`);
    else if (ctx.guard.confirm()) send(200, { revision: ctx.store.revision, stateId: ctx.store.stateId ?? null });
    else fail('MERIDIAN_ERR_CONFLICT', 'no scheduler state is held back');
    return true;
  }
  return false;
}
