import dgram from 'node:dgram';
import net from 'node:net';
import { isIP, isIPv6 } from 'node:net';
import dns from 'node:dns';
import { MAX_TCP_MESSAGE } from '../wire/constants';
import type { QueryHandler } from './handler';
import type { DnsMetrics } from './metrics';
import { ResponseRateLimiter, RrlAction, slipReply } from './rrl';

/** Limits of the TCP listener. */
export interface TcpOptions {
  /** A connection idle this long is closed (RFC 7766 §6.2.3 suggests seconds, not minutes). */
  readonly idleTimeoutMs: number;
  /** Most connections at once; more are refused. */
  readonly maxConnections: number;
}

/** Default TCP limits. */
export const DEFAULT_TCP: TcpOptions = Object.freeze({ idleTimeoutMs: 10_000, maxConnections: 1024 });

/** Both listeners of one server. */
export interface Listeners {
  readonly udp: dgram.Socket;
  readonly tcp: net.Server;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Binds UDP and TCP on the same address and port (port 0 picks one free for both: the UDP port
 * is chosen first and TCP binds to it; a clash retries with another port).
 */
export async function listen(address: string, port: number, handler: QueryHandler, metrics: DnsMetrics, rrl: ResponseRateLimiter,
  tcpOptions: TcpOptions, onError: (e: Error) => void): Promise<Listeners> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20, lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => { udp.off('error', reject); resolve(); });
    });
    const bound = udp.address().port;
    const tcp = net.createServer({ noDelay: true });
    tcp.maxConnections = tcpOptions.maxConnections;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, address, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (e) {
      udp.close();
      if (port === 0 && attempt < 10 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw e;
    }
    serveUdp(udp, handler, metrics, rrl, onError);
    const sockets = new Set<net.Socket>();
    tcp.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      serveTcpConnection(s, handler, metrics, tcpOptions, onError);
    });
    tcp.on('error', onError);
    return {
      udp, tcp, port: bound,
      close: async () => {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
      },
    };
  }
}

/**
 * Replies only ever go to `rinfo.address`, an IP literal: answer the socket's address lookup at
 * once instead of through `dns.lookup`, which defers every send by a tick.
 */
function literalLookup(host: string, options: dns.LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const literal = isIP(host);
  if (literal !== 0) callback(null, host, literal);
  // node:dgram passes the family as a number at run time, although the typings say options.
  else dns.lookup(host, typeof options === 'number' ? { family: options } : options, callback);
}

function serveUdp(udp: dgram.Socket, handler: QueryHandler, metrics: DnsMetrics, rrl: ResponseRateLimiter, onError: (e: Error) => void): void {
  udp.on('error', onError);
  udp.on('message', (msg, rinfo) => {
    metrics.udp++;
    let out: Buffer | undefined;
    try {
      out = handler.handle(msg, rinfo.address, true);
    } catch (e) {
      // A bug on one packet must not take the server down; it is reported and the packet dropped.
      onError(e as Error);
      return;
    }
    if (out === undefined) return;
    if (rrl.options.enabled) {
      const action = rrl.check(rinfo.address, Date.now());
      if (action === RrlAction.DROP) { metrics.rrlDropped++; return; }
      if (action === RrlAction.SLIP) { metrics.rrlSlipped++; out = slipReply(out); }
    }
    udp.send(out, rinfo.port, rinfo.address);
  });
}

function serveTcpConnection(s: net.Socket, handler: QueryHandler, metrics: DnsMetrics, opts: TcpOptions, onError: (e: Error) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  s.setTimeout(opts.idleTimeoutMs, () => s.destroy());
  s.on('error', () => s.destroy());
  s.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    // RFC 7766 §8: each message is preceded by a two-byte length; several may arrive in one read.
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      const msg = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      metrics.tcp++;
      let out: Buffer | undefined;
      try {
        out = handler.handle(Buffer.from(msg), s.remoteAddress ?? '', false);
      } catch (e) {
        onError(e as Error);
        s.destroy();
        return;
      }
      if (out === undefined || out.length > MAX_TCP_MESSAGE) continue;
      const frame = Buffer.allocUnsafe(2 + out.length);
      frame.writeUInt16BE(out.length, 0);
      out.copy(frame, 2);
      s.write(frame);
    }
  });
}
