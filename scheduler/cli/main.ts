#!/usr/bin/env node
import type { CompletionSpec } from '../../common';
import { UsageError, USAGE_EXIT_CODE } from './args';
import { ApiCallError } from './client';
import type { CommandContext } from './commands/context';

/**
 * The shared module, loaded by the few paths that use it here: it brings TypeBox (for the log
 * level's schema), two hundred modules that would double the start-up of a short `mrt dump`.
 */
function common(): typeof import('../../common') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../common') as typeof import('../../common');
}

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

/** Every command, with its one-line summary. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  up: { summary: 'run the sandbox: emulators, scheduler, example workloads',
    load: async () => { const m = await import('./commands/up.js'); return { run: m.upCommand, usage: m.UP_USAGE }; } },
  serve: { summary: 'run the scheduler service',
    load: async () => { const m = await import('./commands/serve.js'); return { run: m.serveCommand, usage: m.SERVE_USAGE }; } },
  apply: { summary: 'create or update policies and workloads from YAML',
    load: async () => { const m = await import('./commands/apply.js'); return { run: m.applyCommand, usage: m.APPLY_USAGE }; } },
  plan: { summary: 'dry run: placement, cost, and why regions were left out',
    load: async () => { const m = await import('./commands/plan.js'); return { run: m.planCommand, usage: m.PLAN_USAGE }; } },
  get: { summary: 'show workloads, policies, regions or a workload\'s instances',
    load: async () => { const m = await import('./commands/get.js'); return { run: m.getCommand, usage: m.GET_USAGE }; } },
  delete: { summary: 'delete workloads or policies',
    load: async () => { const m = await import('./commands/delete.js'); return { run: m.deleteCommand, usage: m.DELETE_USAGE }; } },
  regions: { summary: 'show the region catalog with health',
    load: async () => {
      const m = await import('./commands/get.js');
      return { run: (ctx) => m.getCommand({ ...ctx, argv: ['regions', ...ctx.argv] }), usage: m.GET_USAGE };
    } },
  catalog: { summary: 'catalog refresh: read regions and instance types from the clouds into a catalog file',
    load: async () => { const m = await import('./commands/catalog.js'); return { run: m.catalogCommand, usage: m.CATALOG_USAGE }; } },
  emulators: { summary: 'run the three cloud emulators',
    load: async () => { const m = await import('./commands/emulators.js'); return { run: (ctx) => m.emulatorsCommand(ctx.argv), usage: m.EMULATORS_USAGE }; } },
  geoip: { summary: 'build a signed-channel GeoIP package and print its TXT record',
    load: async () => { const m = await import('./commands/geoip.js'); return { run: m.geoipCommand, usage: m.GEOIP_USAGE }; } },
  resolve: { summary: 'ask a GeoDNS server what a client subnet gets (ECS)',
    load: async () => { const m = await import('./commands/resolve.js'); return { run: m.resolveCommand, usage: m.RESOLVE_USAGE }; } },
  mrt: { summary: 'mrt dump FILE...: MRT archives as bgpdump -m prints them',
    load: async () => {
      // require(), not import(): a dump is often one short file, and import() would first start
      // Node's ESM loader (about 0.04 CPU-s, a fifth of such a run).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require('./commands/mrt.js') as typeof import('./commands/mrt.js');
      return { run: m.mrtCommand, usage: m.MRT_USAGE };
    } },
  completion: { summary: 'completion bash|zsh: print a shell completion script',
    load: async () => ({ run: completionCommand, usage: COMPLETION_USAGE }) },
};

const COMPLETION_USAGE = `usage: meridian completion bash|zsh

Prints a completion script for the shell: commands, resource kinds and each command's flags.
  bash: source <(meridian completion bash)      (or save it in /etc/bash_completion.d/meridian)
  zsh:  source <(meridian completion zsh)       (or save it as _meridian in a directory of $fpath)`;

/**
 * Words `meridian completion` offers after each command: its subcommands or resource kinds, and
 * its flags (a test keeps them in step with each command's usage). Static, so that a shell
 * sourcing the script at start-up does not wait for every command's module to load.
 */
export const COMPLETION_WORDS: Readonly<Record<string, readonly string[]>> = {
  up: ['--host', '--port', '--data-dir', '--token', '--pending-ms', '--dns-port', '--dns-admin-port', '--no-dns', '-f', '--filename',
    '--aws-port', '--azure-port', '--alibaba-port', '--log-level'],
  serve: ['--config', '--data-dir', '--store', '--host', '--port', '--token', '--interval-ms', '--refresh-seconds', '--log-level', '--json'],
  apply: ['-f', '--filename', '--no-wait', '--timeout', '-o', '--output', '--await-policy', '--cancel-deletion', '--server', '--token'],
  plan: ['-f', '--filename', '--all-reasons', '-o', '--output', '--server', '--token'],
  get: ['workloads', 'policies', 'regions', 'instances', '--cloud', '-o', '--output', '-w', '--watch', '--server', '--token'],
  delete: ['workload', 'policy', '-f', '--filename', '--wait', '--timeout', '-o', '--output', '--server', '--token'],
  regions: ['--cloud', '-o', '--output', '-w', '--watch', '--server', '--token'],
  catalog: ['refresh', '--config', '-o', '--output', '--cloud', '--json'],
  emulators: ['--host', '--aws-port', '--azure-port', '--alibaba-port', '--pending-ms', '--log-level', '--json'],
  geoip: ['package', 'build', '--from', '-o', '--output', '--serial', '--valid-days', '--url', '--name'],
  resolve: ['--type', '-t', '--from', '--server', '--timeout-ms'],
  mrt: ['dump'],
  completion: ['bash', 'zsh'],
};

/** What `meridian completion` offers. */
export function completionSpec(): CompletionSpec {
  return {
    program: 'meridian',
    commands: Object.entries(COMMANDS).map(([name, c]) => ({ name, summary: c.summary })),
    words: COMPLETION_WORDS, fileFlags: ['-f', '--filename', '--config', '--data-dir', '--from'],
  };
}

async function completionCommand(ctx: CommandContext): Promise<number> {
  const [shell, ...extra] = ctx.argv;
  if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(shell === undefined ? 'name the shell: bash or zsh' : `unknown shell '${shell}': expected bash or zsh`);
  if (extra.length) throw new UsageError(`unexpected '${extra[0]}'`);
  const spec = completionSpec();
  ctx.stdout.write(shell === 'bash' ? common().bashCompletion(spec) : common().zshCompletion(spec));
  return 0;
}

/** Top-level usage. */
export function usage(): string {
  return `usage: meridian <command> [options]\n       meridian --version\n\ncommands:\n${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}\n\n` +
    'meridian <command> --help shows a command\'s options.\n';
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // Asked for, the usage is the output; missing a command, it is the error.
    (name ? process.stdout : process.stderr).write(usage());
    return name ? 0 : USAGE_EXIT_CODE;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`meridian ${common().meridianVersion()}\n`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`unknown command '${name}'\n\n${usage()}`);
    return USAGE_EXIT_CODE;
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
      return USAGE_EXIT_CODE;
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
