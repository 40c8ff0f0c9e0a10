/** Where the CLI finds the scheduler API. */
export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly server: string;
  readonly token?: string;
}

/** An error answer of the API, with its code and every issue. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(readonly status: number, readonly code: string, message: string, readonly issues: ReadonlyArray<{ path: string; message: string }>) {
    super(message);
  }
}

/** A thin client of the scheduler API for the CLI. */
export class SchedulerClient {
  constructor(private readonly options: ClientOptions) {}

  /** Sends a request; resolves with the JSON body or rejects with `ApiCallError`. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.request<T>(method, path, body)).body;
  }

  /** Like `call`, with the HTTP status of the answer (where 200 and 202 mean different things). */
  async request<T>(method: string, path: string, body?: unknown): Promise<{ readonly status: number; readonly body: T }> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.options.server), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiCallError(0, 'MERIDIAN_ERR_UNREACHABLE', `cannot reach the scheduler at ${this.options.server}: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`, []);
    }
    const text = await res.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: string; message?: string; errors?: Array<{ path: string; message: string }> };
      const hint = res.status === 401 ? ' (set MERIDIAN_API_TOKEN or pass --token)' : '';
      throw new ApiCallError(res.status, e.error ?? `HTTP_${res.status}`, `${e.message ?? text}${hint}`, e.errors ?? []);
    }
    return { status: res.status, body: json as T };
  }
}
