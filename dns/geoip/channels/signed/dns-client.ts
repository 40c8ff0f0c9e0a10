/**
 * DNS queries over dns2: the channel's DNSSEC queries (DO bit, raw records) and the `meridian
 * resolve` lookups (EDNS Client Subnet).
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import DNS from 'dns2';
import { decode, type DnsMessage, type ResourceRecord } from '../../../wire/index';
import type { SectionRecord } from './validate';

/** A server to ask: `ADDR:PORT`, `[v6]:PORT`, or an address alone (port 53). */
export interface ServerAddress {
  readonly address: string;
  readonly port: number;
}

/** Parses `ADDR[:PORT]` / `[V6]:PORT`; throws `RangeError` naming the bad text. */
export function parseServerAddress(text: string): ServerAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? (net.isIPv6(text) ? [text, text, undefined] : /^([^:]+)(?::(\d+))?$/.exec(text));
  const address = m?.[1];
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!address || !net.isIP(address) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`server must be ADDR:PORT with an IP address and a port 1..65535, got '${text}'`);
  }
  return { address, port };
}

/** Options of one DNSSEC query. */
export interface DnssecQueryOptions {
  /** Our advertised EDNS UDP payload size (RFC 6891 §6.2.3); a small one makes servers truncate, and we retry over TCP. */
  readonly udpPayloadBytes: number;
  readonly timeoutMs: number;
}

/** The answer to one DNSSEC query: the decoded message and the transport that carried it. */
export interface DnssecAnswer {
  readonly message: DnsMessage;
  readonly transport: 'udp' | 'tcp';
}

const TC = 0x0200;
const OPT = 41;

// dns2's UDP and TCP clients build their own query from a name, a type and an optional client
// subnet, with no way to set the DO bit (RFC 3225 §3), and hand back only their parsed packet,
// which keeps no raw RDATA of RRSIG or DNSKEY records: validation needs those bytes exactly as
// signed. So the query is built with dns2's packet encoder, whose EDNS record can carry the DO bit,
// sent over a socket here, and the response is decoded with our own wire codec (dns/wire).
function buildQuery(name: string, type: number, udpPayloadBytes: number): Buffer {
  const packet = new DNS.Packet();
  packet.header.id = randomInt(0x10000);
  packet.header.rd = 0;
  packet.questions.push({ name: name.replace(/\.$/, ''), type, class: DNS.Packet.CLASS.IN } as DNS.Packet.Question);
  const edns = DNS.Packet.Resource.EDNS as unknown as (rdata: object[], opts: { doFlag: boolean; udpPayloadSize: number }) => DNS.Packet.Resource;
  packet.additionals.push(edns([], { doFlag: true, udpPayloadSize: udpPayloadBytes }));
  return packet.toBuffer();
}

function checkReply(query: Buffer, reply: Buffer, where: string): DnsMessage {
  const message = decode(reply);
  if (message.id !== query.readUInt16BE(0)) throw new Error(`${where}: reply id ${message.id} does not match the query's`);
  if (!(message.flags & 0x8000)) throw new Error(`${where}: reply has QR clear`);
  return message;
}

function udpExchange(server: ServerAddress, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4');
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      sock.removeAllListeners('message');
      sock.close();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`no UDP reply from ${server.address}:${server.port} within ${timeoutMs} ms`))), timeoutMs);
    sock.on('error', (err) => done(() => reject(err)));
    sock.on('message', (msg, rinfo) => {
      // Only the server we asked, with our id: anything else is stray or forged (RFC 5452 §9.1).
      if (rinfo.port !== server.port || msg.length < 2 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
      done(() => resolve(msg));
    });
    sock.send(query, server.port, server.address, (err) => { if (err) done(() => reject(err)); });
  });
}

function tcpExchange(server: ServerAddress, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const sock = net.connect({ host: server.address, port: server.port });
    let buf = Buffer.alloc(0);
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`no TCP reply from ${server.address}:${server.port} within ${timeoutMs} ms`))), timeoutMs);
    sock.on('connect', () => {
      // RFC 1035 §4.2.2: two-octet length prefix.
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        done(() => resolve(Buffer.from(msg)));
      }
    });
    sock.on('error', (err) => done(() => reject(err)));
    sock.on('close', () => done(() => reject(new Error(`${server.address}:${server.port} closed the TCP connection before a whole reply`))));
  });
}

/** Asks `server` for `name`/`type` with the DO bit over UDP, and again over TCP when the reply is truncated (RFC 7766 §5). */
export async function queryDnssec(server: ServerAddress, name: string, type: number, options: DnssecQueryOptions): Promise<DnssecAnswer> {
  const query = buildQuery(name, type, options.udpPayloadBytes);
  const where = `${server.address}:${server.port}`;
  const udp = checkReply(query, await udpExchange(server, query, options.timeoutMs), where);
  if (!(udp.flags & TC)) return { message: udp, transport: 'udp' };
  return { message: checkReply(query, await tcpExchange(server, query, options.timeoutMs), where), transport: 'tcp' };
}

/** The answer section's records with raw RDATA, for the validator (TXT strings re-encoded exactly as on the wire). */
export function sectionRecords(records: readonly ResourceRecord[]): SectionRecord[] {
  const out: SectionRecord[] = [];
  for (const r of records) {
    if (r.type === OPT) continue;
    let rdata: Buffer;
    if (r.data.kind === 'raw') rdata = r.data.bytes;
    else if (r.data.kind === 'txt') rdata = Buffer.concat(r.data.strings.flatMap((s) => [Buffer.from([s.length]), s]));
    else continue;
    out.push({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, rdata });
  }
  return out;
}

/** One answer record of `meridian resolve`. */
export interface ResolvedRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: string;
}

/** What `resolveWithSubnet` returns. */
export interface ResolveResult {
  readonly rcode: number;
  readonly answers: readonly ResolvedRecord[];
  /** The ECS scope prefix length the server echoed (RFC 7871 §7.2.1); undefined when it echoed no ECS. */
  readonly scopePrefixLength: number | undefined;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(DNS.Packet.TYPE).map(([k, v]) => [v as number, k]));

interface Dns2Ecs { readonly ednsCode?: number; readonly scopePrefixLength?: number }

/**
 * Asks `server` what a client in `subnet` gets for `name`/`type`, with dns2's UDP client (which
 * retries over TCP on truncation) and its EDNS Client Subnet option. dns2 encodes ECS for IPv4
 * subnets only, so an IPv6 `subnet` is refused with a `RangeError`.
 */
export async function resolveWithSubnet(server: ServerAddress, name: string, type: string, subnet: string | undefined, timeoutMs = 3000): Promise<ResolveResult> {
  const t = type.toUpperCase();
  if (!(t in DNS.Packet.TYPE)) throw new RangeError(`unknown record type '${type}'`);
  if (subnet !== undefined) {
    const [ip, len] = subnet.split('/');
    if (!net.isIPv4(ip ?? '') || (len !== undefined && !(/^\d+$/.test(len) && Number(len) <= 32))) {
      throw new RangeError(`--from must be an IPv4 subnet such as 81.2.69.0/24 (dns2 sends IPv4 client subnets only), got '${subnet}'`);
    }
  }
  const client = DNS.UDPClient({ dns: server.address, port: server.port, timeout: timeoutMs, socketType: net.isIPv6(server.address) ? 'udp6' : 'udp4' });
  const res = await client(name, t, DNS.Packet.CLASS.IN, { recursive: false, ...(subnet ? { clientIp: subnet.includes('/') ? subnet : `${subnet}/32` } : {}) });
  const answers = (res.answers ?? []).map((a) => ({
    name: a.name, type: TYPE_NAMES.get(a.type) ?? `TYPE${a.type}`, ttl: a.ttl,
    data: a.address ?? a.domain ?? a.ns ?? (Array.isArray(a.data) ? a.data.join('') : a.data) ?? '',
  }));
  const opt = (res.additionals ?? []).find((r) => r.type === OPT) as { rdata?: Dns2Ecs[] } | undefined;
  const ecs = opt?.rdata?.find((o) => o.ednsCode === 8);
  return { rcode: res.header.rcode, answers, scopePrefixLength: ecs?.scopePrefixLength };
}
