#!/usr/bin/env node
/**
 * The GeoDNS server's entry point (`meridian-dns`): reads its settings once (a JSON or YAML file,
 * then flags), validates them with every error's key path, and serves until SIGINT or SIGTERM.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadGeoipLite, type PreparedGeoTable } from './geoip';
import { HotPrefixCache } from './geoip/channels/hot-cache';
import { BgpChannel } from './geoip/channels/bgp';
import { RisChannel } from './geoip/channels/mrt';
import { SignedPackageChannel } from './geoip/channels/signed';
import { Overlay } from './geoip/channels/overlay';
import { startGeoService, type GeoService, type GeoServiceParts } from './geoip/channels/service';
import { dnsOptionsFromConfig, exampleZoneConfig, loadDnsConfig, startDnsCluster, startDnsServer, UDP_TRANSPORTS, type DnsConfig } from './index';
import type { ClusterGeo } from './cluster';
import { useCatalogSettings } from '../providers';
import { bashCompletion, createLogger, flag, flagsOfUsage, lineLog, logLevelFlag, meridianVersion, parseArgs, UsageError, USAGE_EXIT_CODE, zshCompletion, type CompletionSpec } from '../common';

/**
 * The GeoIP parts this server is built with. A channel kind is configurable (`geoip.bgp`,
 * `geoip.ris`, `geoip.signed`) once its factory is listed here, and the routing channels need the
 * overlay.
 */
export const GEO_PARTS: GeoServiceParts = {
  channels: {
    bgp: (s) => configured('bgp', () => new BgpChannel(s)),
    ris: (s) => configured('ris', () => new RisChannel(s)),
    signed: (s, log) => configured('signed', () => new SignedPackageChannel(s, { log })),
  },
  overlay: (s) => configured('overlay', () => new Overlay(s)),
  openCache: (o) => HotPrefixCache.open(o),
};

/** Makes a channel, naming its settings' place in the file when they are bad. */
function configured<T>(kind: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    throw new DnsUsageError(`geoip.${kind}: ${(e as Error).message}`);
  }
}

// Loads geoip-lite's data (in a worker thread), opens the cache and starts the channels and their
// supervisor: once per host.
async function startGeo(config: DnsConfig, log: (line: string) => void): Promise<{ service: GeoService; cluster: ClusterGeo }> {
  const listeners: ((t: PreparedGeoTable) => void)[] = [];
  const path = config.geoip.cache.path ?? (config.snapshotPath ? join(dirname(config.snapshotPath), 'hot-prefixes.bin') : undefined);
  const service = await startGeoService({ ...config.geoip, cache: { ...config.geoip.cache, path } }, await loadGeoipLite(), GEO_PARTS, { log, onTable: (t) => { for (const l of listeners) l(t); } });
  const cluster: ClusterGeo = {
    columns: () => service.columns(), subscribe: (l) => { listeners.push(l); }, control: service.supervisor, notes: service.recorder, close: () => service.close(),
  };
  return { service, cluster };
}

/** Usage of `meridian-dns`. */
export const DNS_USAGE = `usage: meridian-dns [--config FILE] [--address ADDR] [--port 5300] [--admin-port 8053|off]
                    [--watch URL] [--token TOKEN] [--snapshot FILE] [--workers N] [--udp batched|dgram]
                    [--log-level trace|debug|info|warn|error|fatal|silent] [--json]
       meridian-dns --version | completion bash|zsh

Runs the authoritative GeoDNS server. --config FILE (JSON or YAML) holds the settings of
DnsConfigSchema (address, port, admin, zones, watch, snapshotPath, ttlBounds, rrl, ...); without
it the server serves the example zone meridian.test. --watch follows the scheduler's watch stream;
its token is --token, else $MERIDIAN_API_TOKEN. --workers N > 1 runs N processes on one port.
--udp picks the UDP transport (default: batched recvmmsg/sendmmsg where its addon is built).
--json prints one line { address, port, adminPort } once the server answers. Logs are JSON lines
on stderr (one per admin API request) at --log-level, else the settings' logLevel (default info). $MERIDIAN_DNS_COOKIE_SECRET
(32 hex digits) sets the DNS cookie secret when the settings do not.`;

const VALUED = ['--config', '--address', '--port', '--admin-port', '--watch', '--token', '--snapshot', '--workers', '--udp', '--log-level'];
const SWITCHES = ['--json', '--help', '-h', '--version'];

/** Raised for bad command-line input; the message names the flag (the usage error both CLIs share: exit code 2). */
export const DnsUsageError = UsageError;
/** A `DnsUsageError`. */
export type DnsUsageError = UsageError;

/** What `meridian-dns completion` offers: its flags, and file names after those that take one. */
export const DNS_COMPLETION: CompletionSpec = {
  program: 'meridian-dns', commands: [], words: { '': [...flagsOfUsage(DNS_USAGE), 'completion'] }, fileFlags: ['--config', '--snapshot'],
};

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new DnsUsageError(`--${flag} must be a port number from 0 to 65535, got '${text}'`);
  return n;
}

function readConfigFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new DnsUsageError(`--config ${file} does not parse: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DnsUsageError(`--config ${file} must hold an object`);
  return value as Record<string, unknown>;
}

/** Settings from argv and env: the file first, flags over it; validated and frozen. */
export function dnsConfigFromArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { config: DnsConfig; workers: number; json: boolean } {
  const args = parseArgs(argv, VALUED, SWITCHES);
  if (args.positional.length) throw new DnsUsageError(`unexpected '${args.positional[0]}': meridian-dns takes flags only`);
  const values = {
    config: flag(args, '--config'), address: flag(args, '--address'), port: flag(args, '--port'), 'admin-port': flag(args, '--admin-port'),
    watch: flag(args, '--watch'), token: flag(args, '--token'), snapshot: flag(args, '--snapshot'), workers: flag(args, '--workers'),
    udp: flag(args, '--udp'), json: args.flags.has('--json'),
  };
  const level = logLevelFlag(args);
  const raw: Record<string, unknown> = values.config ? readConfigFile(values.config) : {};
  if (level) raw.logLevel = level;
  if (raw.zones === undefined) raw.zones = exampleZoneConfig().zones;
  if (values.address) raw.address = values.address;
  if (values.port !== undefined) raw.port = port('port', values.port);
  const admin = (raw.admin ?? {}) as Record<string, unknown>;
  if (values['admin-port'] === 'off') raw.admin = { ...admin, enabled: false };
  else if (values['admin-port'] !== undefined) raw.admin = { ...admin, port: port('admin-port', values['admin-port']) };
  if (values.watch) {
    const token = values.token ?? env.MERIDIAN_API_TOKEN;
    if (!token) throw new DnsUsageError('--watch needs a token: pass --token or set MERIDIAN_API_TOKEN');
    raw.watch = { ...(raw.watch as Record<string, unknown> | undefined), url: values.watch, token };
  }
  if (values.snapshot) raw.snapshotPath = values.snapshot;
  if (values.udp !== undefined) {
    if (!(UDP_TRANSPORTS as readonly string[]).includes(values.udp)) throw new DnsUsageError(`--udp must be ${UDP_TRANSPORTS.join(' or ')}, got '${values.udp}'`);
    raw.udpTransport = values.udp;
  }
  if (env.MERIDIAN_DNS_COOKIE_SECRET) {
    const cookies = (raw.cookies ?? {}) as Record<string, unknown>;
    if (cookies.secret === undefined) raw.cookies = { ...cookies, secret: env.MERIDIAN_DNS_COOKIE_SECRET };
  }
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new DnsUsageError(`--workers must be a whole number from 1 to 64, got '${values.workers}'`);
  return { config: loadDnsConfig(raw), workers, json: values.json };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${DNS_USAGE}\n`);
    return 0;
  }
  if (argv[0] === '--version') {
    process.stdout.write(`meridian-dns ${meridianVersion()}\n`);
    return 0;
  }
  if (argv[0] === 'completion') {
    const shell = argv[1];
    if ((shell !== 'bash' && shell !== 'zsh') || argv.length > 2) throw new DnsUsageError('usage: meridian-dns completion bash|zsh');
    process.stdout.write(shell === 'bash' ? bashCompletion(DNS_COMPLETION) : zshCompletion(DNS_COMPLETION));
    return 0;
  }
  const { config, workers, json } = dnsConfigFromArgs(argv, process.env);
  // Region coordinates come from the catalog: the configured file replaces the bundled one before anything reads it.
  useCatalogSettings(config.catalog);
  // A cluster's workers must share one cookie secret: the primary picks it and its forks inherit it.
  if (workers > 1 && cluster.isPrimary && !config.cookies.secret && !process.env.MERIDIAN_DNS_COOKIE_SECRET) {
    process.env.MERIDIAN_DNS_COOKIE_SECRET = randomBytes(16).toString('hex');
  }
  const options = dnsOptionsFromConfig(config);
  const logger = createLogger({ name: 'meridian-dns', level: config.logLevel });
  const log = lineLog(logger);
  let server: Awaited<ReturnType<typeof startDnsCluster>>;
  if (workers > 1) {
    // The primary runs the GeoIP service once and hands each table to the workers.
    server = await startDnsCluster({ ...options, log, requestLog: log }, startDnsServer, workers, async () => (await startGeo(config, log)).cluster);
  } else {
    const { service } = await startGeo(config, log);
    const single = await startDnsServer({ ...options, geo: service.holder, channels: service.supervisor, recorder: service.recorder, log, requestLog: log });
    server = { ...single, close: async () => { await single.close(); await service.close(); } };
  }
  // In a cluster worker the primary speaks for the group.
  if (!('workers' in server) && workers > 1) return -1;
  const ready = { address: config.address, port: server.port, adminPort: 'adminPort' in server ? server.adminPort ?? null : (config.admin.enabled ? config.admin.port : null) };
  if (json) process.stdout.write(`${JSON.stringify(ready)}\n`);
  else {
    process.stdout.write(`meridian GeoDNS answering on ${ready.address}:${ready.port} (UDP and TCP) for ${config.zones.map((z) => z.origin).join(', ')}` +
      `${ready.adminPort !== null ? `; admin http://${config.admin.address}:${ready.adminPort}` : ''}\n`);
  }
  // One listener per signal for the rest of the process's life, so that no second signal finds
  // none (and the default action): the first stops in order, a second one leaves at once.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    let first = true;
    const onSignal = (s: NodeJS.Signals): void => {
      if (first) { first = false; resolve(s); return; }
      logger.warn({ signal: s }, `dns: ${s}: exiting without waiting`);
      process.exit(128 + (osConstants.signals[s] ?? 0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  logger.info({ signal }, `dns: ${signal}: stopping (${signal} again exits at once)`);
  await server.close();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  }, (err: unknown) => {
    const usage = err instanceof DnsUsageError;
    process.stderr.write(`meridian-dns: ${err instanceof Error ? err.message : String(err)}\n${usage ? `\n${DNS_USAGE}\n` : ''}`);
    process.exit(usage ? USAGE_EXIT_CODE : 1);
  });
}
