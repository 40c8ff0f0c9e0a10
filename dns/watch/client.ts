import http from 'node:http';
import https from 'node:https';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { parseWatchEvent, WatchProtocolError, type WatchEvent } from './protocol';

/** Where a watcher stands in the scheduler's stream: the state it follows and the last revision it applied. */
export interface WatchPosition {
  readonly stateId: string;
  readonly revision: number;
}

/**
 * Turns the watch stream's text, in chunks as they arrive, into watch events. SSE framing (HTML
 * Living Standard §9.2.6: lines end in LF, CRLF or CR, and a blank line dispatches) is
 * eventsource-parser's, which keeps a line split over chunks (a CRLF too) and takes time linear
 * in the input however long a line is; each event's data is decoded by `parseWatchEvent`.
 */
export class WatchStreamDecoder {
  private readonly parser: EventSourceParser;

  /** `onEvent` gets each decoded event; `onActivity` follows each event and each comment (a ping). */
  constructor(onEvent: (e: WatchEvent) => void, onActivity: () => void = () => undefined) {
    this.parser = createParser({
      onEvent: (m) => {
        const ev = parseWatchEvent(m.event ?? 'message', m.data);
        if (ev) onEvent(ev);
        onActivity();
      },
      onComment: () => onActivity(),
    });
  }

  /**
   * Feeds the next chunk. Throws `WatchProtocolError` for an event whose data does not decode, or
   * what `onEvent` threw; the rest of that chunk is not read, and the decoder is not to be fed again.
   */
  feed(chunk: string): void {
    this.parser.feed(chunk);
  }
}

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
  /**
   * Where the state already held stands (e.g. the snapshot file's): the first connection asks to
   * resume from it. Later ones resume from the last event applied.
   */
  readonly resumeFrom?: WatchPosition;
}

/** State of the watch connection, for health and the admin API. */
export interface WatchStatus {
  readonly state: 'connecting' | 'streaming' | 'backoff' | 'stopped';
  readonly connectedAt?: string;
  readonly lastEventAt?: string;
  readonly lastError?: string;
  readonly reconnects: number;
  readonly revision: number;
  /** Snapshots received: one per connection the scheduler could not resume. */
  readonly snapshots: number;
  /** What the next connection asks to resume from; undefined when it takes a snapshot. */
  readonly position?: WatchPosition;
}

/**
 * A Server-Sent Events client for the scheduler's `GET /v1/watch`: applies the snapshot then the
 * changes, and reconnects with exponential backoff and full jitter after any failure. A
 * reconnection names the state and the last revision applied (`?stateId=` and `Last-Event-ID`),
 * so the scheduler sends only the events missed while it still keeps them, and a snapshot
 * otherwise (another state, or a revision older than its retained log). Event handling errors
 * (bad JSON, schema, a gap in revisions) drop the connection and reconnect; a gap also drops the
 * position, so the next snapshot repairs the state.
 */
export class WatchClient {
  private req: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private status: { -readonly [K in keyof WatchStatus]: WatchStatus[K] } = { state: 'connecting', reconnects: 0, revision: 0, snapshots: 0 };
  private position: WatchPosition | undefined;

  constructor(private readonly options: WatchClientOptions, private readonly onEvent: (e: WatchEvent) => void,
    private readonly onLog: (msg: string) => void = () => undefined) {
    this.position = options.resumeFrom;
    this.status.position = this.position;
  }

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
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, accept: 'text/event-stream', 'cache-control': 'no-cache' };
    // The scheduler resumes only a watcher that names the state it follows; the revision goes as the SSE reconnection header.
    const from = this.position;
    if (from) {
      url.searchParams.set('stateId', from.stateId);
      headers['last-event-id'] = String(from.revision);
    }
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
    const req = mod.get(url, { headers }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.resume();
        fail(`watch answered HTTP ${res.statusCode ?? '?'} ${String(res.headers['content-type'] ?? '')}`);
        return;
      }
      this.status.state = 'streaming';
      this.status.connectedAt = new Date().toISOString();
      res.setEncoding('utf8');
      // An applied event or a ping proves the stream works end to end: the backoff starts over.
      const decoder = new WatchStreamDecoder((ev) => this.deliver(ev), () => { this.attempt = 0; });
      this.touch(() => fail('watch stream went silent'));
      res.on('data', (chunk: string) => {
        if (failed) return;
        this.touch(() => fail('watch stream went silent'));
        try {
          decoder.feed(chunk);
        } catch (e) {
          fail((e as Error).message);
        }
      });
      res.on('end', () => fail('watch stream ended'));
      res.on('error', (e) => fail(e.message));
      res.on('aborted', () => fail('watch stream aborted'));
    });
    req.on('error', (e) => fail(e.message));
    this.req = req;
  }

  /** Applies one decoded event and moves the resume position past it; throws to drop the connection. */
  private deliver(ev: WatchEvent): void {
    if (ev.type !== 'snapshot' && this.position && ev.revision !== this.position.revision + 1) {
      // Revisions are consecutive within a scheduler state: a gap means events were lost, so only a snapshot can repair it.
      const expected = this.position.revision + 1;
      this.position = undefined;
      throw new WatchProtocolError(`watch stream skipped from revision ${expected - 1} to ${ev.revision}; reconnecting for a snapshot`);
    }
    this.onEvent(ev);
    this.status.revision = ev.revision;
    this.status.lastEventAt = new Date().toISOString();
    if (ev.type === 'snapshot') {
      this.status.snapshots++;
      // A scheduler that sends no state identity cannot resume a watcher: every reconnection takes a snapshot.
      this.position = ev.stateId === undefined ? undefined : { stateId: ev.stateId, revision: ev.revision };
    } else if (this.position) {
      this.position = { stateId: this.position.stateId, revision: ev.revision };
    }
    this.status.position = this.position;
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
