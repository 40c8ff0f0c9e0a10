import { createLogger, lineLog, logLevelFlag } from '../../../common';
import { startSandbox } from '../../sandbox';
import { flag, flagAll, numberFlag, parseArgs } from '../args';
import type { CommandContext } from './context';
import { expandFiles } from './documents';
import { runUntilSignal } from './signals';

/** Usage of `meridian up`. */
export const UP_USAGE = `usage: meridian up [--host HOST] [--port 8080] [--data-dir .meridian] [--token TOKEN]
                  [--pending-ms 2000] [--dns-port 5300] [--dns-admin-port 8053] [--no-dns] [-f FILE|DIR ...]
                  [--aws-port 4566] [--azure-port 4567] [--alibaba-port 4568] [--log-level info]

Runs the sandbox: the three cloud emulators, the scheduler API over them, a GeoDNS server on its
watch stream, and applies the example policies and workloads (or the -f files; a directory gives
every .yaml and .yml file in it). The token is
--token, $MERIDIAN_API_TOKEN or a random one. The emulators keep their instances in the data
directory between runs. SIGINT or SIGTERM stops in order (calls in flight finish first, for at
most 10 s); a second one exits at once. Logs are JSON lines on stderr (the scheduler's and the
GeoDNS server's), at --log-level trace|debug|info|warn|error|fatal|silent (default info). While another process holds the data directory, up exits
with 1 naming its pid.`;

/** `meridian up`: the sandbox, until SIGINT or SIGTERM. */
export async function upCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['--host', '--port', '--data-dir', '--token', '--pending-ms', '--dns-port', '--dns-admin-port', '-f', '--filename',
    '--aws-port', '--azure-port', '--alibaba-port', '--log-level'], ['--no-dns']);
  const logger = createLogger({ name: 'meridian', level: logLevelFlag(args) ?? 'info' });
  const files = flagAll(args, '-f', '--filename');
  const sandbox = await startSandbox({
    host: flag(args, '--host'),
    port: numberFlag(args, '--port', 8080),
    dataDir: flag(args, '--data-dir'),
    token: flag(args, '--token') ?? ctx.env.MERIDIAN_API_TOKEN,
    pendingMs: flag(args, '--pending-ms') !== undefined ? numberFlag(args, '--pending-ms', 2000) : undefined,
    emulatorPorts: { aws: numberFlag(args, '--aws-port', 4566), azure: numberFlag(args, '--azure-port', 4567), alibaba: numberFlag(args, '--alibaba-port', 4568) },
    ...(files.length ? { documents: expandFiles(files) } : {}),
    dns: args.flags.has('--no-dns') ? false : { port: numberFlag(args, '--dns-port', 5300), adminPort: numberFlag(args, '--dns-admin-port', 8053) },
    logger, log: lineLog(logger), dnsLines: (line) => ctx.stderr.write(`${line}\n`),
  });
  const s = sandbox.scheduler;
  const e = sandbox.emulators.describe();
  const d = sandbox.dns;
  ctx.stdout.write([
    'Meridian sandbox is up (local emulators; nothing leaves this machine)',
    '',
    `  scheduler API   ${s.url}`,
    `  API docs        ${s.url}/docs`,
    `  watch stream    ${s.url}/v1/watch`,
    `  token           ${s.token}`,
    '',
    ...Object.entries(e).map(([cloud, f]) => `  ${cloud.padEnd(8)} emulator  ${f.endpoint}   (faults: ${f.admin}faults)`),
    ...(d ? [`  GeoDNS          ${d.address}:${d.port} (UDP and TCP)${d.adminPort !== null ? `, admin http://${d.address}:${d.adminPort}` : ''}`] : []),
    '',
    `  applied policies: ${sandbox.applied.policies.join(', ') || '-'}`,
    `  applied workloads: ${sandbox.applied.workloads.join(', ') || '-'}`,
    '',
    'Try:',
    `  export MERIDIAN_SERVER=${s.url} MERIDIAN_API_TOKEN=${s.token}`,
    '  node dist/scheduler/cli/main.js get workloads',
    ...(d ? [`  dig @${d.address} -p ${d.port} web.meridian.test A +subnet=81.2.69.0/24`] : []),
    '',
    'Ctrl-C stops.',
    '',
  ].join('\n'));
  return runUntilSignal(() => sandbox.stop(), lineLog(logger));
}
