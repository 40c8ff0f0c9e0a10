/** One GeoIP channel of a GeoDNS server, as its admin API's `GET /geo/channels` reports it. */
export interface GeoDnsChannel {
  readonly name: string;
  readonly kind: string;
  readonly state: string;
  readonly driving: boolean;
  readonly lastDataAt: number | null;
  readonly prefixes: number;
  readonly lastError: string | null;
}

/** What the status page shows of one GeoDNS server. */
export interface GeoDnsStatus {
  readonly url: string;
  readonly reachable: boolean;
  /** The kind of channel whose data leads the server's table. */
  readonly driving?: string;
  readonly channels?: readonly GeoDnsChannel[];
  /** Why the server could not be read. */
  readonly error?: string;
}

/** Reads `GET /geo/channels` of one server; any failure is reported in the result, never thrown. */
export async function readGeoDns(url: string, timeoutMs: number): Promise<GeoDnsStatus> {
  const base = url.replace(/\/+$/, '');
  try {
    const res = await fetch(`${base}/geo/channels`, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok) return { url, reachable: false, error: `GET /geo/channels answered ${res.status}` };
    const body = await res.json() as { driving?: unknown; channels?: unknown };
    if (typeof body.driving !== 'string' || !Array.isArray(body.channels)) {
      return { url, reachable: false, error: 'GET /geo/channels did not answer a channel status' };
    }
    const channels = (body.channels as Array<Record<string, unknown>>).map((c) => ({
      name: String(c.name), kind: String(c.kind), state: String(c.state), driving: c.driving === true,
      lastDataAt: typeof c.lastDataAt === 'number' ? c.lastDataAt : null,
      prefixes: typeof c.prefixes === 'number' ? c.prefixes : 0,
      lastError: typeof c.lastError === 'string' ? c.lastError : null,
    }));
    return { url, reachable: true, driving: body.driving, channels };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { url, reachable: false, error: why };
  }
}
