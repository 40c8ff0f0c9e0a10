import http from 'node:http';
import https from 'node:https';
import { parseWatchEvent, type WatchEvent } from './protocol';

/** Settings of the watch client. */
export interface WatchClientOptions {
  /** Scheduler base URL or the full watch URL; `/v1/watch` is appended when the path is `/`. */
  readonly url: string;
  readonly token: string;
  /** Reconnect backoff: exponential from `minBackoffMs` to `maxBackoffMs` with full jitter. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** No byte (not even a `: ping`) for this long means the stream is dead: reconnect. */
  readonly staleAfterMs?: number;
}

/** State of the watch connection, for health and the admin API. */
export interface WatchStatus {
  readonly state: 'connecting' | 'streaming' | 'backoff' | 'stopped';
  readonly connectedAt?: string;
  readonly lastEventAt?: string;
  readonly lastError?: string;
  readonly reconnects: number;
  readonly revision: number;
}

/**
 * A Server-Sent Events client for the scheduler's `GET /v1/watch`: applies the snapshot then the
 * changes, and reconnects with exponential backoff and full jitter after any failure. Event
 * handling errors (bad JSON, schema) drop the connection and reconnect, so the next snapshot
 * repairs the state.
 */
export class WatchClient {
  private req: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private status: { -readonly [K in keyof WatchStatus]: WatchStatus[K] } = { state: 'connecting', reconnects: 0, revision: 0 };

  constructor(private readonly options: WatchClientOptions, private readonly onEvent: (e: WatchEvent) => void,
    private readonly onLog: (msg: string) => void = () => undefined) {}

  /** Starts connecting (returns at once). */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Stops and closes the connection; no reconnect follows. */
  stop(): void {
    this.stopped = true;
    this.status.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.req?.destroy();
    this.req = undefined;
  }

  /** A copy of the current status. */
  getStatus(): WatchStatus {
    return { ...this.status };
  }

  private watchUrl(): URL {
    const u = new URL(this.options.url);
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/watch';
    return u;
  }

  private connect(): void {
    if (this.stopped) return;
    this.status.state = 'connecting';
    const url = this.watchUrl();
    const mod = url.protocol === 'https:' ? https : http;
    let failed = false;
    const fail = (why: string): void => {
      if (failed || this.stopped) return;
      failed = true;
      this.status.lastError = why;
      this.req?.destroy();
      this.req = undefined;
      this.backoff();
    };
    const req = mod.get(url, { headers: { authorization: `Bearer ${this.options.token}`, accept: 'text/event-stream', 'cache-control': 'no-cache' } }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.resume();
        fail(`watch answered HTTP ${res.statusCode ?? '?'} ${String(res.headers['content-type'] ?? '')}`);
        return;
      }
      this.status.state = 'streaming';
      this.status.connectedAt = new Date().toISOString();
      res.setEncoding('utf8');
      let buffer = '';
      let event = '';
      let data: string[] = [];
      this.touch(() => fail('watch stream went silent'));
      res.on('data', (chunk: string) => {
        this.touch(() => fail('watch stream went silent'));
        buffer += chunk;
        // SSE framing (HTML Living Standard §9.2.6): lines end in LF, CRLF or CR; a blank line dispatches.
        for (;;) {
          const m = /\r\n|\r|\n/.exec(buffer);
          if (!m) break;
          const line = buffer.slice(0, m.index);
          buffer = buffer.slice(m.index + m[0].length);
          if (line === '') {
            if (data.length) {
              try {
                const ev = parseWatchEvent(event || 'message', data.join('\n'));
                if (ev) {
                  this.onEvent(ev);
                  this.status.revision = ev.revision;
                  this.status.lastEventAt = new Date().toISOString();
                  // A snapshot proves the stream works end to end: the backoff starts over.
                  if (ev.type === 'snapshot') this.attempt = 0;
                }
              } catch (e) {
                fail((e as Error).message);
                return;
              }
            }
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      });
      res.on('end', () => fail('watch stream ended'));
      res.on('error', (e) => fail(e.message));
      res.on('aborted', () => fail('watch stream aborted'));
    });
    req.on('error', (e) => fail(e.message));
    this.req = req;
  }

  private touch(onStale: () => void): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(onStale, this.options.staleAfterMs ?? 45_000);
    this.staleTimer.unref();
  }

  private backoff(): void {
    if (this.stopped) return;
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.status.state = 'backoff';
    this.status.reconnects++;
    const min = this.options.minBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 15_000;
    const cap = Math.min(max, min * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = Math.max(min / 2, Math.random() * cap);
    this.onLog(`watch: ${this.status.lastError ?? 'disconnected'}; reconnecting in ${Math.round(delay)} ms`);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
