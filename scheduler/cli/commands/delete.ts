import { flag, flagAll, numberFlag, parseArgs, UsageError, type ParsedArgs } from '../args';
import { outputFormat, structured, type OutputFormat } from '../output';
import { CLIENT_FLAGS, CLIENT_USAGE, clientFor, type CommandContext } from './context';
import { waitForConvergence } from './progress';

/** Usage of `meridian delete`. */
export const DELETE_USAGE = `usage: meridian delete [workload] NAME ... | -f FILE|DIR  [--wait] [--timeout SECONDS] [-o table|json|yaml]
       meridian delete policy NAME ...

Deletes workloads: their instances are terminated, then they are forgotten. With -f, every
Workload in the files (a directory gives every .yaml and .yml file in it). A workload already
being deleted is said so. --wait shows progress (the instances terminating and those not yet)
until they are gone. A policy is deleted only when no workload uses it (the scheduler names those
that do, including workloads still being deleted).
${CLIENT_USAGE}`;

/** `meridian delete`. */
export async function deleteCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['-f', '--filename', '--timeout', '-o', '--output', ...CLIENT_FLAGS], ['--wait']);
  const format = outputFormat(flag(args, '-o', '--output'), ['table', 'json', 'yaml']);
  const files = flagAll(args, '-f', '--filename');
  let names = [...args.positional];
  if (names[0] === 'policy' || names[0] === 'policies') return deletePolicies(ctx, args, names.slice(1), format);
  if (names[0] === 'workload' || names[0] === 'workloads') names = names.slice(1);
  // The document loader (the policy language and the region catalog) loads only when files are given.
  if (files.length) names.push(...(await import('./documents.js')).readDocuments(files).workloads.map((w) => w.name));
  if (names.length === 0) throw new UsageError('name at least one workload, or pass -f FILE');
  const client = clientFor(ctx, args);
  const already: string[] = [];
  for (const n of names) {
    // 200: the deletion was already under way; 202: this request started it.
    if ((await client.request('DELETE', `/v1/workloads/${encodeURIComponent(n)}`)).status === 200) already.push(n);
  }
  if (format !== 'table') ctx.stdout.write(structured({ deleted: names.filter((n) => !already.includes(n)), alreadyDeleting: already }, format));
  else for (const n of names) ctx.stdout.write(`workload/${n} ${already.includes(n) ? 'already deleting' : 'deleting'}\n`);
  if (!args.flags.has('--wait')) return 0;
  const ok = await waitForConvergence(client, names.map((name) => ({ name })), format === 'table' ? ctx.stdout : ctx.stderr,
    { timeoutMs: numberFlag(args, '--timeout', 600) * 1000, deleting: true });
  return ok ? 0 : 1;
}

// `delete policy NAME ...`: each in turn; the first refused (in use, or unknown) stops the rest.
async function deletePolicies(ctx: CommandContext, args: ParsedArgs, names: readonly string[], format: OutputFormat): Promise<number> {
  if (names.length === 0) throw new UsageError('name at least one policy');
  if (flagAll(args, '-f', '--filename').length || args.flags.has('--wait')) throw new UsageError('delete policy takes names only (no -f, no --wait)');
  const client = clientFor(ctx, args);
  const deleted: string[] = [];
  for (const n of names) {
    await client.call('DELETE', `/v1/policies/${encodeURIComponent(n)}`);
    deleted.push(n);
    if (format === 'table') ctx.stdout.write(`policy/${n} deleted\n`);
  }
  if (format !== 'table') ctx.stdout.write(structured({ deleted }, format));
  return 0;
}
