import { startEmulators } from '../../../providers/emulator';
import { runUntilSignal } from './signals';

/** Usage of `meridian emulators`. */
export const EMULATORS_USAGE = `usage: meridian emulators [--host 127.0.0.1] [--aws-port 4566] [--azure-port 4567]
                          [--alibaba-port 4568] [--pending-ms 2000] [--json]

Runs local, wire-compatible stand-ins for the EC2, Azure Resource Manager and Alibaba ECS APIs
and prints their endpoints and test credentials (--json: one JSON object on one line).`;

interface EmulatorsArgs { host: string; ports: { aws: number; azure: number; alibaba: number }; pendingMs?: number; json: boolean }

function parsePort(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`${flag}: expected a port number from 0 to 65535, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  }
  return n;
}

/** Parses `meridian emulators` flags; throws naming the flag at fault. */
export function parseEmulatorsArgs(argv: readonly string[]): EmulatorsArgs {
  const out: EmulatorsArgs = { host: '127.0.0.1', ports: { aws: 4566, azure: 4567, alibaba: 4568 }, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--json': out.json = true; break;
      case '--host': out.host = argv[++i] ?? ''; if (!out.host) throw new Error('--host: expected an address'); break;
      case '--aws-port': out.ports.aws = parsePort(flag, argv[++i]); break;
      case '--azure-port': out.ports.azure = parsePort(flag, argv[++i]); break;
      case '--alibaba-port': out.ports.alibaba = parsePort(flag, argv[++i]); break;
      case '--pending-ms': {
        const v = Number(argv[++i]);
        if (!Number.isInteger(v) || v < 0) throw new Error(`--pending-ms: expected milliseconds >= 0, got '${argv[i] ?? ''}'`);
        out.pendingMs = v;
        break;
      }
      default: throw new Error(`unknown flag '${flag}'\n${EMULATORS_USAGE}`);
    }
  }
  return out;
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
  return runUntilSignal(() => emulators.stop(), process.stderr);
}
