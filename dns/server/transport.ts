import dgram from 'node:dgram';
import net from 'node:net';
import { isIP, isIPv6 } from 'node:net';
import dns from 'node:dns';
import type { UdpTransport } from '../config';
import { NO_REPLY, type QueryHandler, REPLY_TOO_LARGE } from './handler';
import type { DnsMetrics } from './metrics';
import { ResponseRateLimiter, RrlAction, slipReply } from './rrl';
import { type CookieSecrets, hasValidServerCookie } from './cookies';
import { TcpConnections, type TcpOptions, type TcpStats } from './tcp';
import { BatchedUdpSocket, batchedUdpAvailable, DATAGRAM_TOO_LARGE, type DatagramHandler, type DatagramWriter } from './udp-batch';

/** The batched transport where its addon is built, else node:dgram. */
export function defaultUdpTransport(): UdpTransport {
  return batchedUdpAvailable() ? 'batched' : 'dgram';
}

/** Settings of `listen` beyond the address. */
export interface ListenOptions {
  readonly tcp: TcpOptions;
  readonly udp: UdpTransport;
  /**
   * Batched transport only: bind with SO_REUSEPORT so every cluster worker has its own socket on
   * the port and the kernel spreads datagrams over them.
   */
  readonly reusePort?: boolean;
  readonly onError: (e: Error) => void;
}

/** Both listeners of one server. */
export interface Listeners {
  readonly udp: UdpTransport;
  readonly tcp: net.Server;
  readonly port: number;
  /** Replies the batched transport could not send (0 over node:dgram, which queues them). */
  udpSendDropped(): number;
  /** Open TCP connections and those the server closed or refused, by reason. */
  tcpStats(): TcpStats;
  close(): Promise<void>;
}

const SOCKET_BUFFER_BYTES = 4 << 20;

interface UdpListener {
  readonly port: number;
  sendDropped(): number;
  close(): Promise<void>;
}

/**
 * Binds UDP and TCP on the same address and port (port 0 picks one free for both: the UDP port
 * is chosen first and TCP binds to it; a clash retries with another port).
 */
export async function listen(address: string, port: number, handler: QueryHandler, metrics: DnsMetrics, rrl: ResponseRateLimiter,
  cookies: CookieSecrets | undefined, options: ListenOptions): Promise<Listeners> {
  for (let attempt = 0; ; attempt++) {
    const udp = options.udp === 'batched'
      ? listenBatched(address, port, datagramWriter(handler, metrics, rrl, cookies, options.onError), options.reusePort ?? false)
      : await listenDgram(address, port, datagramAnswerer(handler, metrics, rrl, cookies, options.onError), options.onError);
    // Connection limits are TcpConnections' (it can make room by closing an idle one), not net.Server's.
    const tcp = net.createServer({ noDelay: true });
    let conns: TcpConnections;
    try {
      conns = new TcpConnections(handler, metrics, options.tcp, options.onError);
    } catch (e) {
      await udp.close();
      throw e;
    }
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udp.port, address, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (e) {
      conns.closeAll();
      await udp.close();
      if (port === 0 && attempt < 10 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw e;
    }
    tcp.on('connection', (s) => conns.accept(s));
    tcp.on('error', options.onError);
    return {
      udp: options.udp, tcp, port: udp.port,
      udpSendDropped: () => udp.sendDropped(),
      tcpStats: () => conns.stats(),
      close: async () => {
        await udp.close();
        const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        conns.closeAll();
        await closed;
      },
    };
  }
}

/** The UDP reply to one datagram from `peer`, after response-rate limiting; undefined sends nothing. */
function datagramAnswerer(handler: QueryHandler, metrics: DnsMetrics, rrl: ResponseRateLimiter, cookies: CookieSecrets | undefined,
  onError: (e: Error) => void): DatagramHandler {
  return (msg, peer) => {
    metrics.udp++;
    let out: Buffer | undefined;
    try {
      out = handler.handle(msg, peer, true);
    } catch (e) {
      // A bug on one packet must not take the server down; it is reported and the packet dropped.
      onError(e as Error);
      return undefined;
    }
    if (out === undefined || rrl.isExempt(peer)) return out;
    // RFC 7873 §5.3: a client that returns our server cookie is not spoofed, so it is not limited.
    if (cookies !== undefined && hasValidServerCookie(cookies, msg, peer)) return out;
    const action = rrl.check(peer, out, Date.now());
    if (action === RrlAction.DROP) { metrics.rrlDropped++; return undefined; }
    if (action === RrlAction.SLIP) { metrics.rrlSlipped++; return slipReply(out); }
    return out;
  };
}

/**
 * As `datagramAnswerer`, writing the reply into the batched transport's send slot: a fast-path
 * answer is encoded there directly, so the query path allocates nothing.
 */
function datagramWriter(handler: QueryHandler, metrics: DnsMetrics, rrl: ResponseRateLimiter, cookies: CookieSecrets | undefined,
  onError: (e: Error) => void): DatagramWriter {
  return (msg, peer, out, at, room) => {
    metrics.udp++;
    let n: number;
    try {
      n = handler.handleInto(msg, peer, true, out, at, room);
    } catch (e) {
      // A bug on one packet must not take the server down; it is reported and the packet dropped.
      onError(e as Error);
      return NO_REPLY;
    }
    if (n === REPLY_TOO_LARGE) return DATAGRAM_TOO_LARGE;
    if (n < 0 || rrl.isExempt(peer)) return n;
    // RFC 7873 §5.3: a client that returns our server cookie is not spoofed, so it is not limited.
    if (cookies !== undefined && hasValidServerCookie(cookies, msg, peer)) return n;
    const reply = out.subarray(at, at + n);
    const action = rrl.check(peer, reply, Date.now());
    if (action === RrlAction.DROP) { metrics.rrlDropped++; return NO_REPLY; }
    if (action === RrlAction.SLIP) {
      metrics.rrlSlipped++;
      const slip = slipReply(reply);
      if (slip.length > room) return DATAGRAM_TOO_LARGE;
      out.set(slip, at);
      return slip.length;
    }
    return n;
  };
}

function listenBatched(address: string, port: number, write: DatagramWriter, reusePort: boolean): UdpListener {
  const socket = BatchedUdpSocket.open(address, port, { reusePort, bufferBytes: SOCKET_BUFFER_BYTES });
  socket.startWriting(write);
  return {
    port: socket.port,
    sendDropped: () => socket.stats().sendDropped,
    close: () => { socket.close(); return Promise.resolve(); },
  };
}

async function listenDgram(address: string, port: number, answer: DatagramHandler, onError: (e: Error) => void): Promise<UdpListener> {
  const udp = dgram.createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES,
    sendBufferSize: SOCKET_BUFFER_BYTES, lookup: literalLookup });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, address, () => { udp.off('error', reject); resolve(); });
  });
  udp.on('error', onError);
  udp.on('message', (msg, rinfo) => {
    const out = answer(msg, rinfo.address);
    if (out !== undefined) udp.send(out, rinfo.port, rinfo.address);
  });
  return {
    port: udp.address().port,
    sendDropped: () => 0,
    close: () => new Promise<void>((resolve) => udp.close(() => resolve())),
  };
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
