import { createLogger, lineLog, logLevelFlag, type LogLevel } from '../../../common';
import { startEmulators } from '../../../providers/emulator';
import { flag, parseArgs, UsageError } from '../args';
import { runUntilSignal } from './signals';

/** Usage of `meridian emulators`. */
export const EMULATORS_USAGE = `usage: meridian emulators [--host 127.0.0.1] [--aws-port 4566] [--azure-port 4567]
                          [--alibaba-port 4568] [--pending-ms 2000] [--log-level info] [--json]

Runs local, wire-compatible stand-ins for the EC2, Azure Resource Manager and Alibaba ECS APIs
and prints their endpoints and test credentials (--json: one JSON object on one line). Its log
lines (JSON on stderr) are at --log-level trace|debug|info|warn|error|fatal|silent (default info).`;

interface EmulatorsArgs { host: string; ports: { aws: number; azure: number; alibaba: number }; pendingMs?: number; json: boolean; logLevel: LogLevel }

function parsePort(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${name}: expected a port number from 0 to 65535, got '${value}'`);
  return n;
}

/** Parses `meridian emulators` flags; a usage error names the flag at fault. */
export function parseEmulatorsArgs(argv: readonly string[]): EmulatorsArgs {
  const args = parseArgs(argv, ['--host', '--aws-port', '--azure-port', '--alibaba-port', '--pending-ms', '--log-level'], ['--json']);
  if (args.positional.length) throw new UsageError(`unexpected '${args.positional[0]}'`);
  const host = flag(args, '--host') ?? '127.0.0.1';
  if (!host) throw new UsageError('--host: expected an address');
  const pending = flag(args, '--pending-ms');
  if (pending !== undefined && !/^\d+$/.test(pending)) throw new UsageError(`--pending-ms: expected milliseconds >= 0, got '${pending}'`);
  return {
    host, json: args.flags.has('--json'), logLevel: logLevelFlag(args) ?? 'info',
    ports: {
      aws: parsePort('--aws-port', flag(args, '--aws-port'), 4566),
      azure: parsePort('--azure-port', flag(args, '--azure-port'), 4567),
      alibaba: parsePort('--alibaba-port', flag(args, '--alibaba-port'), 4568),
    },
    ...(pending !== undefined ? { pendingMs: Number(pending) } : {}),
  };
}

/** `meridian emulators`: runs the three emulators until SIGINT or SIGTERM. */
export async function emulatorsCommand(argv: readonly string[]): Promise<number> {
  const args = parseEmulatorsArgs(argv);
  const emulators = await startEmulators({ host: args.host, ports: args.ports, pendingMs: args.pendingMs });
  const info = emulators.describe();
  if (args.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    process.stdout.write('Meridian cloud emulators (test credentials only; nothing leaves this machine)\n');
    for (const [cloud, fields] of Object.entries(info)) {
      process.stdout.write(`\n  ${cloud}\n`);
      for (const [k, v] of Object.entries(fields)) process.stdout.write(`    ${k.padEnd(16)} ${v}\n`);
    }
    process.stdout.write('\nFaults: PATCH <admin>faults, e.g. curl -X PATCH -d \'{"outages":["eu-central-1"]}\' <aws admin>faults\nCtrl-C stops.\n');
  }
  return runUntilSignal(() => emulators.stop(), lineLog(createLogger({ name: 'meridian', level: args.logLevel })));
}
