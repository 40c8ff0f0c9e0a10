// Raw DNS queries with an EDNS Client Subnet option (RFC 7871), written as a dnsperf `-B` file:
// each record is a 2-byte big-endian length followed by the message (RFC 1035 section 4.2.2).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

// RFC 6891 section 6.1.2: OPT pseudo-RR type; RFC 7871 section 6: option code 8.
const TYPE_OPT = 41;
const OPTION_ECS = 8;
const TYPE_A = 1;
const CLASS_IN = 1;
const UDP_PAYLOAD = 1232;

/** Encodes a name as DNS labels (RFC 1035 section 3.1), without compression. */
export function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad DNS label '${label}' in '${name}'`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * One A query for `name` with an ECS option carrying the /`sourcePrefix` of the IPv4 address
 * `subnet` (u32). Only the prefix's bytes are sent (RFC 7871 section 6: address truncated to
 * ceil(prefix / 8) octets). The message id is 0; dnsperf overwrites it.
 */
export function encodeEcsQuery(name: string, subnet: number, sourcePrefix = 24): Buffer {
  const qname = encodeName(name);
  const addrLen = Math.ceil(sourcePrefix / 8);
  const optLen = 4 + addrLen;
  const msg = Buffer.alloc(12 + qname.length + 4 + 11 + 4 + optLen);
  let o = 0;
  msg.writeUInt16BE(0, o); o += 2;        // id
  msg.writeUInt16BE(0, o); o += 2;        // flags: standard query, RD clear (authoritative target)
  msg.writeUInt16BE(1, o); o += 2;        // QDCOUNT
  msg.writeUInt16BE(0, o); o += 2;        // ANCOUNT
  msg.writeUInt16BE(0, o); o += 2;        // NSCOUNT
  msg.writeUInt16BE(1, o); o += 2;        // ARCOUNT: the OPT RR
  qname.copy(msg, o); o += qname.length;
  msg.writeUInt16BE(TYPE_A, o); o += 2;
  msg.writeUInt16BE(CLASS_IN, o); o += 2;
  msg[o++] = 0;                           // OPT owner: root
  msg.writeUInt16BE(TYPE_OPT, o); o += 2;
  msg.writeUInt16BE(UDP_PAYLOAD, o); o += 2; // CLASS carries the UDP payload size
  msg.writeUInt32BE(0, o); o += 4;        // extended RCODE, version 0, flags
  msg.writeUInt16BE(4 + optLen, o); o += 2; // RDLENGTH
  msg.writeUInt16BE(OPTION_ECS, o); o += 2;
  msg.writeUInt16BE(optLen, o); o += 2;
  msg.writeUInt16BE(1, o); o += 2;        // FAMILY 1 = IPv4
  msg[o++] = sourcePrefix;
  msg[o++] = 0;                           // SCOPE PREFIX-LENGTH must be 0 in queries
  const masked = sourcePrefix === 0 ? 0 : (subnet & (0xffffffff << (32 - sourcePrefix))) >>> 0;
  for (let i = 0; i < addrLen; i++) msg[o++] = (masked >>> (24 - 8 * i)) & 0xff;
  return msg;
}

// Special-purpose IPv4 space (RFC 6890) is excluded: real client subnets are public unicast.
function isPublicUnicast(ip: number): boolean {
  const a = ip >>> 24;
  const b = (ip >>> 16) & 0xff;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b < 128) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b < 32) return false;
  if (a === 192 && b === 168) return false;
  return true;
}

/** A seeded generator of random public /24 subnets (u32 with the host byte zero). */
export function randomSubnets(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    for (;;) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      const ip = (s & 0xffffff00) >>> 0;
      if (isPublicUnicast(ip)) return ip;
    }
  };
}

/** Writes `count` ECS queries, each with a fresh random /24, as a dnsperf `-B` file. */
export async function writeQueryFile(path: string, name: string, count: number, seed = 0x5eed): Promise<void> {
  const out = createWriteStream(path);
  const next = randomSubnets(seed);
  const chunk: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const q = encodeEcsQuery(name, next());
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length, 0);
    chunk.push(len, q);
    if (chunk.length >= 8192) {
      if (!out.write(Buffer.concat(chunk.splice(0)))) await once(out, 'drain');
    }
  }
  out.end(Buffer.concat(chunk));
  await once(out, 'finish');
}
