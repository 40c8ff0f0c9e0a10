// Batched UDP socket over the native addon in ./native (recvmmsg/sendmmsg, one JavaScript call
// per batch). Linux only; `batchedUdpAvailable()` says whether it can be used here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { markAsUntransferable } from 'node:worker_threads';

interface Opened {
  readonly handle: unknown;
  readonly port: number;
  readonly rx: ArrayBuffer;
  readonly tx: ArrayBuffer;
  readonly meta: ArrayBuffer;
  readonly peer: ArrayBuffer;
  readonly batch: number;
  readonly rxSlot: number;
  readonly txSlot: number;
  readonly peerSlot: number;
}

/** Counters kept by the native side. */
export interface BatchedUdpStats {
  readonly received: number;
  readonly sent: number;
  /** Replies the kernel refused (full send buffer, unreachable peer) or that did not fit a slot. */
  readonly sendDropped: number;
  /** Datagrams larger than a receive slot, dropped unread. */
  readonly oversized: number;
}

interface Addon {
  open(address: string, port: number, reusePort: boolean, bufferBytes: number): Opened;
  start(handle: unknown, onBatch: (count: number) => number): void;
  close(handle: unknown): void;
  stats(handle: unknown): BatchedUdpStats;
  ref(handle: unknown): void;
  unref(handle: unknown): void;
}

/** Where `npm run build` puts the addon. */
export const ADDON_PATH = join(__dirname, 'native', 'udp_batch.node');

let addon: Addon | null | undefined;

function load(): Addon | null {
  if (addon !== undefined) return addon;
  if (process.platform !== 'linux' || !existsSync(ADDON_PATH)) return (addon = null);
  const module = { exports: {} as Addon };
  process.dlopen(module, ADDON_PATH);
  return (addon = module.exports);
}

/** Whether the batched transport is built and usable on this platform. */
export function batchedUdpAvailable(): boolean {
  return load() !== null;
}

/** Answers one datagram: the reply, or undefined to send nothing. `msg` is only valid during the call. */
export type DatagramHandler = (msg: Buffer, peer: string) => Buffer | undefined;

/**
 * Answers one datagram by writing the reply into `out` from `at`, in at most `room` bytes, and
 * returning its length; a negative number sends nothing (`DATAGRAM_TOO_LARGE` counts it as a
 * dropped reply). `msg` and `out` are only valid during the call.
 */
export type DatagramWriter = (msg: Buffer, peer: string, out: Buffer, at: number, room: number) => number;

/** What a `DatagramWriter` returns for a reply that does not fit its room (counted in `sendDropped`). */
export const DATAGRAM_TOO_LARGE = -2;

/** Options of `BatchedUdpSocket.open`. */
export interface BatchedUdpOptions {
  /** SO_REUSEPORT, so that several processes each bind the port and the kernel spreads datagrams. */
  readonly reusePort?: boolean;
  /** SO_RCVBUF and SO_SNDBUF in bytes (capped by the kernel). */
  readonly bufferBytes?: number;
}

/** One bound UDP socket served in batches. */
export class BatchedUdpSocket {
  private closed = false;
  private droppedLarge = 0;

  private constructor(private readonly native: Addon, private readonly opened: Opened) {
    // The native side reads and writes these buffers for as long as the socket is open; a handler
    // that passes `msg.buffer` in a transfer list (postMessage, structuredClone) would detach the
    // receive buffer and hand its memory to a new owner. Marked, they are copied instead.
    for (const b of [opened.rx, opened.tx, opened.meta, opened.peer]) markAsUntransferable(b);
  }

  /** Binds `address` (an IP literal) and `port` (0 picks one); throws with the errno code (EADDRINUSE, ...). */
  static open(address: string, port: number, options: BatchedUdpOptions = {}): BatchedUdpSocket {
    const native = load();
    if (!native) throw new Error(`the batched UDP addon is not available (expected at ${ADDON_PATH}; run npm run build)`);
    return new BatchedUdpSocket(native, native.open(address, port, options.reusePort ?? false, options.bufferBytes ?? 0));
  }

  get port(): number {
    return this.opened.port;
  }

  /** Starts reading; `handle` is called for every datagram, its replies go out in one batch. */
  start(handle: DatagramHandler): void {
    this.startWriting((msg, peer, out, at, room) => {
      const reply = handle(msg, peer);
      if (reply === undefined) return -1;
      if (reply.length > room) return DATAGRAM_TOO_LARGE;
      out.set(reply, at);
      return reply.length;
    });
  }

  /**
   * Starts reading; `write` is called for every datagram and writes its reply straight into the
   * send slot, so a handler that allocates nothing makes the whole path allocation-free. The
   * replies go out in one batch.
   */
  startWriting(write: DatagramWriter): void {
    const o = this.opened;
    const { batch, rxSlot, txSlot, peerSlot } = o;
    const rx = o.rx;
    const tx = Buffer.from(o.tx);
    const meta = new Int32Array(o.meta);
    const peer = Buffer.from(o.peer);
    // A view of each receive slot, remade only when a datagram's length differs from the last one
    // in that slot (a client's queries for one name are all alike): no object per query.
    const views: (Buffer | undefined)[] = new Array<Buffer | undefined>(batch).fill(undefined);
    const view = (i: number, len: number): Buffer => {
      const v = views[i];
      if (v !== undefined && v.length === len) return v;
      return (views[i] = Buffer.from(rx, i * rxSlot, len));
    };
    // The last sender's address text, reused while the next datagram comes from the same address
    // (a resolver sends many): no string is made per query.
    const lastPeer = Buffer.alloc(peerSlot);
    let lastLength = -1;
    let lastText = '';
    const peerText = (at: number): string => {
      const n = peer[at]!;
      let same = n === lastLength;
      for (let k = 1; same && k <= n; k++) same = peer[at + k] === lastPeer[k];
      if (!same) {
        lastText = peer.toString('latin1', at + 1, at + 1 + n);
        lastLength = n;
        for (let k = 1; k <= n; k++) lastPeer[k] = peer[at + k]!;
      }
      return lastText;
    };
    this.native.start(o.handle, (count: number): number => {
      let replies = 0;
      for (let i = 0; i < count; i++) {
        const len = meta[i]!;
        if (len < 0) continue;
        const n = write(view(i, len), peerText(i * peerSlot), tx, replies * txSlot, txSlot);
        // Closed by the handler: as node:dgram emits no message after close(), the rest of the
        // batch is not handed over (and no reply of it is sent).
        if (this.closed) break;
        if (n < 0) {
          if (n === DATAGRAM_TOO_LARGE) this.droppedLarge++;
          continue;
        }
        meta[batch + replies] = n;
        meta[2 * batch + replies] = i;
        replies++;
      }
      return replies;
    });
  }

  stats(): BatchedUdpStats {
    const s = this.native.stats(this.opened.handle);
    return { ...s, sendDropped: s.sendDropped + this.droppedLarge };
  }

  /** Lets the process exit while the socket is open (as `dgram.Socket.unref`). */
  unref(): void {
    this.native.unref(this.opened.handle);
  }

  ref(): void {
    this.native.ref(this.opened.handle);
  }

  /** Stops reading and closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.opened.handle);
  }
}
