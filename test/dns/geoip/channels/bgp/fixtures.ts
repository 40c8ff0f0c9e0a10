/**
 * Fixtures of the BGP channel tests: real routes from the MRT samples (through `bgpdump -m`),
 * BIRD 2 and GoBGP configurations that announce them, and a sink that keeps what a channel emits.
 */
import { execFile, execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelRecord, ChannelSink } from '../../../../../dns/geoip/channels';
import { createConnection, type Socket } from 'node:net';
import {
  decodeMessage, encodeMessage, messageLength, type BgpMessage, type Capability, type NotificationMessage,
} from '../../../../../dns/geoip/channels/bgp';
import { daemonDir, startDaemon, type Daemon } from '../../../../tools/daemon';
import { waitFor } from '../../../../tools/wait';

/** The RIS RIB dump of 2002 (TABLE_DUMP, 112,988 prefixes), relative to the compiled test. */
export const BVIEW_2002 = join(__dirname, '../../../../../../../shared/data/mrt/ripe-bgpdump_bview.20020722.2337.gz');

/** A route to announce: canonical prefix and AS path as the source saw it (nearest first). */
export interface SampleRoute {
  readonly prefix: string;
  readonly asPath: readonly number[];
}

let cache: SampleRoute[] | undefined;

/**
 * Real IPv4 routes of the 2002 RIB dump: the first path of each prefix, AS_SET paths left out
 * (a static route cannot carry a set), in the dump's order.
 */
export function realIpv4Routes(): readonly SampleRoute[] {
  if (cache) return cache;
  const text = execFileSync('bgpdump', ['-m', BVIEW_2002], { maxBuffer: 256 << 20, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const seen = new Set<string>();
  const out: SampleRoute[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('|');
    if (f.length < 7 || f[2] !== 'B' || f[6].includes('{') || f[6] === '') continue;
    if (seen.has(f[5])) continue;
    seen.add(f[5]);
    out.push({ prefix: f[5], asPath: f[6].split(' ').map(Number) });
  }
  cache = out;
  return out;
}

/**
 * IPv6 routes made from real IPv4 ones: the samples hold too few IPv6 prefixes, so each IPv4
 * prefix a.b.c.d/n becomes 2a00:ab:cd00::/(n+8) (its bits after 0x2a), keeping the real path.
 */
export function syntheticIpv6Routes(n: number, from = realIpv4Routes()): SampleRoute[] {
  const out: SampleRoute[] = [];
  for (let i = 0; i < n; i++) {
    const r = from[i % from.length];
    const [ip, len] = r.prefix.split('/');
    const v = ip.split('.').map(Number);
    const round = Math.floor(i / from.length);
    // Bits: 0x2a (8) | round (8) | IPv4 address (32): unique per (round, prefix).
    const words = [((0x2a << 8) | round) >>> 0, (v[0] << 8) | v[1], (v[2] << 8) | v[3]];
    const hex = words.map((w) => w.toString(16));
    out.push({ prefix: `${hex.join(':')}::/${Number(len) + 16}`, asPath: r.asPath });
  }
  return out.map((r) => ({ prefix: canonicalV6(r.prefix), asPath: r.asPath }));
}

function canonicalV6(p: string): string {
  const [ip, len] = p.split('/');
  const groups = ip.replace(/::$/, '').split(':').map((g) => parseInt(g, 16));
  while (groups.length < 8) groups.push(0);
  const bits = Number(len);
  // Clear host bits so the text is canonical.
  for (let g = 0; g < 8; g++) {
    const keep = Math.max(0, Math.min(16, bits - 16 * g));
    groups[g] &= keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
  }
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const h = (a: number, b: number): string => groups.slice(a, b).map((x) => x.toString(16)).join(':');
  return `${best < 0 ? h(0, 8) : `${h(0, best)}::${h(best + bestLen, 8)}`}/${len}`;
}

/** A sink that keeps every record and counts health changes. */
export class KeepingSink implements ChannelSink {
  readonly all: ChannelRecord[] = [];
  healthChanges = 0;
  records(r: ChannelRecord): void { this.all.push(r); }
  healthChanged(): void { this.healthChanges++; }
}

/** One BGP neighbour of a BIRD instance. */
export interface BirdNeighbor {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly as: number;
  /** BIRD waits for the neighbour to connect. */
  readonly passive?: boolean;
  readonly holdTimeSeconds?: number;
  /** Offer graceful restart with this restart time. */
  readonly gracefulRestartSeconds?: number;
  /** Send several paths per prefix (RFC 7911). */
  readonly addPathTx?: boolean;
  /** BIRD imports from this neighbour (as a relay for another daemon). */
  readonly importAll?: boolean;
}

/** What a BIRD instance announces and to whom. */
export interface BirdOptions {
  readonly address: string;
  readonly port: number;
  readonly as: number;
  readonly routerId: string;
  readonly neighbors: readonly BirdNeighbor[];
  readonly routes4: readonly SampleRoute[];
  readonly routes6: readonly SampleRoute[];
}

function staticRoute(r: SampleRoute): string {
  // Prepending from the origin outwards leaves the path in its original order.
  const pre = [...r.asPath].reverse().map((a) => `bgp_path.prepend(${a});`).join(' ');
  return `  route ${r.prefix} blackhole { ${pre} };\n`;
}

/** BIRD 2 configuration text for `o`. */
export function birdConfig(o: BirdOptions): string {
  let c = `log stderr { warning, error, fatal };\nrouter id ${o.routerId};\nprotocol device {}\n`;
  c += `protocol static s4 {\n ipv4;\n${o.routes4.map(staticRoute).join('')}}\n`;
  c += `protocol static s6 {\n ipv6;\n${o.routes6.map(staticRoute).join('')}}\n`;
  for (const n of o.neighbors) {
    const imp = n.importAll ? 'import all;' : 'import none;';
    const ap = n.addPathTx ? 'add paths tx;' : '';
    c += `protocol bgp ${n.name} {\n local ${o.address} port ${o.port} as ${o.as};\n neighbor ${n.address} port ${n.port} as ${n.as};\n multihop;\n strict bind on;\n`;
    c += ` connect retry time 1;\n connect delay time 1;\n error wait time 1, 2;\n`;
    if (n.passive) c += ' passive on;\n';
    if (n.holdTimeSeconds) c += ` hold time ${n.holdTimeSeconds};\n keepalive time ${Math.max(1, Math.floor(n.holdTimeSeconds / 3))};\n`;
    if (n.gracefulRestartSeconds) c += ` graceful restart on;\n graceful restart time ${n.gracefulRestartSeconds};\n`;
    else c += ' graceful restart off;\n';
    c += ` ipv4 { ${imp} export all; next hop address 192.0.2.1; ${ap} };\n`;
    c += ` ipv6 { ${imp} export all; next hop address 2001:db8::1; ${ap} };\n}\n`;
  }
  return c;
}

/** A running BIRD with its control socket. */
export interface Bird {
  readonly daemon: Daemon;
  /** Runs a `birdc` command and returns its output. */
  birdc(...args: string[]): string;
  /** Replaces the configuration and has BIRD apply it (`birdc configure`). */
  reconfigure(config: string): void;
  /** `reconfigure` without blocking the event loop while BIRD applies it. */
  reconfigureAsync(config: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts BIRD 2 in the foreground with `config`; ready once `birdc` answers. */
export async function startBird(config: string): Promise<Bird> {
  const dir = daemonDir('bird');
  writeFileSync(join(dir, 'bird.conf'), config);
  const sock = join(dir, 'bird.ctl');
  const birdc = (...args: string[]): string => execFileSync('birdc', ['-s', sock, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon = await startDaemon({
    cmd: '/usr/sbin/bird', args: ['-f', '-c', join(dir, 'bird.conf'), '-s', sock], dir,
    ready: () => { try { return birdc('show', 'status').includes('Daemon is up'); } catch { return false; } },
    readyTimeoutMs: 60_000,
  });
  const reconfigure = (text: string): void => {
    writeFileSync(join(dir, 'bird.conf'), text);
    const out = birdc('configure');
    if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`birdc configure failed: ${out}`);
  };
  const reconfigureAsync = (text: string): Promise<void> => new Promise((resolve, reject) => {
    writeFileSync(join(dir, 'bird.conf'), text);
    execFile('birdc', ['-s', sock, 'configure'], { encoding: 'utf8' }, (e, out) => {
      if (e) reject(e);
      else if (!/Reconfigured|Reconfiguration in progress/.test(out)) reject(new Error(`birdc configure failed: ${out}`));
      else resolve();
    });
  });
  return { daemon, birdc, reconfigure, reconfigureAsync, stop: async () => { await daemon.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

/** One GoBGP neighbour. */
export interface GobgpNeighbor {
  readonly address: string;
  readonly port: number;
  readonly as: number;
  /** GoBGP waits for the neighbour to connect. */
  readonly passive?: boolean;
}

/** GoBGP configuration (TOML): listens on `address`:`port`, connects to every neighbour from `address`. */
export function gobgpConfig(o: { address: string; port: number; as: number; routerId: string; neighbors: readonly GobgpNeighbor[] }): string {
  let c = `[global.config]\n  as = ${o.as}\n  router-id = "${o.routerId}"\n  port = ${o.port}\n  local-address-list = ["${o.address}"]\n`;
  for (const n of o.neighbors) {
    c += `[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "${n.address}"\n    peer-as = ${n.as}\n`;
    c += `  [neighbors.transport.config]\n    local-address = "${o.address}"\n    remote-port = ${n.port}\n${n.passive ? '    passive-mode = true\n' : ''}`;
    c += `  [neighbors.timers.config]\n    connect-retry = 1\n`;
    c += `  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = 16\n`;
    for (const f of ['ipv4-unicast', 'ipv6-unicast']) c += `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}"\n`;
  }
  return c;
}

/** A running gobgpd and its CLI. */
export interface Gobgp {
  readonly daemon: Daemon;
  gobgp(...args: string[]): string;
  stop(): Promise<void>;
}

/** Starts gobgpd with `config`, its API on `apiAddress`:50051; ready once the CLI answers. */
export async function startGobgp(config: string, apiAddress: string): Promise<Gobgp> {
  const dir = daemonDir('gobgp');
  writeFileSync(join(dir, 'gobgpd.toml'), config);
  const gobgp = (...args: string[]): string => execFileSync('gobgp', ['-u', apiAddress, '-p', '50051', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon = await startDaemon({
    cmd: 'gobgpd', args: ['-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '--api-hosts', `${apiAddress}:50051`, '-l', 'warn'], dir,
    ready: () => { try { gobgp('global'); return true; } catch { return false; } },
  });
  return { daemon, gobgp, stop: async () => { await daemon.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

/** A hand-driven BGP speaker on a raw socket, for what real daemons never send. */
export class RawSpeaker {
  readonly received: BgpMessage[] = [];
  closed = false;
  private buf = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      for (;;) {
        const len = messageLength(this.buf);
        if (len === undefined || this.buf.length < len) break;
        this.received.push(decodeMessage(this.buf).message);
        this.buf = this.buf.subarray(len);
      }
    });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => undefined);
  }

  /** Connects from `localAddress` to `host`:`port`. */
  static async connect(host: string, port: number, localAddress: string): Promise<RawSpeaker> {
    const s = createConnection({ host, port, localAddress });
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
    return new RawSpeaker(s);
  }

  send(m: BgpMessage | Uint8Array): void {
    this.socket.write(m instanceof Uint8Array ? m : encodeMessage(m));
  }

  /** Sends OPEN and KEEPALIVE and waits for the session to be Established from our side. */
  async establish(as: number, bgpId: string, capabilities: readonly Capability[] = [{ code: 65, asn: as }, { code: 1, afi: 1, safi: 1 }, { code: 1, afi: 2, safi: 1 }]): Promise<void> {
    this.send({ type: 1, version: 4, myAs: as > 0xffff ? 23456 : as, holdTimeSeconds: 90, bgpId, capabilities });
    await waitFor('OPEN and KEEPALIVE from Meridian', () => this.received.some((m) => m.type === 1) && this.received.some((m) => m.type === 4));
    this.send({ type: 4 });
  }

  /** The first NOTIFICATION received, once there is one. */
  async notification(): Promise<NotificationMessage> {
    await waitFor('a NOTIFICATION', () => this.received.some((m) => m.type === 3));
    return this.received.find((m): m is NotificationMessage => m.type === 3)!;
  }

  close(): void {
    this.socket.destroy();
  }
}
