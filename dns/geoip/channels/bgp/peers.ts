/**
 * The BGP channel: the configured neighbours' sessions and the listener that accepts passive ones.
 * A `GeoChannel` of kind `bgp` that emits each neighbour's routes as `RoutingUpdate`s (peer
 * `bgp:<address>`) and a `PeerDown` when a neighbour's routes are gone. A misbehaving neighbour
 * ends its own session only: every socket and decode error stays inside that session.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ChannelHealth, ChannelSink, GeoChannel, RoutingUpdate } from '../index';
import { encodeMessage } from './codec';
import { BgpError, CeaseSubcode, ErrorCode } from './errors';
import type { RibRoute } from './rib';
import { BgpSession, type SessionStatus } from './session';
import { loadBgpSettings, type BgpSettings } from './settings';

/** Options that are not settings. */
export interface BgpChannelOptions {
  /** Channel name among the configured channels; default `bgp`. */
  readonly name?: string;
  /** Clock, ms since the epoch. */
  readonly now?: () => number;
}

// IPv4 clients on a dual-stack listener appear as ::ffff:a.b.c.d.
function plainAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/** The live BGP channel. */
export class BgpChannel implements GeoChannel {
  readonly name: string;
  readonly kind = 'bgp' as const;
  private readonly settings: BgpSettings;
  private readonly now: () => number;
  private sessions = new Map<string, BgpSession>();
  private server: Server | undefined;
  private started = false;
  private lastError: string | undefined;
  private lastDataAt: number | undefined;
  private readonly sockets = new Set<Socket>();

  /** Validates `settings` (throws `BgpError` BGP_BAD_SETTINGS). */
  constructor(settings: unknown, options: BgpChannelOptions = {}) {
    this.settings = loadBgpSettings(settings);
    this.name = options.name ?? 'bgp';
    this.now = options.now ?? Date.now;
  }

  /** Listens (when any neighbour is passive) and starts every session. */
  async start(sink: ChannelSink): Promise<void> {
    if (this.started) return;
    const deliver = (f: () => void): void => {
      try { f(); } catch (e) { this.lastError = `sink failed: ${(e as Error).message}`; }
    };
    for (const p of this.settings.peers) {
      const s = new BgpSession(p, this.settings, {
        routes: (u: RoutingUpdate) => { this.lastDataAt = u.at; deliver(() => sink.records(u)); },
        peerDown: (at) => deliver(() => sink.records({ kind: 'peer-down', peer: s.peerId, at })),
        changed: () => deliver(() => sink.healthChanged()),
      }, this.now);
      this.sessions.set(p.address, s);
    }
    if (this.settings.peers.some((p) => p.mode === 'passive')) {
      const server = createServer((socket) => this.incoming(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(new BgpError('BGP_LISTEN_FAILED', `cannot listen on ${this.settings.listen.address}:${this.settings.listen.port}: ${e.message}`, { cause: e })));
        server.listen(this.settings.listen.port, this.settings.listen.address, () => resolve());
      });
      server.on('error', (e) => { this.lastError = `listener: ${e.message}`; });
      this.server = server;
    }
    this.started = true;
    for (const s of this.sessions.values()) s.start();
  }

  /** Ends every session (Cease / Administrative Shutdown) and closes the listener. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const s of this.sessions.values()) s.stop();
    for (const sock of this.sockets) sock.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The port passive neighbours connect to (useful with port 0); undefined when not listening. */
  get listenPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  health(): ChannelHealth {
    const all = [...this.sessions.values()].map((s) => s.status());
    const up = all.some((s) => s.state === 'Established');
    const prefixes = all.reduce((n, s) => n + s.prefixes, 0);
    const errors = all.filter((s) => s.lastError).map((s) => `${s.address}: ${s.lastError}`);
    return {
      state: !this.started ? 'starting' : up ? 'up' : 'down',
      lastDataAt: this.lastDataAt,
      prefixes,
      lastError: this.lastError ?? (errors.length ? errors.join('; ') : undefined),
    };
  }

  /** Each neighbour's session state, for `/geo/channels`. */
  peers(): SessionStatus[] {
    return [...this.sessions.values()].map((s) => s.status());
  }

  /** The route `peerAddress` holds for `prefix`, or undefined. */
  route(peerAddress: string, prefix: string, pathId = 0): RibRoute | undefined {
    return this.sessions.get(peerAddress)?.route(prefix, pathId);
  }

  private incoming(socket: Socket): void {
    const from = plainAddress(socket.remoteAddress);
    const session = this.sessions.get(from);
    const peer = this.settings.peers.find((p) => p.address === from);
    if (!session || !peer || peer.mode !== 'passive' || !this.started) {
      // RFC 4486 section 4: Connection Rejected for an address that is not a configured neighbour.
      this.lastError = `refused a connection from ${from}: not a configured passive neighbour`;
      socket.on('error', () => undefined);
      socket.end(Buffer.from(encodeMessage({ type: 3, code: ErrorCode.Cease, subcode: CeaseSubcode.ConnectionRejected, data: new Uint8Array(0) })));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    session.accept(socket);
  }
}
