import http from 'node:http';
import { errorAnswer, type ApiErrorCode, type Issue, type LineLog } from '../../common';
import type { AddressInfo } from 'node:net';
import type { GeoTable, GeoTableHolder } from '../geoip';
import { formatIpv4, mappedV4, tryParseIp } from '../geoip';
import type { WorkloadStore } from '../answer/store';
import { distanceKm, FAIL_OPEN, type Family, NO_ADDRESSES } from '../answer/select';
import { decisionOf, LOCATION_VIA, locateV4, locateV6, scopeOf } from '../answer/locate';
import type { DnsMetrics } from '../server/metrics';
import type { WatchStatus } from '../watch/client';
import type { StateGuard } from '../watch/guard';
import { handleStateRoute } from './state';
import type { GeoChannelsStatus } from '../geoip/channels/supervisor';
import type { RouteExplanation } from '../geoip/channels';
import { NO_HIJACKS } from '../geoip/channels/hijacks';

/** What the admin API may do to the GeoIP channels (the supervisor implements it). */
export interface GeoChannelsControl {
  status(): GeoChannelsStatus;
  /**
   * Pauses, resumes or fails the named channel (failing drops its data from the table). Rejects
   * with `RangeError` naming the channel when there is none of that name.
   */
  act(name: string, action: 'pause' | 'resume' | 'fail'): Promise<void>;
  /**
   * Why the routed prefix covering `address` is located where it is (the routing overlay's
   * decision); undefined when no route covers it. Absent: no routing overlay.
   */
  explain?(address: string): RouteExplanation | undefined | Promise<RouteExplanation | undefined>;
}

/** What the admin API reads. */
export interface AdminContext {
  readonly geo: GeoTableHolder;
  readonly store: WorkloadStore;
  readonly metrics: DnsMetrics;
  readonly watchStatus: () => WatchStatus | undefined;
  /** The guard over the scheduler's state (held states, confirmation). */
  readonly guard: StateGuard;
  /** The channels' supervisor; absent when the table is geoip-lite's alone. */
  readonly channels?: GeoChannelsControl;
  /** Where one line per request goes (method, route, status, latency, request id); none when absent. */
  readonly requestLog?: LineLog;
}

/** The admin API's routes, as a request's log line names them. */
const ADMIN_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/state', '/state/confirm', '/geo/channels', '/geo/lookup']);

/** The route pattern of a path (`/geo/channels/:name/:action`), so that log lines group; `unmatched` for none. */
function adminRoute(path: string): string {
  if (ADMIN_ROUTES.has(path)) return path;
  return /^\/geo\/channels\/[^/]+\/(pause|resume|fail)$/.test(path) ? '/geo/channels/:name/:action' : 'unmatched';
}

let requestCount = 0;

/** Writes the request's line once its answer is sent. A caller's X-Request-Id names it, else `admin-N`. */
function logRequest(log: LineLog, req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
  const t0 = performance.now();
  const header = req.headers['x-request-id'];
  const requestId = typeof header === 'string' && header.length > 0 && header.length <= 128 ? header : `admin-${++requestCount}`;
  res.once('finish', () => {
    const status = res.statusCode;
    log('request', status >= 500 ? 'error' : 'info', {
      requestId, method: req.method ?? 'GET', route: adminRoute(path), url: path, status, latencyMs: Math.round((performance.now() - t0) * 1000) / 1000,
    });
  });
}

/** The channels status of a server without a supervisor: the one static table. */
function staticStatus(geo: GeoTableHolder): GeoChannelsStatus {
  const t: GeoTable = geo.current;
  return {
    channels: [], driving: 'static',
    layers: [{ layer: t.source, channel: 'static', prefixes: t.v4Count + t.v6Count }],
    table: { v4Ranges: t.v4Count, v6Ranges: t.v6Count, generation: geo.generation, builtAt: null },
    lastRefusal: null, suspectedHijacks: NO_HIJACKS,
  };
}

/** The GeoIP channels' metrics in Prometheus text (0.0.4), appended to the server's own. */
export function geoMetricsText(status: GeoChannelsStatus): string {
  const h = status.suspectedHijacks;
  return [
    '# HELP meridian_dns_bgp_suspected_hijacks_total Origin changes the routing overlay did not follow because they look like hijacks (a new origin seen by too few peers, or a more-specific from a foreign origin).',
    '# TYPE meridian_dns_bgp_suspected_hijacks_total counter',
    `meridian_dns_bgp_suspected_hijacks_total ${h.total}`,
    '# HELP meridian_dns_bgp_suspected_hijacks Suspected hijacks in force now.',
    '# TYPE meridian_dns_bgp_suspected_hijacks gauge',
    `meridian_dns_bgp_suspected_hijacks ${h.active}`,
    '',
  ].join('\n');
}

/** One workload's answer for a looked-up address. */
export interface LookupWorkloadAnswer {
  readonly workload: string;
  readonly name: string;
  readonly family: 'A' | 'AAAA';
  readonly cloud?: string;
  readonly region?: string;
  /** `region`, `fail-open` (nothing healthy) or `nodata` (no address of that family). */
  readonly outcome: 'region' | 'fail-open' | 'nodata';
  /** ECS scope prefix length the server would answer with. */
  readonly scopePrefixLength: number;
  /** Great-circle distance from the located client to the region, in km. */
  readonly distanceKm?: number;
}

/**
 * `GET /geo/lookup` body: where an address is, what each workload would answer, and, where a
 * routing overlay runs, why the routed prefix covering it is located there (`route`, null when no
 * route covers it).
 */
export async function explainLookup(ctx: AdminContext, ip: string): Promise<Record<string, unknown>> {
  const table = ctx.geo.current;
  const parsed = tryParseIp(ip);
  if (!parsed) throw new RangeError(`ip '${ip}' is not an IPv4 or IPv6 address`);
  const match = table.lookup(ip);
  const v4 = parsed.version === 4 ? parsed.value : mappedV4(parsed.words);
  const workloads: LookupWorkloadAnswer[] = [];
  for (const w of ctx.store.answers()) {
    for (const family of [4, 6] as Family[]) {
      // The same path as a query with this address as its ECS, so the scope is what a query would get.
      const r = v4 >= 0 || parsed.version === 4
        ? locateV4(w, family, table, v4, 32, LOCATION_VIA.ECS, undefined)
        : locateV6(w, family, table, parsed.words[0], parsed.words[1], parsed.words[2], parsed.words[3], 128, LOCATION_VIA.ECS, undefined);
      const decision = decisionOf(r);
      const region = decision >= 0 ? w.endpoints.regions[decision] : undefined;
      workloads.push({
        workload: w.endpoints.name, name: w.fqdn, family: family === 4 ? 'A' : 'AAAA',
        cloud: region?.cloud, region: region?.region,
        outcome: decision === FAIL_OPEN ? 'fail-open' : decision === NO_ADDRESSES ? 'nodata' : 'region',
        scopePrefixLength: scopeOf(r),
        distanceKm: match && region ? Math.round(distanceKm(match, region)) : undefined,
      });
    }
  }
  // The overlay keys prefixes by family: an IPv4-mapped address is explained as the IPv4 one.
  const routed = parsed.version === 6 && v4 >= 0 ? formatIpv4(v4) : ip;
  const route = ctx.channels?.explain ? (await ctx.channels.explain(routed)) ?? null : null;
  return {
    ip,
    location: match ? { lat: match.lat, lon: match.lon, country: match.country, continent: match.continent } : null,
    prefix: match?.prefix ?? null,
    prefixLength: match?.prefixLength ?? null,
    source: match?.source ?? null,
    layer: match?.source ?? null,
    channel: match?.channel ?? null,
    tableSource: table.source,
    route,
    workloads,
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : String(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Answers with the error shape the scheduler's API uses too (`{ error: MERIDIAN_ERR_*, message, errors }`). */
export function fail(res: http.ServerResponse, code: ApiErrorCode, message: string, issues: readonly Issue[] = []): void {
  const { status, body } = errorAnswer(code, message, issues);
  send(res, status, body);
}

const CHANNEL_ACTION = /^\/geo\/channels\/([^/]+)\/(pause|resume|fail)$/;

// POST /geo/channels/{name}/pause|resume|fail: 204 when done, 404 for an unknown channel.
function channelAction(ctx: AdminContext, pathname: string, res: http.ServerResponse): void {
  const m = CHANNEL_ACTION.exec(pathname);
  if (!m) {
    fail(res, 'MERIDIAN_ERR_NOT_FOUND', `no route POST ${pathname}`);
    return;
  }
  const name = decodeURIComponent(m[1]!);
  if (!ctx.channels) {
    fail(res, 'MERIDIAN_ERR_NOT_FOUND', `no channel '${name}': this server runs no GeoIP channels`);
    return;
  }
  ctx.channels.act(name, m[2] as 'pause' | 'resume' | 'fail').then(() => {
    send(res, 200, ctx.channels!.status());
  }, (e: unknown) => {
    if (e instanceof RangeError) fail(res, 'MERIDIAN_ERR_NOT_FOUND', e.message);
    else fail(res, 'MERIDIAN_ERR_INTERNAL', (e as Error).message);
  });
}

/**
 * Why the server should not take traffic yet, one line each; empty when it may. A server that
 * follows the scheduler's watch stream is ready once it holds the scheduler's state, from the
 * stream or from its saved snapshot; before that it knows no workload name.
 */
export function notReady(ctx: AdminContext): string[] {
  const watch = ctx.watchStatus();
  if (watch !== undefined && ctx.store.stateId === undefined && ctx.store.revision === 0) {
    return [`no workload state yet from the scheduler's watch stream (${watch.state}${watch.lastError ? `: ${watch.lastError}` : ''}) nor from a saved snapshot`];
  }
  return [];
}

/**
 * The admin HTTP server, not yet listening: `GET /geo/lookup?ip=`, `GET /geo/channels`,
 * `POST /geo/channels/{name}/pause|resume|fail`, `GET /metrics`, `GET /healthz`, `GET /readyz`.
 * Errors have the scheduler API's shape: `{ error: MERIDIAN_ERR_*, message, errors }`.
 */
export function createAdminServer(ctx: AdminContext): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (ctx.requestLog) logRequest(ctx.requestLog, req, res, url.pathname);
    if (handleStateRoute(ctx, req.method ?? 'GET', url.pathname, (status, body) => send(res, status, body))) return;
    if (req.method === 'POST') {
      // The body, if any, is not read: the action is all in the path.
      req.resume();
      channelAction(ctx, url.pathname, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(res, 'MERIDIAN_ERR_METHOD_NOT_ALLOWED', `method ${req.method ?? ''} not allowed on ${url.pathname}`);
      return;
    }
    try {
      switch (url.pathname) {
        case '/healthz':
          send(res, 200, { status: 'ok', workloads: ctx.store.answers().length, revision: ctx.store.revision,
            ignored: [...ctx.store.ignored.values()], watch: ctx.watchStatus() ?? null, geoSource: ctx.geo.current.source });
          return;
        case '/readyz': {
          const reasons = notReady(ctx);
          if (reasons.length) fail(res, 'MERIDIAN_ERR_NOT_READY', `not ready: ${reasons.join('; ')}`, reasons.map((message) => ({ path: '', message })));
          else send(res, 200, { ready: true, workloads: ctx.store.answers().length, revision: ctx.store.revision });
          return;
        }
        case '/geo/channels':
          send(res, 200, ctx.channels ? ctx.channels.status() : staticStatus(ctx.geo));
          return;
        case '/metrics':
          send(res, 200, ctx.metrics.render(ctx.store) + geoMetricsText(ctx.channels ? ctx.channels.status() : staticStatus(ctx.geo)), 'text/plain; version=0.0.4');
          return;
        case '/geo/lookup': {
          const ip = url.searchParams.get('ip');
          if (!ip) {
            fail(res, 'MERIDIAN_ERR_INVALID', 'query parameter ip is required', [{ path: 'ip', message: 'is required' }]);
            return;
          }
          explainLookup(ctx, ip).then((body) => send(res, 200, body), (e: unknown) => {
            if (e instanceof RangeError) fail(res, 'MERIDIAN_ERR_INVALID', e.message, [{ path: 'ip', message: e.message }]);
            else fail(res, 'MERIDIAN_ERR_INTERNAL', (e as Error).message);
          });
          return;
        }
        default:
          fail(res, 'MERIDIAN_ERR_NOT_FOUND', `no route ${req.method ?? 'GET'} ${url.pathname}`);
      }
    } catch (e) {
      fail(res, 'MERIDIAN_ERR_INTERNAL', (e as Error).message);
    }
  });
}

/** Listens on `address:port` (0 = any free port) and returns the bound port. */
export async function listenAdmin(server: http.Server, address: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => { server.off('error', reject); resolve(); });
  });
  return (server.address() as AddressInfo).port;
}
