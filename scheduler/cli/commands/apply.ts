import { flag, flagAll, numberFlag, parseArgs } from '../args';
import { outputFormat, structured } from '../output';
import { CLIENT_FLAGS, CLIENT_USAGE, clientFor, type CommandContext } from './context';
import { readDocuments } from './documents';
import { waitForConvergence, type ProgressTarget } from './progress';

/** Usage of `meridian apply`. */
export const APPLY_USAGE = `usage: meridian apply -f FILE|DIR [-f FILE|DIR ...] [--no-wait] [--timeout SECONDS] [-o table|json|yaml]
                      [--await-policy] [--cancel-deletion]

Creates or updates the RegionPolicy and Workload documents in each YAML file (several documents
per file, separated by ---; a directory gives every .yaml and .yml file in it, sorted by name),
every policy first, then shows progress until every workload converges
at the generation applied. A workload naming a policy that does not exist is refused (with the
closest name), unless --await-policy accepts it to wait for that policy. A workload that is being
deleted is refused until it is gone, unless --cancel-deletion keeps it with the new spec.
${CLIENT_USAGE}`;

/** `meridian apply`. */
export async function applyCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['-f', '--filename', '--timeout', '-o', '--output', ...CLIENT_FLAGS], ['--no-wait', '--await-policy', '--cancel-deletion']);
  const format = outputFormat(flag(args, '-o', '--output'), ['table', 'json', 'yaml']);
  const docs = readDocuments(flagAll(args, '-f', '--filename'));
  const client = clientFor(ctx, args);
  const results: Array<{ kind: string; name: string; result: string }> = [];
  for (const p of docs.policies) {
    const r = await client.call<{ name: string }>('PUT', `/v1/policies/${encodeURIComponent(p.metadata.name)}`, p);
    results.push({ kind: 'RegionPolicy', name: r.name, result: 'applied' });
  }
  const query = new URLSearchParams({
    ...(args.flags.has('--await-policy') ? { awaitPolicy: 'true' } : {}),
    ...(args.flags.has('--cancel-deletion') ? { cancelDeletion: 'true' } : {}),
  }).toString();
  const targets: ProgressTarget[] = [];
  for (const w of docs.workloads) {
    const r = await client.call<{ name: string; generation: number }>('PUT', `/v1/workloads/${encodeURIComponent(w.name)}${query ? `?${query}` : ''}`, w);
    results.push({ kind: 'Workload', name: r.name, result: `applied (generation ${r.generation})` });
    targets.push({ name: r.name, generation: r.generation });
  }
  if (format !== 'table') ctx.stdout.write(structured({ applied: results }, format));
  else for (const r of results) ctx.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.result}\n`);
  if (args.flags.has('--no-wait') || docs.workloads.length === 0) return 0;
  const progressOut = format === 'table' ? ctx.stdout : ctx.stderr;
  const ok = await waitForConvergence(client, targets, progressOut, { timeoutMs: numberFlag(args, '--timeout', 600) * 1000 });
  if (!ok) ctx.stderr.write('timed out before every workload converged (the scheduler keeps working on it)\n');
  return ok ? 0 : 1;
}
