import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { loadAssets } from './assets';
import { readGeoDns, type GeoDnsStatus } from './geodns';
import { PAGE_HTML } from './page';

/** Options of the status page plugin. */
export interface StatusPageOptions {
  /** Base URLs of the GeoDNS admin APIs to show, read at each request (a sandbox learns its server's port late). */
  readonly geoDnsAdminUrls: () => readonly string[];
  /** How long one GeoDNS admin API may take to answer (default 2,000 ms). */
  readonly geoDnsTimeoutMs?: number;
}

/** Reads of the GeoDNS servers are shared for this long, so that many open pages cost one read. */
const GEODNS_CACHE_MS = 1_000;

/** Headers of the page: scripts and data from this origin only, never framed or referred. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const GeoDnsView = Type.Object({
  url: Type.String(),
  reachable: Type.Boolean(),
  driving: Type.Optional(Type.String()),
  channels: Type.Optional(Type.Array(Type.Object({
    name: Type.String(), kind: Type.String(), state: Type.String(), driving: Type.Boolean(),
    lastDataAt: Type.Union([Type.Number(), Type.Null()]), prefixes: Type.Number(), lastError: Type.Union([Type.String(), Type.Null()]),
  }))),
  error: Type.Optional(Type.String()),
});

/**
 * The status page: `/ui/` and its files under `/ui/assets/` (open, they hold no data), and
 * `GET /ui/api/geodns` (behind the API token like `/v1`), the channel status of the configured
 * GeoDNS servers. The page reads everything else from `/v1` with the token the operator logs in with.
 */
export const statusPage: FastifyPluginAsync<StatusPageOptions> = async (app, opts) => {
  const assets = loadAssets();
  const timeoutMs = opts.geoDnsTimeoutMs ?? 2_000;
  let cached: { at: number; key: string; value: Promise<GeoDnsStatus[]> } | undefined;

  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/', 308));

  app.get('/ui/', { schema: { hide: true } }, async (_req, reply) =>
    reply.headers({ ...PAGE_HEADERS, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8').send(Buffer.from(PAGE_HTML)));

  app.get<{ Params: { file: string } }>('/ui/assets/:file', {
    schema: { hide: true, params: Type.Object({ file: Type.String({ pattern: '^[a-z0-9.-]{1,64}$' }) }) },
  }, async (req, reply) => {
    const asset = assets.get(req.params.file);
    if (!asset) return reply.status(404).type('text/plain; charset=utf-8').send('not found');
    return reply.headers({ 'x-content-type-options': 'nosniff', 'cache-control': asset.cacheControl }).type(asset.contentType).send(asset.body);
  });

  app.get('/ui/api/geodns', {
    schema: {
      summary: 'Channel status of the GeoDNS servers the status page shows (`ui.geoDnsAdminUrls`)', operationId: 'getStatusPageGeoDns', tags: ['status page'],
      response: { 200: Type.Object({ items: Type.Array(GeoDnsView) }) },
    },
  }, async () => {
    const urls = [...new Set(opts.geoDnsAdminUrls())];
    const key = urls.join(' ');
    const now = Date.now();
    if (!cached || cached.key !== key || now - cached.at > GEODNS_CACHE_MS) {
      cached = { at: now, key, value: Promise.all(urls.map((u) => readGeoDns(u, timeoutMs))) };
    }
    return { items: await cached.value };
  });
};
