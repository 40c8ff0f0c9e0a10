import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { WatchResume } from '../../watch';
import { errorResponses } from '../schemas';
import type { ApiDeps } from '../types';

/** A watcher this far behind (bytes queued on its socket) is cut off: it reconnects and catches up. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;

const WatchQuery = Type.Object({
  stateId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the `stateId` of the snapshot the watcher applied' })),
  since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the last revision the watcher applied (or send it as `Last-Event-ID`)' })),
});

/** Resolves once the socket can take more, or is gone. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * `GET /v1/watch`: Server-Sent Events of every workload's placement and healthy addresses: a full
 * snapshot first (streamed as it is produced), then one event per change, and a `: ping` comment
 * to keep idle proxies open. A watcher that gives the `stateId` it holds and the last revision it
 * applied (`since`, or the `Last-Event-ID` header) gets only the events it missed when they are
 * still kept, and a full snapshot otherwise.
 */
export const watchRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { stateId?: string; since?: string } }>('/v1/watch', {
    schema: {
      operationId: 'watch',
      summary: 'Stream of workload endpoints (text/event-stream): snapshot (or the missed events), then upsert and delete events', tags: ['watch'],
      produces: ['text/event-stream'],
      querystring: WatchQuery,
      response: { 200: { description: 'an event stream that stays open', type: 'string' }, ...errorResponses(400) },
    },
  }, async (req, reply) => {
    const lastEventId = req.headers['last-event-id'];
    const revision = req.query.since ?? (typeof lastEventId === 'string' && /^[0-9]{1,15}$/.test(lastEventId) ? lastEventId : undefined);
    const since = revision === undefined ? undefined : Number(revision);
    const resume: WatchResume | undefined = req.query.stateId !== undefined && since !== undefined ? { stateId: req.query.stateId, since } : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    let live = false;
    const queued: Buffer[] = [];
    const send = (frame: string | Buffer) => {
      if (closed) return;
      res.write(frame);
      if (res.writableLength > MAX_QUEUED_BYTES) res.destroy();
    };
    const stream = deps.watch.open((frame) => { if (live) send(frame); else queued.push(frame); }, resume);
    // A ping inside a snapshot's data line would break it: pings start with the live events.
    const ping = setInterval(() => { if (live) send(': ping\n\n'); }, deps.watchPingSeconds * 1000);
    const close = () => { closed = true; clearInterval(ping); stream.unsubscribe(); };
    req.raw.on('close', close);
    res.on('close', close);
    res.on('error', close);
    // Written as produced, at the pace the socket takes it; live events wait behind it in order.
    for (const chunk of stream.initial) {
      if (closed) return;
      if (!res.write(chunk)) await writable(res);
    }
    for (const frame of queued) send(frame);
    queued.length = 0;
    live = true;
  });
};
