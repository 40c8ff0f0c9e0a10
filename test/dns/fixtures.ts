import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { findRegion, type CloudId } from '../../providers/index';
import type { WorkloadEndpoints } from '../../dns/index';
import {
  CLASS_IN, decode, type DnsMessage, ECS_FAMILY, encode, encodeClientSubnet, type EdnsOption, ipv4ToBytes, ipv6ToBytes, optRecord, QTYPE,
} from '../../dns/wire/index';

const run = promisify(execFile);

type RegionEntry = WorkloadEndpoints['regions'][number];

/** A region entry with the catalog's coordinates and `n` healthy instances numbered from `base`. */
export function region(cloud: CloudId, id: string, addresses: readonly string[], opts: { healthy?: boolean; ipv6?: readonly string[] } = {}): RegionEntry {
  const r = findRegion(cloud, id);
  return {
    cloud, region: id, lat: r.lat, lon: r.lon, country: r.country, continent: r.continent, healthy: opts.healthy ?? true,
    instances: addresses.map((a, i) => ({ id: `${cloud}-${id}-${i}`, ipv4: a, ipv6: opts.ipv6?.[i], healthy: true })),
  };
}

/** A workload `name` at `<name>.meridian.test` over the given regions. */
export function workload(name: string, regions: RegionEntry[], extra: Partial<WorkloadEndpoints> = {}): WorkloadEndpoints {
  return { name, dns: { name: `${name}.meridian.test`, ttl: 30 }, residency: null, regions, ...extra };
}

/** Six regions on five continents, two addresses each, from 10.<k>.0.x (k = region index + 1). */
export function globalRegions(): RegionEntry[] {
  const spec: Array<[CloudId, string]> = [
    ['aws', 'us-east-1'], ['azure', 'westeurope'], ['aws', 'ap-northeast-1'], ['azure', 'brazilsouth'], ['aws', 'ap-southeast-2'], ['azure', 'southafricanorth'],
  ];
  return spec.map(([c, id], k) => region(c, id, [`10.${k + 1}.0.1`, `10.${k + 1}.0.2`], { ipv6: [`fd00:${k + 1}::1`, `fd00:${k + 1}::2`] }));
}

/** Options of `query`. */
export interface QueryOptions {
  readonly id?: number;
  readonly tcp?: boolean;
  /** Adds an OPT record with this UDP size (EDNS). */
  readonly edns?: number;
  /** ECS subnet `a.b.c.d/len` or IPv6 `x::/len`; implies EDNS. */
  readonly ecs?: string;
  readonly extraOptions?: readonly EdnsOption[];
  readonly timeoutMs?: number;
  /** Server address (default 127.0.0.1). */
  readonly host?: string;
}

/** Builds a query message with our codec. */
export function buildQuery(name: string, type: number, o: QueryOptions = {}): Buffer {
  const options: EdnsOption[] = [...(o.extraOptions ?? [])];
  if (o.ecs) {
    const [addr, len] = o.ecs.split('/') as [string, string];
    const v6 = addr.includes(':');
    options.push(encodeClientSubnet({ family: v6 ? ECS_FAMILY.IPV6 : ECS_FAMILY.IPV4, sourcePrefixLength: Number(len), scopePrefixLength: 0,
      address: v6 ? ipv6ToBytes(addr) : ipv4ToBytes(addr) }));
  }
  const withOpt = o.edns !== undefined || options.length > 0;
  const msg: DnsMessage = {
    id: o.id ?? Math.floor(Math.random() * 65536), flags: 0x0100, questions: [{ name, type, class: CLASS_IN }],
    answers: [], authorities: [], additionals: withOpt ? [optRecord(o.edns ?? 1232, options)] : [],
  };
  return encode(msg);
}

/** Sends raw bytes over UDP and resolves with the first reply (or rejects after the timeout). */
export function sendUdp(port: number, payload: Buffer, timeoutMs = 2000, host = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('UDP query timed out')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.send(payload, port, host);
  });
}

/** Sends one framed message over TCP and resolves with the reply. */
export function sendTcp(port: number, payload: Buffer, timeoutMs = 2000, host = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => { s.destroy(); reject(new Error('TCP query timed out')); }, timeoutMs);
    s.on('connect', () => {
      const frame = Buffer.alloc(2 + payload.length);
      frame.writeUInt16BE(payload.length, 0);
      payload.copy(frame, 2);
      s.write(frame);
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

/** Our own client: one query, decoded reply. */
export async function query(port: number, name: string, type: number, o: QueryOptions = {}): Promise<DnsMessage> {
  const payload = buildQuery(name, type, o);
  const raw = o.tcp ? await sendTcp(port, payload, o.timeoutMs, o.host) : await sendUdp(port, payload, o.timeoutMs, o.host);
  return decode(raw);
}

/** Addresses in the answer section, sorted. */
export function addressesOf(m: DnsMessage): string[] {
  return m.answers.filter((r) => r.type === QTYPE.A || r.type === QTYPE.AAAA)
    .map((r) => (r.data.kind === 'address' ? r.data.address : '')).sort();
}

/** The ECS option of a response, decoded (family, source, scope). */
export function ecsOf(m: DnsMessage): { family: number; source: number; scope: number } | undefined {
  const opt = m.additionals.find((r) => r.type === QTYPE.OPT);
  if (!opt || opt.data.kind !== 'opt') return undefined;
  const e = opt.data.options.find((o) => o.code === 8);
  if (!e) return undefined;
  return { family: e.data.readUInt16BE(0), source: e.data[2]!, scope: e.data[3]! };
}

/** Runs a Debian DNS client (`dig` or `kdig`) and returns stdout. */
export async function runClient(cmd: 'dig' | 'kdig', args: readonly string[]): Promise<string> {
  const { stdout } = await run(cmd, [...args], { timeout: 10_000 });
  return stdout;
}

/** Haversine distance in km, written here so tests do not reuse the code under test. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(a));
}

export { QTYPE, CLASS_IN };
