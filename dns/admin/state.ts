import type { AdminContext } from './http';

/**
 * `GET /state`: the served revision and state identity, and the state held back, if any (see
 * `StateGuard`). `POST /state/confirm`: serve the held state now. True when the route was one of these.
 */
export function handleStateRoute(ctx: AdminContext, method: string, path: string, send: (status: number, body: unknown) => void): boolean {
  if (path === '/state') {
    if (method !== 'GET' && method !== 'HEAD') send(405, { error: 'method not allowed: use GET', code: 'DNS_ERR_ADMIN_METHOD' });
    else send(200, { revision: ctx.store.revision, stateId: ctx.store.stateId ?? null, stateLost: ctx.store.stateLost, pending: ctx.guard.pending() ?? null });
    return true;
  }
  if (path === '/state/confirm') {
    if (method !== 'POST') send(405, { error: 'method not allowed: use POST', code: 'DNS_ERR_ADMIN_METHOD' });
    else if (ctx.guard.confirm()) send(200, { revision: ctx.store.revision, stateId: ctx.store.stateId ?? null });
    else send(409, { error: 'no scheduler state is held back', code: 'DNS_ERR_ADMIN_NOTHING_HELD' });
    return true;
  }
  return false;
}
