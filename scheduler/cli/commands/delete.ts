import { flag, flagAll, numberFlag, parseArgs, UsageError } from '../args';
import { outputFormat } from '../output';
import { CLIENT_FLAGS, CLIENT_USAGE, clientFor, type CommandContext } from './context';
import { readDocuments } from './documents';
import { waitForConvergence } from './progress';

/** Usage of `meridian delete`. */
export const DELETE_USAGE = `usage: meridian delete [workload] NAME ... | -f FILE  [--wait] [--timeout SECONDS] [-o table|json]

Deletes workloads: their instances are terminated, then they are forgotten. With -f, every
Workload in the files. A workload already being deleted is said so. --wait shows progress (the
instances terminating and those not yet) until they are gone.
${CLIENT_USAGE}`;

/** `meridian delete`. */
export async function deleteCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['-f', '--filename', '--timeout', '-o', '--output', ...CLIENT_FLAGS], ['--wait']);
  const format = outputFormat(flag(args, '-o', '--output'));
  const files = flagAll(args, '-f', '--filename');
  let names = [...args.positional];
  if (names[0] === 'workload' || names[0] === 'workloads') names = names.slice(1);
  if (files.length) names.push(...readDocuments(files).workloads.map((w) => w.name));
  if (names.length === 0) throw new UsageError('name at least one workload, or pass -f FILE');
  const client = clientFor(ctx, args);
  const already: string[] = [];
  for (const n of names) {
    // 200: the deletion was already under way; 202: this request started it.
    if ((await client.request('DELETE', `/v1/workloads/${encodeURIComponent(n)}`)).status === 200) already.push(n);
  }
  if (format === 'json') ctx.stdout.write(`${JSON.stringify({ deleted: names.filter((n) => !already.includes(n)), alreadyDeleting: already })}\n`);
  else for (const n of names) ctx.stdout.write(`workload/${n} ${already.includes(n) ? 'already deleting' : 'deleting'}\n`);
  if (!args.flags.has('--wait')) return 0;
  const ok = await waitForConvergence(client, names.map((name) => ({ name })), format === 'json' ? ctx.stderr : ctx.stdout,
    { timeoutMs: numberFlag(args, '--timeout', 600) * 1000, deleting: true });
  return ok ? 0 : 1;
}
