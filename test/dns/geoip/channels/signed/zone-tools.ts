// DNSSEC zones made with Debian's own tools (ldns-keygen/ldns-signzone, dnssec-keygen/
// dnssec-signzone) and served by NSD on a loopback address of its own.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Daemon, daemonDir, loopbackAddress, startDaemon } from '../../../../tools/daemon';
import { queryDnssec } from '../../../../../dns/geoip/channels/signed/index';

/** Which signer made a zone. */
export type Signer = 'ldns' | 'bind';

/** Keys of one zone: the key files' base names (in `dir`) and the DS of the key-signing key. */
export interface ZoneKeys {
  readonly zone: string;
  readonly signer: Signer;
  readonly algorithm: number;
  readonly dir: string;
  /** Base names of the key files, KSK (or CSK) first. */
  readonly keys: readonly string[];
  /** `zone. IN DS tag alg 2 hex` of the KSK, as the tool printed it. */
  readonly ds: string;
}

const LDNS_ALG: Readonly<Record<number, string>> = { 8: 'RSASHA256', 13: 'ECDSAP256SHA256', 14: 'ECDSAP384SHA384', 15: 'ED25519' };

function run(cmd: string, args: readonly string[], cwd: string): string {
  return execFileSync(cmd, [...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * Makes keys for `zone`: with ldns one combined signing key (SEP flag set), with BIND a KSK and a
 * ZSK (so the TXT is signed by a key no DS points at, as RFC 4035 §5 allows).
 */
export function makeKeys(signer: Signer, algorithm: number, zone: string, dir: string): ZoneKeys {
  const bits = algorithm === 8 ? ['-b', '2048'] : [];
  if (signer === 'ldns') {
    const base = run('ldns-keygen', ['-a', LDNS_ALG[algorithm]!, ...bits, '-k', zone], dir);
    const ds = run('ldns-key2ds', ['-n', '-2', `${base}.key`], dir);
    return { zone, signer, algorithm, dir, keys: [base], ds };
  }
  const ksk = run('dnssec-keygen', ['-q', '-K', dir, '-a', LDNS_ALG[algorithm]!, ...bits, '-f', 'KSK', '-n', 'ZONE', zone], dir);
  const zsk = run('dnssec-keygen', ['-q', '-K', dir, '-a', LDNS_ALG[algorithm]!, ...(algorithm === 8 ? ['-b', '1024'] : []), '-n', 'ZONE', zone], dir);
  const ds = run('dnssec-dsfromkey', ['-2', `${ksk}.key`], dir);
  return { zone, signer, algorithm, dir, keys: [ksk, zsk], ds };
}

/** Signature window of a signing run: UTC times as YYYYMMDDHHmmSS. */
export interface SigWindow {
  readonly inception: string;
  readonly expiration: string;
}

/** A YYYYMMDDHHmmSS time `offsetSeconds` from now. */
export function sigTime(offsetSeconds: number): string {
  return new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The usual window: an hour ago to a day ahead. */
export const VALID_NOW: SigWindow = { inception: sigTime(-3600), expiration: sigTime(86_400) };

/** The unsigned zone text with SOA, NS and the package TXT record at `_geoip`. */
export function zoneText(zone: string, txt: string, extra = ''): string {
  return [`$ORIGIN ${zone}.`, '$TTL 300', `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 300`, `@ IN NS ns1.${zone}.`,
    'ns1 IN A 192.0.2.1', `_geoip IN TXT "${txt}"`, extra, ''].join('\n');
}

/** Signs `text` for `keys.zone` with the keys' own tool into `<dir>/<zone>.signed`; returns that path. */
export function signZone(keys: ZoneKeys, text: string, window: SigWindow = VALID_NOW, signWith: readonly string[] = keys.keys): string {
  const unsigned = join(keys.dir, `${keys.zone}.zone`);
  const signed = join(keys.dir, `${keys.zone}.signed`);
  if (keys.signer === 'ldns') {
    writeFileSync(unsigned, text);
    run('ldns-signzone', ['-i', window.inception, '-e', window.expiration, '-f', signed, unsigned, ...signWith], keys.dir);
  } else {
    // dnssec-signzone signs with the keys published at the apex: include them in the zone. -P skips its
    // own check of the result, which refuses windows that are not valid now (the cases under test).
    writeFileSync(unsigned, text + signWith.map((k) => readFileSync(join(keys.dir, `${k}.key`), 'utf8')).join('\n'));
    run('dnssec-signzone', ['-q', '-P', '-K', keys.dir, '-o', `${keys.zone}.`, '-s', window.inception, '-e', window.expiration, '-f', signed, unsigned, ...signWith], keys.dir);
  }
  return signed;
}

/** NSD serving zones from files, on a loopback address and port of its own. */
export interface Nsd {
  readonly daemon: Daemon;
  readonly address: string;
  readonly port: number;
  /** `ADDR:PORT` for the channel's settings. */
  readonly server: string;
  stop(): Promise<void>;
}

/** Starts NSD in the foreground for `zones` (name -> zone file) and waits until it answers for each. */
export async function startNsd(zones: ReadonlyMap<string, string>, at?: { address: string; port: number }): Promise<Nsd> {
  const address = at?.address ?? loopbackAddress();
  const port = at?.port ?? 20_000 + Math.floor(Math.random() * 20_000);
  const dir = daemonDir('nsd');
  writeFileSync(join(dir, 'nsd.conf'), nsdConf(dir, address, port, zones));
  const daemon = await startDaemon({
    cmd: '/usr/sbin/nsd',
    args: ['-d', '-c', join(dir, 'nsd.conf')],
    dir,
    ready: async () => {
      for (const zone of zones.keys()) {
        try {
          const a = await queryDnssec({ address, port }, zone, 6, { udpPayloadBytes: 1232, timeoutMs: 300 });
          if ((a.message.flags & 0x0f) !== 0 || a.message.answers.length === 0) return false;
        } catch {
          return false;
        }
      }
      return true;
    },
    readyTimeoutMs: 20_000,
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    daemon, address, port, server: `${address}:${port}`,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function nsdConf(dir: string, address: string, port: number, zones: ReadonlyMap<string, string>): string {
  return [
    'server:', `  ip-address: ${address}@${port}`, '  username: ""', '  chroot: ""', `  zonesdir: "${dir}"`, `  pidfile: "${dir}/nsd.pid"`,
    '  database: ""', `  zonelistfile: "${dir}/zone.list"`, `  xfrdfile: "${dir}/xfrd.state"`, `  xfrdir: "${dir}"`, '  server-count: 1',
    '  verbosity: 1', '  reuseport: no', '  tcp-count: 16', 'remote-control:', '  control-enable: no',
    ...[...zones].flatMap(([name, file]) => ['zone:', `  name: ${name}`, `  zonefile: "${file}"`]), '',
  ].join('\n');
}
