import { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The last check before an outgoing HTTP request's bytes reach the kernel: every write of a client
 * request (`_writeRaw`, and `_flushOutput` for what was buffered before it had a socket) asks each
 * installed guard first, and a request a guard refuses is destroyed with the guard's error before
 * anything is written. Data written while the socket is still connecting is checked once more
 * when the connection opens, before Node flushes it, so a process paused between the write and the
 * connect (SIGSTOP, a frozen VM) sends nothing once it continues.
 *
 * The checks run on the same turn as the write, so what is left is the time between a check and
 * the write system call right after it. Node's `http.client.request.start` channel comes too late
 * for this: it is published once the request has been written.
 *
 * The guards are process-wide: one scheduler per process holds a lease.
 */
export type RequestGuard = () => Error | undefined;

const guards = new Set<RequestGuard>();
const CHECKED = Symbol('meridian.fence.connect');

type Writer = (this: ClientRequest, ...args: unknown[]) => unknown;
interface Patched { readonly writeRaw: Writer; readonly flushOutput: Writer }
let patched: Patched | undefined;

function refusal(): Error | undefined {
  for (const g of guards) {
    const err = g();
    if (err) return err;
  }
  return undefined;
}

function guarded(original: Writer, blocked: unknown, socketOf: (req: ClientRequest, args: unknown[]) => Socket | null): Writer {
  return function (this: ClientRequest, ...args: unknown[]): unknown {
    const err = refusal();
    if (err) {
      this.destroy(err);
      return blocked;
    }
    const socket = socketOf(this, args) as (Socket & { [CHECKED]?: ClientRequest }) | null;
    if (socket?.connecting && socket[CHECKED] !== this) {
      socket[CHECKED] = this;
      // Runs before the 'connect' listener that flushes the data Node holds for the socket.
      socket.prependOnceListener('connect', () => {
        const late = refusal();
        if (late) {
          this.destroy(late);
          socket.destroy(late);
        }
      });
    }
    return original.apply(this, args);
  };
}

/** Installs a guard; returns the function that removes it (the last removal restores Node's own writes). */
export function fenceHttpRequests(guard: RequestGuard): () => void {
  guards.add(guard);
  if (!patched) {
    const proto = ClientRequest.prototype as unknown as Record<string, Writer>;
    const own = { writeRaw: Object.getOwnPropertyDescriptor(proto, '_writeRaw'), flushOutput: Object.getOwnPropertyDescriptor(proto, '_flushOutput') };
    patched = { writeRaw: proto._writeRaw!, flushOutput: proto._flushOutput! };
    // Both answer whether more may be written; `_flushOutput` is given the socket it writes to.
    proto._writeRaw = guarded(patched.writeRaw, false, (req) => req.socket);
    proto._flushOutput = guarded(patched.flushOutput, false, (req, args) => (args[0] as Socket | undefined) ?? req.socket);
    restore = () => {
      for (const [name, d] of [['_writeRaw', own.writeRaw], ['_flushOutput', own.flushOutput]] as const) {
        if (d) Object.defineProperty(proto, name, d);
        else delete proto[name];
      }
      patched = undefined;
    };
  }
  return () => {
    guards.delete(guard);
    if (guards.size === 0) restore?.();
  };
}

let restore: (() => void) | undefined;
