import type net from 'node:net';
import { MAX_TCP_MESSAGE } from '../wire/constants';
import { tcpKeepaliveRequested, withTcpKeepalive } from '../wire/opt';
import type { QueryHandler } from './handler';
import type { DnsMetrics } from './metrics';

/** Limits of the TCP listener (RFC 7766 §6.2, as Knot and NSD apply them). */
export interface TcpOptions {
  /** Most connections at once over all clients. When full, the connection idle longest makes room, else the new one is refused. */
  readonly maxConnections: number;
  /** Most connections at once from one client: one IPv4 address, or one IPv6 /64. */
  readonly maxConnectionsPerClient: number;
  /**
   * A connection that completes no query for this long, with nothing in flight, is closed (RFC 7766
   * §6.2.3). Only complete queries count as activity: a byte now and then does not keep a slot.
   * Also the value advertised through edns-tcp-keepalive (RFC 7828).
   */
  readonly idleTimeoutMs: number;
  /** A query must arrive whole within this time of its first byte, else the connection is closed. */
  readonly queryTimeoutMs: number;
  /** Reading stops while a connection's unsent answers exceed this many bytes (a client that does not read). */
  readonly maxPendingResponseBytes: number;
  /** A connection whose unsent answers do not drain for this long is closed. */
  readonly writeStallTimeoutMs: number;
}

/** Default TCP limits. */
export const DEFAULT_TCP: TcpOptions = Object.freeze({
  maxConnections: 1024, maxConnectionsPerClient: 32, idleTimeoutMs: 10_000, queryTimeoutMs: 2_000,
  maxPendingResponseBytes: 128 * 1024, writeStallTimeoutMs: 5_000,
});

/**
 * Most queries one connection has answered per event-loop turn. A client pipelining thousands of
 * queries then waits a turn between batches, so other connections (and new ones) are served in
 * between instead of after its whole backlog.
 */
const QUERIES_PER_TURN = 64;

/** Why the server closed or refused a TCP connection; the label of `meridian_dns_tcp_closed_total`. */
export const TCP_CLOSE_REASONS = ['idle', 'query-timeout', 'write-stall', 'evicted', 'client-limit', 'full', 'error'] as const;
/** One of `TCP_CLOSE_REASONS`. */
export type TcpCloseReason = (typeof TCP_CLOSE_REASONS)[number];

/** What the TCP side reports to metrics. */
export interface TcpStats {
  readonly open: number;
  /** Connections closed or refused by the server, by reason (`TCP_CLOSE_REASONS` order). */
  readonly closed: readonly number[];
}

interface Connection {
  readonly socket: net.Socket;
  readonly client: string;
  /** When the last query completed (or the connection opened), ms. */
  lastQueryAt: number;
  /** When the first byte of the incomplete message arrived, 0 when none is incomplete. */
  partialSince: number;
  /** When reading was paused for unsent answers, 0 when not paused. */
  stalledSince: number;
  /** Received bytes not yet forming a whole message. */
  pending: Buffer;
  /** Reading paused because the connection used its turn's queries; the rest is served next turn. */
  deferred: boolean;
}

/** The key a client's connections are counted under: the IPv4 address, or the IPv6 /64. */
export function tcpClientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  // The first four groups of the expanded address are its /64.
  const [head = '', tail = ''] = address.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16)).join(':') + '::/64';
}

/**
 * The TCP connections of one listener: frames queries (RFC 7766 §8), answers them in order, and
 * keeps any one client from exhausting the server: per-client and total connection limits,
 * timeouts on incomplete queries and idle connections, and backpressure on clients that do not
 * read their answers. Timeouts are checked by one sweep, not a timer per connection.
 */
export class TcpConnections {
  private readonly conns = new Set<Connection>();
  private readonly perClient = new Map<string, number>();
  private readonly closed = new Array<number>(TCP_CLOSE_REASONS.length).fill(0);
  private readonly sweeper: NodeJS.Timeout;
  private readonly sweepEveryMs: number;
  private lastSweepAt: number;
  /** edns-tcp-keepalive TIMEOUT, in units of 100 ms (RFC 7828 §3.1). */
  private readonly keepalive: number;

  constructor(
    private readonly handler: QueryHandler,
    private readonly metrics: DnsMetrics,
    private readonly opts: TcpOptions,
    private readonly onError: (e: Error) => void,
    private readonly now: () => number = Date.now,
  ) {
    for (const [k, v] of Object.entries(opts)) {
      if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`tcp.${k} must be a positive integer, got ${String(v)}`);
    }
    this.keepalive = Math.min(0xffff, Math.floor(opts.idleTimeoutMs / 100));
    const every = Math.max(10, Math.min(250, Math.floor(Math.min(opts.idleTimeoutMs, opts.queryTimeoutMs, opts.writeStallTimeoutMs) / 4)));
    this.sweepEveryMs = every;
    this.lastSweepAt = now();
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /** Counts for metrics. */
  stats(): TcpStats {
    return { open: this.conns.size, closed: [...this.closed] };
  }

  /** Takes a new connection, or refuses it when its client or the server is at its limit. */
  accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    const client = tcpClientKey(socket.remoteAddress ?? '');
    if ((this.perClient.get(client) ?? 0) >= this.opts.maxConnectionsPerClient) {
      this.refuse(socket, 'client-limit');
      return;
    }
    if (this.conns.size >= this.opts.maxConnections && !this.evictIdlest()) {
      this.refuse(socket, 'full');
      return;
    }
    socket.setNoDelay(true);
    const c: Connection = { socket, client, lastQueryAt: this.now(), partialSince: 0, stalledSince: 0, pending: Buffer.alloc(0), deferred: false };
    this.conns.add(c);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    socket.once('close', () => {
      if (!this.conns.delete(c)) return;
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n > 0) this.perClient.set(client, n);
      else this.perClient.delete(client);
    });
    socket.on('data', (chunk: Buffer) => {
      c.pending = c.pending.length ? Buffer.concat([c.pending, chunk]) : chunk;
      // A chunk read before the pause took effect waits for the deferred turn.
      if (!c.deferred) this.serve(c);
    });
    socket.on('drain', () => {
      if (c.stalledSince === 0 || socket.destroyed) return;
      c.stalledSince = 0;
      // Idle time restarts once the client has taken its answers.
      c.lastQueryAt = this.now();
      if (c.deferred) return;
      this.serve(c);
      if (c.stalledSince === 0 && !c.deferred) socket.resume();
    });
  }

  /** Stops the sweep and destroys every connection. */
  closeAll(): void {
    clearInterval(this.sweeper);
    for (const c of this.conns) c.socket.destroy();
  }

  /**
   * Answers the whole queries buffered on `c`, until its unsent answers pass the bound or it has
   * answered `QUERIES_PER_TURN`; then reading pauses and the rest is served on a later turn.
   */
  private serve(c: Connection): void {
    const s = c.socket;
    let completed = false;
    let answered = 0;
    // One write (writev) for the turn's answers rather than a system call per answer.
    s.cork();
    while (c.pending.length >= 2 && c.stalledSince === 0) {
      if (answered === QUERIES_PER_TURN) {
        c.deferred = true;
        s.pause();
        setImmediate(() => this.serveDeferred(c));
        break;
      }
      answered++;
      const len = c.pending.readUInt16BE(0);
      if (c.pending.length < 2 + len) break;
      const msg = Buffer.from(c.pending.subarray(2, 2 + len));
      c.pending = c.pending.subarray(2 + len);
      c.lastQueryAt = this.now();
      completed = true;
      this.metrics.tcp++;
      let out: Buffer | undefined;
      try {
        out = this.handler.handle(msg, s.remoteAddress ?? '', false);
        // RFC 7828 §3.3.2: a client that sent edns-tcp-keepalive learns how long it may stay idle.
        if (out !== undefined && tcpKeepaliveRequested(msg)) out = withTcpKeepalive(out, this.keepalive);
      } catch (e) {
        this.onError(e as Error);
        s.uncork();
        this.close(c, 'error');
        return;
      }
      if (out === undefined || out.length > MAX_TCP_MESSAGE) continue;
      const frame = Buffer.allocUnsafe(2 + out.length);
      frame.writeUInt16BE(out.length, 0);
      out.copy(frame, 2);
      s.write(frame);
      if (s.writableLength > this.opts.maxPendingResponseBytes) {
        // The client is not reading: stop reading its queries until it takes its answers (RFC 7766 §6.2.1.1 lets a server stop reading).
        c.stalledSince = this.now();
        s.pause();
      }
    }
    s.uncork();
    // The query timeout runs from the first byte of the message still incomplete.
    if (c.pending.length === 0) c.partialSince = 0;
    else if (completed || c.partialSince === 0) c.partialSince = this.now();
  }

  /** The next turn of a connection that used its queries: serves on, and reads again when done. */
  private serveDeferred(c: Connection): void {
    c.deferred = false;
    if (c.socket.destroyed) return;
    this.serve(c);
    if (c.stalledSince === 0 && !c.deferred) c.socket.resume();
  }

  private sweep(): void {
    const now = this.now();
    const late = now - this.lastSweepAt > 2 * this.sweepEveryMs;
    this.lastSweepAt = now;
    // A sweep that runs late means this process was held up (a busy machine, a long collection):
    // what clients sent meanwhile may still wait unread in the sockets, so no one is timed out now.
    if (late) return;
    for (const c of this.conns) {
      if (c.stalledSince !== 0) {
        if (now - c.stalledSince >= this.opts.writeStallTimeoutMs) this.close(c, 'write-stall');
      } else if (c.partialSince !== 0) {
        if (now - c.partialSince >= this.opts.queryTimeoutMs) this.close(c, 'query-timeout');
      } else if (now - c.lastQueryAt >= this.opts.idleTimeoutMs && c.socket.writableLength === 0) {
        this.close(c, 'idle');
      }
    }
  }

  /** Closes the connection idle longest (nothing in flight), to make room; false when every connection is busy. */
  private evictIdlest(): boolean {
    let idlest: Connection | undefined;
    for (const c of this.conns) {
      if (c.partialSince !== 0 || c.stalledSince !== 0 || c.socket.writableLength !== 0) continue;
      if (!idlest || c.lastQueryAt < idlest.lastQueryAt) idlest = c;
    }
    if (!idlest) return false;
    this.close(idlest, 'evicted');
    // The slot is free now, not when 'close' fires.
    this.conns.delete(idlest);
    const n = (this.perClient.get(idlest.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(idlest.client, n);
    else this.perClient.delete(idlest.client);
    return true;
  }

  private close(c: Connection, reason: TcpCloseReason): void {
    if (c.socket.destroyed) return;
    this.closed[TCP_CLOSE_REASONS.indexOf(reason)]!++;
    c.socket.destroy();
  }

  private refuse(socket: net.Socket, reason: TcpCloseReason): void {
    this.closed[TCP_CLOSE_REASONS.indexOf(reason)]!++;
    // A reset, so a refused connection leaves no TIME_WAIT state on the server.
    socket.resetAndDestroy();
  }
}
