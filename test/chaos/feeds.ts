/**
 * The three feeds the routing timeline reaches the GeoDNS through, each the real thing: two BIRD 2
 * daemons with a BGP session each to the server (the second also carries the hijacks, so one
 * peer in all sees them), a
 * RIS-layout archive of MRT files (a bview, then one updates file per event) served over HTTP,
 * and signed GeoIP packages whose digest sits in a TXT record of a zone signed by
 * dnssec-signzone and served by NSD. Each feed also has the faults the schedule inflicts on it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AFI_IPV4, AFI_IPV6, type PathAttributes } from '../../dns/geoip/channels/bgp/attributes';
import { encodeRecord, type MrtRecord } from '../../dns/geoip/channels/mrt';
import { buildPackage, formatPackageRecord } from '../../dns/geoip/channels/signed/index';
import { loopbackAddress } from '../tools/daemon';
import { writeGeoipLiteFixture } from '../dns/geoip/fixtures';
import { birdConfig, startBird, type Bird, type BirdOptions } from '../dns/geoip/channels/bgp/fixtures';
import { makeKeys, signZone, sigTime, startNsd, zoneText, type Nsd, type SigWindow, type ZoneKeys } from '../dns/geoip/channels/signed/zone-tools';
import type { Place } from './world';
import type { Route, Timeline } from './timeline';

/** The server's AS and BGP identity. */
export const MERIDIAN_AS = 4200000001;
const BIRD_AS = [65010, 65020] as const;
/** Hold time the BIRD sessions propose (seconds): a frozen daemon is noticed after this. */
export const HOLD_TIME_SECONDS = 6;

/** An HTTP server over a folder, with autoindex pages for folders (as RIS's archive serves). */
export class FolderServer {
  private constructor(private readonly server: Server, readonly root: string, readonly url: string) {}

  static async start(root: string): Promise<FolderServer> {
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const local = join(root, path);
      try {
        if (path.endsWith('/')) res.end(`<html><body>${readdirSync(local).map((n) => `<a href="${n}">${n}</a>`).join('\n')}</body></html>`);
        else res.end(readFileSync(local));
      } catch {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new FolderServer(server, root, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Two BIRD daemons, each with one session to the server: the first clean, the second also announcing the hijacks. */
export class BgpFeed {
  readonly birdAddresses = [loopbackAddress(), loopbackAddress()] as const;
  /** The server's BGP listener (fixed, so a restarted server is found again). */
  readonly listen = { address: loopbackAddress(), port: 1179 };
  private birds: (Bird | undefined)[] = [undefined, undefined];
  private frozen = false;

  /** The `geoip.bgp` settings of the server. */
  settings(): unknown {
    return {
      listen: this.listen, localAs: MERIDIAN_AS, routerId: '10.255.13.1', connectRetrySeconds: 0.5, holdTimeSeconds: HOLD_TIME_SECONDS,
      peers: this.birdAddresses.map((address, i) => ({ address, peerAs: BIRD_AS[i] })),
    };
  }

  private options(i: 0 | 1, routes: readonly Route[]): BirdOptions {
    return {
      address: this.birdAddresses[i], port: 1179, as: BIRD_AS[i], routerId: `10.255.13.${2 + i}`,
      routes4: routes.filter((r) => !isV6(r.prefix)), routes6: routes.filter((r) => isV6(r.prefix)),
      neighbors: [{ name: 'meridian', address: this.listen.address, port: this.listen.port, as: MERIDIAN_AS, holdTimeSeconds: HOLD_TIME_SECONDS }],
    };
  }

  async start(timeline: Timeline): Promise<void> {
    const [a, b] = await Promise.all([startBird(birdConfig(this.options(0, timeline.cleanRoutes()))), startBird(birdConfig(this.options(1, timeline.hijackedRoutes())))]);
    this.birds = [a, b];
    this.frozen = false;
  }

  /** Announces the timeline's current routes (a frozen or dead daemon learns them when it comes back). */
  async publish(timeline: Timeline): Promise<void> {
    if (this.frozen) return;
    await Promise.all([
      this.birds[0]?.reconfigureAsync(birdConfig(this.options(0, timeline.cleanRoutes()))),
      this.birds[1]?.reconfigureAsync(birdConfig(this.options(1, timeline.hijackedRoutes()))),
    ]);
  }

  /** SIGKILL both daemons. */
  async kill(): Promise<void> {
    for (const b of this.birds) b?.daemon.proc.kill('SIGKILL');
    await Promise.all(this.birds.map((b) => b?.stop()));
    this.birds = [undefined, undefined];
  }

  /** SIGSTOP both daemons: their sessions stay open until the server's hold timer expires. */
  freeze(): void {
    for (const b of this.birds) b?.daemon.proc.kill('SIGSTOP');
    this.frozen = true;
  }

  /** Both sessions established, as BIRD sees them. */
  established(): boolean {
    return this.birds.every((b) => b !== undefined && /Established/.test(b.birdc('show', 'protocols', 'meridian')));
  }

  async stop(): Promise<void> {
    await Promise.all(this.birds.map((b) => b?.stop()));
  }
}

const RIS_PEERS = [
  { address: '192.0.2.201', address6: '2001:db8::201', asn: 64510, bgpId: '10.0.0.201' },
  { address: '192.0.2.202', address6: '2001:db8::202', asn: 64520, bgpId: '10.0.0.202' },
] as const;
const FIVE_MINUTES = 300_000;

/** A RIS-layout archive (`rrc00/YYYY.MM/`): a bview of both collector peers, then an updates file per change (hijacks excepted). */
export class RisFeed {
  readonly root = mkdtempSync(join(tmpdir(), 'meridian-chaos-ris-'));
  private server: FolderServer | undefined;
  // File times: a bview five minutes ago, then one five-minute slot per updates file.
  private readonly base = Math.floor(Date.now() / FIVE_MINUTES) * FIVE_MINUTES - FIVE_MINUTES;
  private files = 0;
  private last: [Map<string, Route>, Map<string, Route>] = [new Map(), new Map()];
  /** Files written so far (name -> full bytes), to serve truncated copies later. */
  private readonly written = new Map<string, Buffer>();
  private mode: 'serving' | 'emptied' | 'truncated' = 'serving';

  async start(timeline: Timeline): Promise<void> {
    this.server = await FolderServer.start(this.root);
    const t = this.base / 1000;
    // Both collector peers see the clean table: a hijack is seen by one peer only, the second BIRD.
    const views = [timeline.cleanRoutes(), timeline.cleanRoutes()];
    const byPrefix = new Map<string, (Route | undefined)[]>();
    views.forEach((routes, p) => { for (const r of routes) { const e = byPrefix.get(r.prefix) ?? [undefined, undefined]; e[p] = r; byPrefix.set(r.prefix, e); } });
    const records: MrtRecord[] = [{ kind: 'peer-index', timestamp: t, collectorId: '193.0.4.28', viewName: '', peers: RIS_PEERS.map((p) => ({ address: p.address, asn: p.asn, bgpId: p.bgpId })) }];
    let seq = 0;
    for (const [prefix, per] of byPrefix) {
      const v6 = isV6(prefix);
      // RIB_IPV4_UNICAST (2) or RIB_IPV6_UNICAST (4), RFC 6396 4.3.
      records.push({
        kind: 'rib', timestamp: t, subtype: v6 ? 4 : 2, sequence: seq++, afi: v6 ? AFI_IPV6 : AFI_IPV4, safi: 1, prefix,
        entries: per.flatMap((r, p) => (r ? [{ peerIndex: p, originatedAt: t, attributes: pathAttributes(p, r.asPath, v6 ? { announce: [], withdraw: [] } : undefined) }] : [])),
      });
    }
    this.write(`bview.${stamp(this.base)}.gz`, this.base, gzipSync(Buffer.concat(records.map((r) => encodeRecord(r)))));
    this.last = [new Map(views[0]!.map((r) => [r.prefix, r])), new Map(views[1]!.map((r) => [r.prefix, r]))];
  }

  /** `geoip.ris` settings of a server whose state lives in `stateDir`. */
  settings(stateDir: string): unknown {
    return { baseUrl: this.server!.url, collectors: ['rrc00'], stateFile: join(stateDir, 'ris.json'), pollIntervalSeconds: 0.5, retryIntervalSeconds: 0.5,
      maxAttemptsPerFile: 3, staleAfterMinutes: 30, requestTimeoutSeconds: 5 };
  }

  /** Writes one updates file with what changed for each peer since the last one. */
  publish(timeline: Timeline): void {
    const views = [timeline.cleanRoutes(), timeline.cleanRoutes()];
    const at = this.base + (++this.files) * FIVE_MINUTES;
    const records: MrtRecord[] = [];
    views.forEach((routes, p) => {
      const now = new Map(routes.map((r) => [r.prefix, r]));
      const before = this.last[p]!;
      const withdrawn = [...before.keys()].filter((k) => !now.has(k)).map((prefix) => ({ prefix }));
      const changed = routes.filter((r) => before.get(r.prefix)?.asPath.join(' ') !== r.asPath.join(' '));
      const peer = RIS_PEERS[p]!;
      // IPv4 in the UPDATE's own fields, IPv6 in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760).
      const msg = (announce: readonly Route[], withdraw: readonly { prefix: string }[], asPath: readonly number[], v6: boolean): MrtRecord => ({
        kind: 'bgp4mp-message', timestamp: at / 1000 + 10, microseconds: undefined, subtype: 4, peerAs: peer.asn, localAs: 12654, interfaceIndex: 0,
        afi: AFI_IPV4, peerAddress: peer.address, localAddress: '193.0.4.28', messageType: 2, body: undefined,
        update: v6
          ? { withdrawn: [], attributes: pathAttributes(p, asPath, { announce: announce.map((r) => ({ prefix: r.prefix })), withdraw }), announce: [] }
          : { withdrawn: withdraw, attributes: pathAttributes(p, asPath, undefined), announce: announce.map((r) => ({ prefix: r.prefix })) },
      });
      for (const v6 of [false, true]) {
        const gone = withdrawn.filter((w) => isV6(w.prefix) === v6);
        if (gone.length) records.push(msg([], gone, [], v6));
      }
      for (const r of changed) records.push(msg([r], [], r.asPath, isV6(r.prefix)));
      this.last[p] = now;
    });
    this.write(`updates.${stamp(at)}.gz`, at, gzipSync(Buffer.concat(records.map((r) => encodeRecord(r)))));
  }

  private write(name: string, at: number, bytes: Buffer): void {
    this.written.set(name, bytes);
    if (this.mode === 'emptied') return;
    const dir = join(this.root, 'rrc00', month(at));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), this.mode === 'truncated' ? bytes.subarray(0, Math.floor(bytes.length * 0.6)) : bytes);
  }

  /** Removes every file: the archive lists nothing. */
  empty(): void {
    this.mode = 'emptied';
    rmSync(join(this.root, 'rrc00'), { recursive: true, force: true });
    mkdirSync(join(this.root, 'rrc00'), { recursive: true });
  }

  /** Serves every file again, each cut short (and every later one too). */
  truncate(): void {
    this.mode = 'truncated';
    for (const [name, bytes] of this.written) {
      const at = Date.UTC(Number(name.slice(-16, -12)), Number(name.slice(-12, -10)) - 1, Number(name.slice(-10, -8)), Number(name.slice(-7, -5)), Number(name.slice(-5, -3)));
      this.write(name, at, bytes);
    }
  }

  async stop(): Promise<void> {
    await this.server?.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

function isV6(prefix: string): boolean {
  return prefix.includes(':');
}

// Attributes of a route from collector peer `p`; with `mp`, IPv6 reachability (the MRT RIB form when both lists are empty, RFC 6396 4.3.4).
function pathAttributes(p: number, asPath: readonly number[], mp: { announce: { prefix: string }[]; withdraw: readonly { prefix: string }[] } | undefined): PathAttributes {
  const peer = RIS_PEERS[p]!;
  const base = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [peer.asn, ...asPath] }] };
  if (!mp) return { ...base, nextHop: peer.address };
  if (mp.withdraw.length) return { mpUnreach: { afi: AFI_IPV6, safi: 1, withdraw: mp.withdraw.map((w) => ({ prefix: w.prefix })) } };
  return { ...base, mpReach: { afi: AFI_IPV6, safi: 1, nextHops: [peer.address6], announce: mp.announce } };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function stamp(at: number): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}.${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
}

function month(at: number): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}.${pad(d.getUTCMonth() + 1)}`;
}

const ZONE = 'geo.chaos.test';

/** Signed GeoIP packages: a zone signed by dnssec-signzone (ECDSA P-256, KSK and ZSK), served by NSD; packages over HTTP. */
export class SignedFeed {
  readonly root = mkdtempSync(join(tmpdir(), 'meridian-chaos-signed-'));
  private keys: ZoneKeys | undefined;
  private nsd: Nsd | undefined;
  private web: FolderServer | undefined;
  private readonly at = { address: loopbackAddress(), port: 20_000 + Math.floor(Math.random() * 20_000) };
  private serial = 1000;
  private mode: 'good' | 'tampered' | 'expired' = 'good';
  /** Serials published, and which of them a valid server must accept. */
  readonly published: { serial: number; mode: string }[] = [];

  async start(timeline: Timeline): Promise<void> {
    mkdirSync(join(this.root, 'pkg'));
    mkdirSync(join(this.root, 'keys'));
    this.web = await FolderServer.start(join(this.root, 'pkg'));
    this.keys = makeKeys('bind', 13, ZONE, join(this.root, 'keys'));
    await this.publish(timeline, 0);
  }

  /** `geoip.signed` settings of a server whose state lives in `stateDir`. */
  settings(stateDir: string): unknown {
    return { name: `_geoip.${ZONE}.`, servers: [`${this.at.address}:${this.at.port}`], trustAnchors: [this.keys!.ds], pollIntervalSeconds: 0.5,
      queryTimeoutMs: 1000, fetchTimeoutSeconds: 10, stateDir: join(stateDir, 'signed') };
  }

  /** Builds a package of the timeline's dataset at share `t`, publishes its digest in the zone and restarts NSD on it. */
  async publish(timeline: Timeline, t: number): Promise<void> {
    const serial = ++this.serial;
    const data = timeline.dataset(t);
    const countries: string[] = [];
    const idOf = new Map<string, number>();
    const nameId = (p: Place): number => {
      let id = idOf.get(p.country);
      if (id === undefined) { id = countries.length; countries.push(p.country); idOf.set(p.country, id); }
      return id;
    };
    const src = join(this.root, `dataset-${serial}`);
    const ranges = (family: 4 | 6) => data.filter((d) => d.family === family).map((d) => ({ start: d.first, end: d.last, nameId: nameId(d.place), lat: d.place.lat, lon: d.place.lon }));
    writeGeoipLiteFixture(src, countries, ranges(4), ranges(6));
    const name = `geoip-${serial}.tar.gz`;
    const pkg = await buildPackage({ from: src, output: join(this.root, 'pkg', name), serial });
    rmSync(src, { recursive: true, force: true });
    if (this.mode === 'tampered') {
      // The digest published is the package's; the bytes served are altered after it.
      const bytes = readFileSync(pkg.file);
      bytes[bytes.length - 20] ^= 0x01;
      writeFileSync(pkg.file, bytes);
    }
    const window: SigWindow = this.mode === 'expired' ? { inception: sigTime(-10 * 86_400), expiration: sigTime(-86_400) } : { inception: sigTime(-3600), expiration: sigTime(86_400) };
    const txt = formatPackageRecord({ sha256: pkg.sha256, serial, url: `${this.web!.url}/${name}` });
    const signed = signZone(this.keys!, zoneText(ZONE, txt).replace(' 1 3600 600 86400 300', ` ${serial} 3600 600 86400 300`), window);
    await this.nsd?.stop();
    this.nsd = await startNsd(new Map([[ZONE, signed]]), this.at);
    this.published.push({ serial, mode: this.mode });
  }

  /** From now on the package bytes served differ from the digest published. */
  tamper(): void {
    this.mode = 'tampered';
  }

  /** From now on the zone is signed with signatures that expired a day ago. */
  expire(): void {
    this.mode = 'expired';
  }

  async stop(): Promise<void> {
    await this.nsd?.stop();
    await this.web?.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
