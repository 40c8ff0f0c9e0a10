#!/usr/bin/env node
import { UsageError } from './args';
import { ApiCallError } from './client';
import type { CommandContext } from './commands/context';

/** What a command's module provides once loaded. */
interface LoadedCommand {
  readonly run: (ctx: CommandContext) => Promise<number>;
  readonly usage: string;
}

interface Command {
  readonly summary: string;
  /** Imports the command's module when it runs, so a command loads only what it needs. */
  readonly load: () => Promise<LoadedCommand>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  up: { summary: 'run the sandbox: emulators, scheduler, example workloads',
    load: async () => { const m = await import('./commands/up.js'); return { run: m.upCommand, usage: m.UP_USAGE }; } },
  serve: { summary: 'run the scheduler service',
    load: async () => { const m = await import('./commands/serve.js'); return { run: m.serveCommand, usage: m.SERVE_USAGE }; } },
  apply: { summary: 'create or update policies and workloads from YAML',
    load: async () => { const m = await import('./commands/apply.js'); return { run: m.applyCommand, usage: m.APPLY_USAGE }; } },
  plan: { summary: 'dry run: placement, cost, and why regions were left out',
    load: async () => { const m = await import('./commands/plan.js'); return { run: m.planCommand, usage: m.PLAN_USAGE }; } },
  get: { summary: 'show workloads, policies or regions',
    load: async () => { const m = await import('./commands/get.js'); return { run: m.getCommand, usage: m.GET_USAGE }; } },
  delete: { summary: 'delete workloads',
    load: async () => { const m = await import('./commands/delete.js'); return { run: m.deleteCommand, usage: m.DELETE_USAGE }; } },
  regions: { summary: 'show the region catalog with health',
    load: async () => {
      const m = await import('./commands/get.js');
      return { run: (ctx) => m.getCommand({ ...ctx, argv: ['regions', ...ctx.argv] }), usage: m.GET_USAGE };
    } },
  emulators: { summary: 'run the three cloud emulators',
    load: async () => { const m = await import('./commands/emulators.js'); return { run: (ctx) => m.emulatorsCommand(ctx.argv), usage: m.EMULATORS_USAGE }; } },
  geoip: { summary: 'build a signed-channel GeoIP package and print its TXT record',
    load: async () => { const m = await import('./commands/geoip.js'); return { run: m.geoipCommand, usage: m.GEOIP_USAGE }; } },
  resolve: { summary: 'ask a GeoDNS server what a client subnet gets (ECS)',
    load: async () => { const m = await import('./commands/resolve.js'); return { run: m.resolveCommand, usage: m.RESOLVE_USAGE }; } },
  mrt: { summary: 'mrt dump FILE...: MRT archives as bgpdump -m prints them',
    load: async () => { const m = await import('./commands/mrt.js'); return { run: m.mrtCommand, usage: m.MRT_USAGE }; } },
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
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const cmd = await entry.load();
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
