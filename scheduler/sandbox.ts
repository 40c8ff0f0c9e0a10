import { isLogLevel, lineLog, type LineLog, type Logger } from '../common';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDocuments, type LoadedDocuments } from '../policies';
import { startEmulators, type RunningEmulators } from '../providers/emulator';
import type { CloudId, ResilienceOptions } from '../providers';
import { loadSchedulerConfig, type SchedulerConfig } from './config';
import { SANDBOX_DNS_ZONE, startSandboxDns, type SandboxDns } from './sandbox-dns';
import { startScheduler, type SchedulerService } from './service';
import { lockDataDir } from './store';

/** Options of the local sandbox (`meridian up`). */
export interface SandboxOptions {
  readonly host?: string;
  /** Scheduler API port (default 8080; 0 picks one). */
  readonly port?: number;
  readonly dataDir?: string;
  /** Bearer token; a random one by default. */
  readonly token?: string;
  /** Emulator ports (default 4566-4568; 0 picks free ones). */
  readonly emulatorPorts?: Partial<Record<CloudId, number>>;
  /** Milliseconds from create to running in the emulators. */
  readonly pendingMs?: number;
  /** YAML files applied at start; the example policies and `scheduler/examples/demo.yaml` by default. */
  readonly documents?: readonly string[];
  readonly reconciler?: Partial<SchedulerConfig['reconciler']>;
  readonly resilience?: Partial<ResilienceOptions>;
  /** The GeoDNS server process on the watch stream (default ports 5300 and admin 8053); false runs none. */
  readonly dns?: { readonly port?: number; readonly adminPort?: number } | false;
  /** The JSON logger of the scheduler (requests, cloud calls); its level also goes to the GeoDNS server. */
  readonly logger?: Logger;
  /** Where operational messages go (default: `logger`). */
  readonly log?: LineLog;
  /** Where the GeoDNS server's own JSON log lines go (default: `log`). */
  readonly dnsLines?: (line: string) => void;
}

/** A running sandbox: emulators and scheduler, each with its own handle; `stop()` stops both. */
export interface Sandbox {
  readonly emulators: RunningEmulators;
  readonly scheduler: SchedulerService;
  /** The GeoDNS server, unless `dns: false`. */
  readonly dns?: SandboxDns;
  /** Names of the policies and workloads applied at start. */
  readonly applied: { readonly policies: readonly string[]; readonly workloads: readonly string[] };
  stop(): Promise<void>;
}

/** The repository root, found from this file in the source tree or in `dist/`. */
function repoRoot(): string {
  for (const up of ['..', '../..']) {
    const dir = resolve(__dirname, up);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
}

/** The example policies and the demo workloads. */
export function defaultSandboxDocuments(): string[] {
  const root = repoRoot();
  const policyDir = join(root, 'policies', 'examples');
  const policies = existsSync(policyDir) ? readdirSync(policyDir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(policyDir, f)) : [];
  return [...policies, join(root, 'scheduler', 'examples', 'demo.yaml')];
}

/** Loads YAML files; throws naming file, document, line and path of every error. */
export function loadDocumentFiles(files: readonly string[]): LoadedDocuments {
  const policies: LoadedDocuments['policies'][number][] = [];
  const workloads: LoadedDocuments['workloads'][number][] = [];
  const problems: string[] = [];
  for (const file of files) {
    const r = loadDocuments(readFileSync(file, 'utf8'));
    if (!r.ok) problems.push(...r.errors.map((e) => `${file}${e.line ? `:${e.line}` : ''} (document ${e.document + 1}) ${e.path || '/'}: ${e.message}`));
    else { policies.push(...r.value.policies); workloads.push(...r.value.workloads); }
  }
  if (problems.length) throw new Error(`invalid documents:\n  ${problems.join('\n  ')}`);
  return { policies, workloads };
}

/**
 * Starts the three emulators, the scheduler over them and a GeoDNS server process on its watch
 * stream, and applies the example documents.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const docs = loadDocumentFiles(opts.documents ?? defaultSandboxDocuments());
  const dataDir = opts.dataDir ?? '.meridian';
  // Taken before anything uses the directory: a second sandbox on it must not start its emulators
  // over the first one's instances.
  const lock = lockDataDir(dataDir);
  // The emulated clouds keep their instances in the data directory, as real clouds would keep
  // them, so a restarted sandbox finds what it left and the store's journal still applies.
  let emulators: RunningEmulators;
  try {
    emulators = await startEmulators({
      host, ports: opts.emulatorPorts, pendingMs: opts.pendingMs, resilience: opts.resilience, stateDir: join(dataDir, 'emulators'),
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  let scheduler: SchedulerService;
  let dns: SandboxDns | undefined;
  try {
    const config = loadSchedulerConfig({
      dataDir,
      api: { host, port: opts.port ?? 8080, token: opts.token ?? randomBytes(24).toString('base64url') },
      // Names are checked against the zone the sandbox's GeoDNS serves.
      dnsZones: opts.dns === false ? [] : [SANDBOX_DNS_ZONE],
      reconciler: { ...opts.reconciler },
    });
    scheduler = await startScheduler({
      config, providers: emulators.providersConfig, logger: opts.logger, log: opts.log, dataDirLock: lock,
      // The status page shows the sandbox's GeoDNS server once it listens.
      geoDnsAdminUrls: () => (dns?.adminPort ? [`http://${host}:${dns.adminPort}`] : []),
    });
  } catch (err) {
    await emulators.stop();
    lock.release();
    throw err;
  }
  try {
    for (const p of docs.policies) {
      const { changed } = await scheduler.store.putPolicy(p.metadata.name, p);
      if (changed) scheduler.reconciler.trigger();
    }
    for (const w of docs.workloads) {
      // A deletion left under way by the last run goes on: a document never revives it.
      if ((await scheduler.store.getWorkload(w.name))?.deletedAt) (opts.log ?? (opts.logger ? lineLog(opts.logger) : undefined))?.(`workload '${w.name}' is still being deleted; not applied again`);
      else await scheduler.store.putWorkload(w);
    }
    scheduler.reconciler.trigger();
    if (opts.dns !== false) {
      dns = await startSandboxDns({
        host, port: opts.dns?.port, adminPort: opts.dns?.adminPort, schedulerUrl: scheduler.url, token: scheduler.token, zone: SANDBOX_DNS_ZONE,
        snapshotPath: join(dataDir, 'dns-snapshot.json'), log: opts.log ?? (opts.logger ? lineLog(opts.logger) : undefined),
        logLevel: opts.logger && isLogLevel(opts.logger.level) ? opts.logger.level : undefined, serverLines: opts.dnsLines,
      });
    }
  } catch (err) {
    await scheduler.stop();
    await emulators.stop();
    lock.release();
    throw err;
  }
  return {
    emulators, scheduler, dns,
    applied: { policies: docs.policies.map((p) => p.metadata.name), workloads: docs.workloads.map((w) => w.name) },
    stop: async () => {
      await dns?.stop();
      await scheduler.stop();
      await emulators.stop();
      lock.release();
    },
  };
}
