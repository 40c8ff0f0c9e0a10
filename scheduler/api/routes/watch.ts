import type { FastifyPluginAsync } from 'fastify';
import { encodeSse, type WatchEvent } from '../../watch';
import { errorResponses } from '../schemas';
import type { ApiDeps } from '../types';

/**
 * `GET /v1/watch`: Server-Sent Events of every workload's placement and healthy addresses: a full
 * snapshot first, then one event per change, and a `: ping` comment to keep idle proxies open.
 */
export const watchRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/v1/watch', {
    schema: {
      summary: 'Stream of workload endpoints (text/event-stream): snapshot, then upsert and delete events', tags: ['watch'],
      produces: ['text/event-stream'],
      response: { 200: { description: 'an event stream that stays open', type: 'string' }, ...errorResponses() },
    },
  }, async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (e: WatchEvent) => { res.write(encodeSse(e)); };
    const { snapshot, unsubscribe } = deps.watch.subscribe(send);
    send(snapshot);
    const ping = setInterval(() => { res.write(': ping\n\n'); }, deps.watchPingSeconds * 1000);
    const close = () => { clearInterval(ping); unsubscribe(); };
    req.raw.on('close', close);
    res.on('close', close);
    res.on('error', close);
  });
};
