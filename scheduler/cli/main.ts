#!/usr/bin/env node
import { UsageError } from './args';
import { ApiCallError } from './client';
import { applyCommand, APPLY_USAGE } from './commands/apply';
import type { CommandContext } from './commands/context';
import { deleteCommand, DELETE_USAGE } from './commands/delete';
import { emulatorsCommand, EMULATORS_USAGE } from './commands/emulators';
import { geoipCommand, GEOIP_USAGE } from './commands/geoip';
import { getCommand, GET_USAGE } from './commands/get';
import { mrtCommand, MRT_USAGE } from './commands/mrt';
import { planCommand, PLAN_USAGE } from './commands/plan';
import { resolveCommand, RESOLVE_USAGE } from './commands/resolve';
import { serveCommand, SERVE_USAGE } from './commands/serve';
import { upCommand, UP_USAGE } from './commands/up';

interface Command {
  readonly run: (ctx: CommandContext) => Promise<number>;
  readonly usage: string;
  readonly summary: string;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  up: { run: upCommand, usage: UP_USAGE, summary: 'run the sandbox: emulators, scheduler, example workloads' },
  serve: { run: serveCommand, usage: SERVE_USAGE, summary: 'run the scheduler service' },
  apply: { run: applyCommand, usage: APPLY_USAGE, summary: 'create or update policies and workloads from YAML' },
  plan: { run: planCommand, usage: PLAN_USAGE, summary: 'dry run: placement, cost, and why regions were left out' },
  get: { run: getCommand, usage: GET_USAGE, summary: 'show workloads, policies or regions' },
  delete: { run: deleteCommand, usage: DELETE_USAGE, summary: 'delete workloads' },
  regions: { run: (ctx) => getCommand({ ...ctx, argv: ['regions', ...ctx.argv] }), usage: GET_USAGE, summary: 'show the region catalog with health' },
  emulators: { run: (ctx) => emulatorsCommand(ctx.argv), usage: EMULATORS_USAGE, summary: 'run the three cloud emulators' },
  geoip: { run: geoipCommand, usage: GEOIP_USAGE, summary: 'build a signed-channel GeoIP package and print its TXT record' },
  resolve: { run: resolveCommand, usage: RESOLVE_USAGE, summary: 'ask a GeoDNS server what a client subnet gets (ECS)' },
  mrt: { run: mrtCommand, usage: MRT_USAGE, summary: 'mrt dump FILE...: MRT archives as bgpdump -m prints them' },
};

/** Top-level usage. */
export function usage(): string {
  return `usage: meridian <command> [options]\n\ncommands:\n${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}\n\n` +
    'meridian <command> --help shows a command\'s options.\n';
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run({ argv: rest, env, stdout: process.stdout, stderr: process.stderr });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`meridian ${name}: ${err.message}\n\n${cmd.usage}\n`);
      return 2;
    }
    if (err instanceof ApiCallError) {
      process.stderr.write(`meridian ${name}: ${err.message}\n`);
      for (const i of err.issues) process.stderr.write(`  ${i.path || '/'}: ${i.message}\n`);
      return 1;
    }
    process.stderr.write(`meridian ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.stderr.write(`${String(err)}\n`); process.exitCode = 1; },
  );
}
