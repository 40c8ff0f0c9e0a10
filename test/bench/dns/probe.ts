// A minimal UDP DNS client for readiness checks and answer comparison: sends one ECS query and
// reads the first A record and the ECS scope of the reply (bounds-checked, RFC 1035 section 4.1).
import { createSocket } from 'node:dgram';
import { encodeEcsQuery } from './queries';

/** What one reply said. */
export interface ProbeAnswer {
  readonly rcode: number;
  /** First A record, or undefined. */
  readonly a?: string;
  /** ECS scope prefix length echoed by the server, or undefined without ECS. */
  readonly scope?: number;
}

function skipName(msg: Buffer, at: number): number {
  let o = at;
  for (let guard = 0; guard < 128; guard++) {
    if (o >= msg.length) throw new RangeError('name runs past the message');
    const len = msg[o];
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2; // compression pointer ends the name here
    o += 1 + len;
  }
  throw new RangeError('name too long');
}

/** Decodes the parts of a reply that the benchmark checks. */
export function decodeReply(msg: Buffer): ProbeAnswer {
  if (msg.length < 12) throw new RangeError(`reply of ${msg.length} bytes is shorter than a header`);
  const rcode = msg[3] & 0x0f;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  let o = 12;
  for (let i = 0; i < qd; i++) o = skipName(msg, o) + 4;
  let a: string | undefined;
  let scope: number | undefined;
  for (let i = 0; i < an + ns + ar; i++) {
    o = skipName(msg, o);
    if (o + 10 > msg.length) throw new RangeError('record header runs past the message');
    const type = msg.readUInt16BE(o);
    const rdlen = msg.readUInt16BE(o + 8);
    const rd = o + 10;
    if (rd + rdlen > msg.length) throw new RangeError('record data runs past the message');
    if (i < an && type === 1 && rdlen === 4 && a === undefined) a = `${msg[rd]}.${msg[rd + 1]}.${msg[rd + 2]}.${msg[rd + 3]}`;
    if (type === 41) {
      for (let p = rd; p + 4 <= rd + rdlen;) {
        const code = msg.readUInt16BE(p);
        const len = msg.readUInt16BE(p + 2);
        if (code === 8 && len >= 4) scope = msg[p + 7];
        p += 4 + len;
      }
    }
    o = rd + rdlen;
  }
  return { rcode, a, scope };
}

/** Sends one ECS query for `name` about `subnet` (u32 /24) and resolves with the reply, or rejects after `timeoutMs`. */
export function probe(port: number, name: string, subnet: number, timeoutMs = 1000): Promise<ProbeAnswer> {
  return new Promise<ProbeAnswer>((resolve, reject) => {
    const sock = createSocket('udp4');
    const query = encodeEcsQuery(name, subnet);
    const id = Math.floor(Math.random() * 65536);
    query.writeUInt16BE(id, 0);
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.close();
      try { resolve(decodeReply(msg)); } catch (err) { reject(err as Error); }
    });
    sock.on('error', (err) => { clearTimeout(timer); sock.close(); reject(err); });
    sock.send(query, port, '127.0.0.1');
  });
}

/** Polls until the server answers, or rejects after `timeoutMs`. */
export async function waitUntilAnswering(port: number, name: string, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    if (!isAlive()) throw new Error(`server on port ${port} exited before answering`);
    try {
      await probe(port, name, 0x08080800, 300);
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`server on port ${port} did not answer within ${timeoutMs} ms: ${String(last)}`);
}
