/**
 * One BGP session with one configured neighbour: the socket, the timers and the negotiation around
 * the pure state machine of `fsm.ts`, and the neighbour's Adj-RIB-In. It only listens and learns:
 * its OPEN offers to receive, it never sends an UPDATE, and ROUTE-REFRESH requests are ignored.
 */
import { connect, type Socket } from 'node:net';
import type { RouteRecord, RoutingUpdate } from '../index';
import { AFI_IPV4, AFI_IPV6, AS_TRANS, SAFI_UNICAST } from './attributes';
import { CapabilityCode, decodeMessage, encodeMessage, messageLength, type BgpMessage, type Capability, type OpenMessage } from './codec';
import { BgpMessageError, CeaseSubcode, describeNotification, ErrorCode, OpenSubcode } from './errors';
import { transition, type BgpState, type FsmAction, type FsmEvent } from './fsm';
import { AdjRibIn, type RibRoute } from './rib';
import type { BgpPeerSettings, BgpSettings } from './settings';
import { decodeUpdate, type UpdateContext } from './update';

/** The OpenSent hold time (RFC 4271 section 8.2.2 suggests 4 minutes). */
const LARGE_HOLD_SECONDS = 240;

/** Where a session reports what it learns. */
export interface SessionListener {
  routes(update: RoutingUpdate): void;
  /** Every route of the peer is gone. */
  peerDown(at: number): void;
  /** State, error or data time changed. */
  changed(): void;
}

/** A session's state as `/geo/channels` shows it. */
export interface SessionStatus {
  readonly peer: string;
  readonly address: string;
  readonly state: BgpState;
  readonly peerAs: number;
  readonly prefixes: number;
  readonly staleRoutes: number;
  /** ms since the epoch; undefined when not Established. */
  readonly establishedAt: number | undefined;
  readonly lastDataAt: number | undefined;
  readonly lastError: string | undefined;
  /** What the last OPEN exchange agreed. */
  readonly negotiated: Negotiated | undefined;
}

/** What the OPEN exchange agreed (RFC 4271 section 4.2 and the capabilities). */
export interface Negotiated {
  readonly holdTimeSeconds: number;
  readonly peerBgpId: string;
  readonly as4: boolean;
  readonly ipv6: boolean;
  readonly addPathV4: boolean;
  readonly addPathV6: boolean;
  readonly routeRefresh: boolean;
  /** The peer's graceful-restart time (RFC 4724 section 3); undefined when it did not offer graceful restart. */
  readonly restartTimeSeconds: number | undefined;
}

/** One neighbour's session. */
export class BgpSession {
  readonly peerId: string;
  private state: BgpState = 'Idle';
  private socket: Socket | undefined;
  private pending: Buffer | undefined;
  private readonly rib = new AdjRibIn();
  // ADD-PATH keeps several paths per prefix: which path ids each prefix has (only under ADD-PATH).
  private readonly pathIds = new Map<string, number[]>();
  private negotiated: Negotiated | undefined;
  private ctx: UpdateContext = { as4: false, addPathV4: false, addPathV6: false };
  private timers: { connectRetry?: NodeJS.Timeout; hold?: NodeJS.Timeout; keepalive?: NodeJS.Timeout; restart?: NodeJS.Timeout; gr?: NodeJS.Timeout; stale?: NodeJS.Timeout } = {};
  private establishedAt: number | undefined;
  private lastDataAt: number | undefined;
  private lastError: string | undefined;
  private stopped = true;
  // Families whose End-of-RIB is still awaited after a graceful restart (RFC 4724 section 4.2).
  private awaitingEor: Set<number> | undefined;
  // The peer is restarting: its routes are stale and kept until its restart time passes.
  private grPending = false;

  constructor(
    private readonly peer: BgpPeerSettings,
    private readonly channel: BgpSettings,
    private readonly listener: SessionListener,
    private readonly now: () => number = Date.now,
  ) {
    this.peerId = `bgp:${peer.address}`;
  }

  /** Starts the session: connects (active) or waits for the neighbour (passive). */
  start(): void {
    this.stopped = false;
    this.fire(this.peer.mode === 'active' ? { type: 'ManualStart' } : { type: 'ManualStartPassive' });
  }

  /** Ends the session with Cease / Administrative Shutdown and stops every timer; routes are dropped. */
  stop(): void {
    this.stopped = true;
    this.fire({ type: 'ManualStop' });
    for (const t of Object.values(this.timers)) clearTimeout(t);
    this.timers = {};
    this.rib.clear();
    this.pathIds.clear();
  }

  /** A connection from the neighbour's address arrived on the listener. */
  accept(socket: Socket): void {
    if (this.stopped || this.state === 'OpenConfirm' || this.state === 'Established' || this.state === 'OpenSent') {
      // RFC 4271 section 6.8, reduced: the session that is already up (or opening) wins.
      socket.end(Buffer.from(encodeMessage({ type: 3, code: ErrorCode.Cease, subcode: CeaseSubcode.ConnectionCollisionResolution, data: new Uint8Array(0) })));
      socket.destroy();
      return;
    }
    if (this.state === 'Idle') this.fire({ type: 'ManualStartPassive' });
    this.attach(socket);
    this.fire({ type: 'TcpConnected' });
  }

  /** The session's state for `/geo/channels` and health. */
  status(): SessionStatus {
    return {
      peer: this.peerId, address: this.peer.address, state: this.state, peerAs: this.peer.peerAs,
      prefixes: this.rib.size, staleRoutes: this.rib.stale, establishedAt: this.establishedAt,
      lastDataAt: this.lastDataAt, lastError: this.lastError, negotiated: this.negotiated,
    };
  }

  /** The route this neighbour holds for `prefix` (with `pathId` under ADD-PATH), or undefined. */
  route(prefix: string, pathId = 0): RibRoute | undefined {
    return this.ctx.addPathV4 || this.ctx.addPathV6 ? this.rib.get(`${prefix}#${pathId}`) : this.rib.get(prefix);
  }

  /** Routes held. */
  get prefixes(): number {
    return this.rib.size;
  }

  private fire(event: FsmEvent): void {
    const t = transition(this.state, event);
    const before = this.state;
    this.state = t.state;
    for (const a of t.actions) this.act(a, event);
    if (before !== this.state) this.listener.changed();
  }

  private act(a: FsmAction, event: FsmEvent): void {
    const hold = this.negotiated?.holdTimeSeconds ?? this.holdTime();
    switch (a.type) {
      case 'connect': this.connect(); break;
      case 'dropConnection': this.drop(); break;
      case 'sendOpen': this.send(this.openMessage()); break;
      case 'sendKeepalive': this.send({ type: 4 }); break;
      case 'sendNotification':
        this.lastError = `sent NOTIFICATION ${describeNotification(a.code, a.subcode)}${event.type === 'MessageError' && this.lastError ? `: ${this.lastError}` : ''}`;
        this.send({ type: 3, code: a.code, subcode: a.subcode, data: a.data ?? new Uint8Array(0) });
        break;
      case 'startConnectRetryTimer':
        clearTimeout(this.timers.connectRetry);
        this.timers.connectRetry = setTimeout(() => this.fire({ type: 'ConnectRetryTimerExpires' }), this.channel.connectRetrySeconds * 1000);
        break;
      case 'stopConnectRetryTimer': clearTimeout(this.timers.connectRetry); break;
      case 'startHoldTimer': {
        clearTimeout(this.timers.hold);
        const seconds = a.large ? LARGE_HOLD_SECONDS : hold;
        // RFC 4271 section 4.4: a hold time of zero means no hold timer and no keepalives.
        if (seconds > 0) this.timers.hold = setTimeout(() => this.fire({ type: 'HoldTimerExpires' }), seconds * 1000);
        break;
      }
      case 'startKeepaliveTimer':
        clearTimeout(this.timers.keepalive);
        // RFC 4271 section 10: keepalives at one third of the hold time.
        if (hold > 0) this.timers.keepalive = setTimeout(() => this.fire({ type: 'KeepaliveTimerExpires' }), (hold * 1000) / 3);
        break;
      case 'stopTimers':
        for (const k of ['connectRetry', 'hold', 'keepalive'] as const) clearTimeout(this.timers[k]);
        break;
      case 'established':
        this.establishedAt = this.now();
        this.lastError = undefined;
        clearTimeout(this.timers.gr);
        this.grPending = false;
        if (this.rib.stale > 0) {
          this.awaitingEor = new Set([AFI_IPV4, ...(this.negotiated?.ipv6 ? [AFI_IPV6] : [])]);
          // Bound the wait for End-of-RIB by the restart time again (RFC 4724 section 4.2's "selection deferral").
          const seconds = this.negotiated?.restartTimeSeconds ?? 0;
          this.timers.stale = setTimeout(() => this.sweepStale(), Math.max(seconds, 1) * 1000);
        }
        break;
      case 'sessionDown':
        this.sessionDown(a.reason, a.graceful);
        break;
    }
  }

  private holdTime(): number {
    return this.peer.holdTimeSeconds ?? this.channel.holdTimeSeconds;
  }

  private localAs(): number {
    return this.peer.localAs ?? this.channel.localAs;
  }

  private openMessage(): OpenMessage {
    const as = this.localAs();
    const caps: Capability[] = [
      { code: CapabilityCode.Multiprotocol, afi: AFI_IPV4, safi: SAFI_UNICAST },
      { code: CapabilityCode.Multiprotocol, afi: AFI_IPV6, safi: SAFI_UNICAST },
      { code: CapabilityCode.RouteRefresh },
      { code: CapabilityCode.FourOctetAs, asn: as },
    ];
    if (this.channel.gracefulRestart) {
      // Helper only: the capability with no families says we understand graceful restart (RFC 4724 section 3).
      caps.push({ code: CapabilityCode.GracefulRestart, restarting: false, restartTimeSeconds: 0, families: [] });
    }
    if (this.channel.addPathReceive) {
      caps.push({ code: CapabilityCode.AddPath, families: [{ afi: AFI_IPV4, safi: SAFI_UNICAST, sendReceive: 1 }, { afi: AFI_IPV6, safi: SAFI_UNICAST, sendReceive: 1 }] });
    }
    return {
      type: 1, version: 4, myAs: as > 0xffff ? AS_TRANS : as, holdTimeSeconds: this.holdTime(),
      bgpId: this.peer.routerId ?? this.channel.routerId, capabilities: caps,
    };
  }

  private connect(): void {
    const s = connect({ host: this.peer.address, port: this.peer.port, localAddress: this.peer.localAddress });
    this.attach(s);
    s.once('connect', () => { if (this.socket === s) this.fire({ type: 'TcpConnected' }); });
  }

  private attach(s: Socket): void {
    this.drop();
    this.socket = s;
    this.pending = undefined;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => { if (this.socket === s) this.receive(chunk); });
    s.on('error', (e) => { if (this.socket === s) this.lastError = `connection to ${this.peer.address}: ${e.message}`; });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.fire({ type: 'TcpFails' });
    });
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.pending = undefined;
    if (s) {
      // end() flushes a NOTIFICATION written just before; destroy() after a grace period in case the peer never reads.
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
    }
  }

  private send(m: BgpMessage): void {
    const s = this.socket;
    if (s && !s.destroyed && s.writable) s.write(encodeMessage(m));
  }

  private receive(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let o = 0;
    try {
      while (this.socket) {
        const len = messageLength(buf, o);
        if (len === undefined || buf.length - o < len) break;
        const { message } = decodeMessage(buf, o);
        o += len;
        this.handle(message);
      }
    } catch (e) {
      if (!(e instanceof BgpMessageError)) throw e;
      this.lastError = e.message;
      this.fire({ type: 'MessageError', code: e.code, subcode: e.subcode, data: e.data });
      return;
    }
    if (!this.socket) return;
    buf = buf.subarray(o);
    // Copy a small remainder so the large chunk it came from can be freed.
    this.pending = buf.length ? Buffer.from(buf) : undefined;
  }

  private handle(m: BgpMessage): void {
    switch (m.type) {
      case 1: {
        const problem = this.checkOpen(m);
        if (problem) {
          this.lastError = problem.message;
          this.fire({ type: 'MessageError', code: problem.code, subcode: problem.subcode, data: problem.data });
          return;
        }
        this.fire({ type: 'OpenReceived' });
        return;
      }
      case 2: {
        this.fire({ type: 'UpdateReceived' });
        if (this.state !== 'Established') return;
        const u = decodeUpdate(m, this.ctx);
        this.apply(u);
        return;
      }
      case 3:
        this.lastError = `received NOTIFICATION ${describeNotification(m.code, m.subcode)}`;
        this.fire({ type: 'NotificationReceived' });
        return;
      case 4: this.fire({ type: 'KeepaliveReceived' }); return;
      case 5: this.fire({ type: 'RouteRefreshReceived' }); return;
    }
  }

  private checkOpen(m: OpenMessage): BgpMessageError | undefined {
    const openErr = (sub: number, why: string, data?: Uint8Array): BgpMessageError => new BgpMessageError(ErrorCode.OpenMessage, sub, why, data);
    const as4Cap = m.capabilities.find((c) => c.code === CapabilityCode.FourOctetAs) as { asn: number } | undefined;
    const peerAs = as4Cap ? as4Cap.asn : m.myAs;
    if (peerAs !== this.peer.peerAs) {
      return openErr(OpenSubcode.BadPeerAs, `peer ${this.peer.address} says it is AS${peerAs}, configured AS${this.peer.peerAs}`);
    }
    if (m.holdTimeSeconds === 1 || m.holdTimeSeconds === 2) {
      return openErr(OpenSubcode.UnacceptableHoldTime, `peer ${this.peer.address} proposed hold time ${m.holdTimeSeconds} s`);
    }
    if (m.bgpId === '0.0.0.0') return openErr(OpenSubcode.BadBgpIdentifier, `peer ${this.peer.address} sent BGP identifier 0.0.0.0`);
    const mp = m.capabilities.filter((c) => c.code === CapabilityCode.Multiprotocol) as { afi: number; safi: number }[];
    // RFC 4760 section 8: without multiprotocol capabilities, only IPv4 unicast is exchanged.
    const ipv6 = mp.some((c) => c.afi === AFI_IPV6 && c.safi === SAFI_UNICAST);
    const addPath = m.capabilities.find((c) => c.code === CapabilityCode.AddPath) as { families: { afi: number; safi: number; sendReceive: number }[] } | undefined;
    // RFC 7911 section 5: the peer sends path ids for a family if it offered to send and we to receive.
    const sends = (afi: number): boolean => this.channel.addPathReceive && !!addPath?.families.some((f) => f.afi === afi && f.safi === SAFI_UNICAST && (f.sendReceive & 2) !== 0);
    const gr = m.capabilities.find((c) => c.code === CapabilityCode.GracefulRestart) as { restartTimeSeconds: number } | undefined;
    const hold = Math.min(m.holdTimeSeconds, this.holdTime());
    this.negotiated = {
      holdTimeSeconds: hold, peerBgpId: m.bgpId, as4: !!as4Cap, ipv6, addPathV4: sends(AFI_IPV4), addPathV6: sends(AFI_IPV6),
      routeRefresh: m.capabilities.some((c) => c.code === CapabilityCode.RouteRefresh),
      restartTimeSeconds: this.channel.gracefulRestart && gr ? gr.restartTimeSeconds : undefined,
    };
    const addPathChanged = this.rib.size > 0 && (this.ctx.addPathV4 !== this.negotiated.addPathV4 || this.ctx.addPathV6 !== this.negotiated.addPathV6);
    this.ctx = { as4: this.negotiated.as4, addPathV4: this.negotiated.addPathV4, addPathV6: this.negotiated.addPathV6 };
    // Stale keys written under other ADD-PATH options would never be refreshed; drop them now.
    if (addPathChanged) this.flush(this.now());
    return undefined;
  }

  private apply(u: ReturnType<typeof decodeUpdate>): void {
    const now = this.now();
    this.lastDataAt = now;
    if (u.endOfRib) {
      this.awaitingEor?.delete(u.endOfRib.afi);
      if (this.awaitingEor && this.awaitingEor.size === 0) this.sweepStale();
      return;
    }
    const announce: RouteRecord[] = [];
    const withdraw: string[] = [];
    const addPath = this.ctx.addPathV4 || this.ctx.addPathV6;
    for (const n of u.withdraw) {
      if (!addPath) {
        if (this.rib.delete(n.prefix)) withdraw.push(n.prefix);
        continue;
      }
      if (!this.rib.delete(`${n.prefix}#${n.pathId}`)) continue;
      const ids = (this.pathIds.get(n.prefix) ?? []).filter((id) => id !== n.pathId);
      if (ids.length) {
        this.pathIds.set(n.prefix, ids);
        const r = this.rib.get(`${n.prefix}#${ids[0]}`)!;
        announce.push({ prefix: n.prefix, originAs: r.originAs, asPath: r.asPath });
      } else {
        this.pathIds.delete(n.prefix);
        withdraw.push(n.prefix);
      }
    }
    if (u.announce.length) {
      const pathKey = u.asPath.join(' ');
      const asPath = Object.freeze([...u.asPath]);
      for (const n of u.announce) {
        if (addPath) {
          const ids = this.pathIds.get(n.prefix);
          if (!ids) this.pathIds.set(n.prefix, [n.pathId]); else if (!ids.includes(n.pathId)) ids.push(n.pathId);
          this.rib.set(`${n.prefix}#${n.pathId}`, u.originAs, asPath, pathKey, now);
        } else {
          this.rib.set(n.prefix, u.originAs, asPath, pathKey, now);
        }
        announce.push({ prefix: n.prefix, originAs: u.originAs, asPath });
      }
    }
    if (u.treatAsWithdraw) this.lastError = `UPDATE treated as withdraw (RFC 7606): ${u.treatAsWithdraw}`;
    if (announce.length || withdraw.length) {
      this.listener.routes({ kind: 'routing', peer: this.peerId, at: now, full: false, announce, withdraw });
    }
    if (this.rib.size > this.peer.maxPrefixes) {
      this.lastError = `peer ${this.peer.address} sent ${this.rib.size} routes, more than maxPrefixes ${this.peer.maxPrefixes}`;
      this.fire({ type: 'Cease', subcode: CeaseSubcode.MaximumPrefixesReached });
    }
  }

  private sweepStale(): void {
    clearTimeout(this.timers.stale);
    this.awaitingEor = undefined;
    const gone = this.rib.sweepStale();
    const withdraw: string[] = [];
    for (const key of gone) {
      const hash = key.indexOf('#');
      if (hash < 0) { withdraw.push(key); continue; }
      const prefix = key.slice(0, hash);
      const ids = (this.pathIds.get(prefix) ?? []).filter((id) => id !== Number(key.slice(hash + 1)));
      if (ids.length) this.pathIds.set(prefix, ids); else { this.pathIds.delete(prefix); withdraw.push(prefix); }
    }
    if (withdraw.length) this.listener.routes({ kind: 'routing', peer: this.peerId, at: this.now(), full: false, announce: [], withdraw });
    this.listener.changed();
  }

  private flush(at: number): void {
    clearTimeout(this.timers.gr);
    this.grPending = false;
    clearTimeout(this.timers.stale);
    this.awaitingEor = undefined;
    const had = this.rib.size > 0;
    this.rib.clear();
    this.pathIds.clear();
    if (had) this.listener.peerDown(at);
  }

  private sessionDown(reason: string, graceful: boolean): void {
    const wasEstablished = this.establishedAt !== undefined;
    this.establishedAt = undefined;
    this.lastError ??= reason;
    const restart = this.negotiated?.restartTimeSeconds;
    if (graceful && wasEstablished && restart !== undefined && restart > 0 && this.rib.size > 0) {
      // RFC 4724 section 4.2: keep the routes as stale until the peer is back or its restart time passes.
      this.rib.markAllStale();
      clearTimeout(this.timers.gr);
      this.grPending = true;
      this.timers.gr = setTimeout(() => { if (this.state !== 'Established') this.flush(this.now()); this.listener.changed(); }, restart * 1000);
    } else if (!this.stopped && !this.grPending) {
      this.flush(this.now());
    }
    if (!this.stopped) {
      clearTimeout(this.timers.restart);
      this.timers.restart = setTimeout(() => { if (!this.stopped) this.start(); }, this.channel.connectRetrySeconds * 1000);
    }
  }
}
