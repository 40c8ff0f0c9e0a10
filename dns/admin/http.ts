import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GeoTableHolder } from '../geoip';
import { tryParseIp } from '../geoip';
import type { WorkloadStore } from '../answer/store';
import { distanceKm, FAIL_OPEN, type Family, NO_ADDRESSES } from '../answer/select';
import type { QueryHandler } from '../server/handler';
import type { DnsMetrics } from '../server/metrics';
import type { WatchStatus } from '../watch/client';
import type { StateGuard } from '../watch/guard';
import { handleStateRoute } from './state';
import { ipv6ToBytes } from '../wire/ip';

/** What the admin API reads. */
export interface AdminContext {
  readonly geo: GeoTableHolder;
  readonly store: WorkloadStore;
  readonly handler: QueryHandler;
  readonly metrics: DnsMetrics;
  readonly watchStatus: () => WatchStatus | undefined;
  /** The guard over the scheduler's state (held states, confirmation). */
  readonly guard: StateGuard;
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

/** `GET /geo/lookup` body: where an address is and what each workload would answer. */
export function explainLookup(ctx: AdminContext, ip: string): Record<string, unknown> {
  const table = ctx.geo.current;
  const parsed = tryParseIp(ip);
  if (!parsed) throw new RangeError(`ip '${ip}' is not an IPv4 or IPv6 address`);
  const match = table.lookup(ip);
  const workloads: LookupWorkloadAnswer[] = [];
  for (const w of ctx.store.answers()) {
    for (const family of [4, 6] as Family[]) {
      const r = parsed.version === 4
        ? ctx.handler.decideV4(w, family, table, parsed.value)
        : ctx.handler.decideV6(w, family, table, ipv6ToBytes(ip), 128);
      const region = r.decision >= 0 ? w.endpoints.regions[r.decision] : undefined;
      workloads.push({
        workload: w.endpoints.name, name: w.fqdn, family: family === 4 ? 'A' : 'AAAA',
        cloud: region?.cloud, region: region?.region,
        outcome: r.decision === FAIL_OPEN ? 'fail-open' : r.decision === NO_ADDRESSES ? 'nodata' : 'region',
        scopePrefixLength: r.scope,
        distanceKm: match && region ? Math.round(distanceKm(match, region)) : undefined,
      });
    }
  }
  return {
    ip,
    location: match ? { lat: match.lat, lon: match.lon, country: match.country, continent: match.continent } : null,
    prefix: match?.prefix ?? null,
    prefixLength: match?.prefixLength ?? null,
    source: match?.source ?? null,
    tableSource: table.source,
    workloads,
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : String(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** The admin HTTP server (`/geo/lookup?ip=`, `/metrics`, `/healthz`), not yet listening. */
export function createAdminServer(ctx: AdminContext): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (handleStateRoute(ctx, req.method ?? 'GET', url.pathname, (status, body) => send(res, status, body))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'method not allowed', code: 'DNS_ERR_ADMIN_METHOD' });
      return;
    }
    try {
      switch (url.pathname) {
        case '/healthz':
          send(res, 200, { status: 'ok', workloads: ctx.store.answers().length, revision: ctx.store.revision,
            ignored: [...ctx.store.ignored.values()], watch: ctx.watchStatus() ?? null, geoSource: ctx.geo.current.source });
          return;
        case '/metrics':
          send(res, 200, ctx.metrics.render(ctx.store), 'text/plain; version=0.0.4');
          return;
        case '/geo/lookup': {
          const ip = url.searchParams.get('ip');
          if (!ip) {
            send(res, 400, { error: 'query parameter ip is required', code: 'DNS_ERR_ADMIN_BAD_IP' });
            return;
          }
          try {
            send(res, 200, explainLookup(ctx, ip));
          } catch (e) {
            if (e instanceof RangeError) send(res, 400, { error: e.message, code: 'DNS_ERR_ADMIN_BAD_IP' });
            else throw e;
          }
          return;
        }
        default:
          send(res, 404, { error: `no route ${url.pathname}`, code: 'DNS_ERR_ADMIN_NOT_FOUND' });
      }
    } catch (e) {
      send(res, 500, { error: (e as Error).message, code: 'DNS_ERR_ADMIN_INTERNAL' });
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
