import { createLogger, lineLog, logLevelFlag } from '../../../common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ProvidersConfig } from '../../../providers';
import { loadSchedulerConfig, redactStoreUrl } from '../../config';
import { startScheduler } from '../../service';
import { flag, numberFlag, parseArgs } from '../args';
import type { CommandContext } from './context';
import { runUntilSignal } from './signals';

/** Usage of `meridian serve`. */
export const SERVE_USAGE = `usage: meridian serve [--config FILE] [--data-dir DIR] [--store postgres://USER@HOST:PORT/DB] [--host HOST]
                     [--port PORT] [--token TOKEN] [--interval-ms N] [--refresh-seconds N] [--log-level LEVEL] [--json]

Runs the scheduler service (state store, reconciler, HTTP API) until SIGINT or SIGTERM.
--config FILE is JSON: { "scheduler": { ...settings... }, "providers": { aws, azure, alibaba, resilience } }.
The token comes from --token, else $MERIDIAN_API_TOKEN, else the config, else a random one (printed).
--json prints one line { url, port, token } once listening. Logs are JSON lines on stderr (one per
API request and per cloud call) at --log-level trace|debug|info|warn|error|fatal|silent, else the
settings' scheduler.logLevel (default info).
A data directory serves one process: while another holds it, serve exits with 1 naming its pid.
--store (or scheduler.store.url) keeps the state in PostgreSQL instead, shared by every scheduler
given the same URL: all serve the API, the holder of the leader lease reconciles. The password
comes from $MERIDIAN_STORE_PASSWORD, else $PGPASSWORD, else the file scheduler.store.passwordFile.`;

/** `meridian serve`. */
export async function serveCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['--config', '--data-dir', '--store', '--host', '--port', '--token', '--interval-ms', '--refresh-seconds', '--log-level'], ['--json']);
  const level = logLevelFlag(args);
  const file = flag(args, '--config');
  const raw = file ? JSON.parse(readFileSync(file, 'utf8')) as { scheduler?: Record<string, unknown>; providers?: ProvidersConfig } : {};
  const sched = (raw.scheduler ?? {}) as { dataDir?: string; api?: Record<string, unknown>; reconciler?: Record<string, unknown>; store?: Record<string, unknown> };
  const reconciler = { ...sched.reconciler };
  if (flag(args, '--interval-ms')) reconciler.intervalMs = numberFlag(args, '--interval-ms', 0);
  if (flag(args, '--refresh-seconds')) reconciler.refreshIntervalSeconds = numberFlag(args, '--refresh-seconds', 0);
  const config = loadSchedulerConfig({
    ...sched,
    ...(level ? { logLevel: level } : {}),
    dataDir: flag(args, '--data-dir') ?? sched.dataDir ?? '.meridian',
    api: {
      ...sched.api,
      ...(flag(args, '--host') ? { host: flag(args, '--host') } : {}),
      ...(flag(args, '--port') !== undefined ? { port: numberFlag(args, '--port', 8080) } : {}),
      token: flag(args, '--token') ?? ctx.env.MERIDIAN_API_TOKEN ?? sched.api?.token ?? randomBytes(24).toString('base64url'),
    },
    reconciler,
    ...(flag(args, '--store') !== undefined || sched.store ? { store: { ...sched.store, ...(flag(args, '--store') !== undefined ? { url: flag(args, '--store') } : {}) } } : {}),
  }, '/scheduler');
  const storePassword = ctx.env.MERIDIAN_STORE_PASSWORD ?? ctx.env.PGPASSWORD
    ?? (config.store.passwordFile ? readFileSync(config.store.passwordFile, 'utf8').split('\n')[0] : undefined);
  const logger = createLogger({ name: 'meridian', level: config.logLevel });
  const svc = await startScheduler({ config, providers: raw.providers ?? {}, logger, ...(storePassword !== undefined ? { storePassword } : {}) });
  const where = config.store.url ? `state in ${redactStoreUrl(config.store.url)}` : `data in ${config.dataDir}`;
  if (args.flags.has('--json')) ctx.stdout.write(`${JSON.stringify({ url: svc.url, port: svc.port, token: svc.token })}\n`);
  else ctx.stdout.write(`meridian scheduler listening on ${svc.url} (${where})\ntoken: ${svc.token}\n`);
  return runUntilSignal(() => svc.stop(), lineLog(logger));
}
