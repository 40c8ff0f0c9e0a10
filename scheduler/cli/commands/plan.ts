import { flag, flagAll, parseArgs } from '../args';
import { outputFormat, table, usd } from '../output';
import { CLIENT_FLAGS, CLIENT_USAGE, clientFor, type CommandContext } from './context';
import { readDocuments } from './documents';

/** Usage of `meridian plan`. */
export const PLAN_USAGE = `usage: meridian plan -f FILE [-f FILE ...] [--all-reasons] [-o table|json]

Dry run: for each Workload in the files, where its replicas would go, the cost per hour, and why
every other region was left out. A RegionPolicy in the files is used instead of the stored one.
${CLIENT_USAGE}`;

interface PlanAnswer {
  ok: boolean;
  usdPerHour?: number;
  regions?: Array<{ cloud: string; region: string; name: string; size: string; replicas: number; usdPerHour: number; totalUsdPerHour: number }>;
  constraint?: string;
  reason?: string;
  rejected: Array<{ cloud: string; region: string; rule: string; reason: string }>;
}

/** `meridian plan`. */
export async function planCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['-f', '--filename', '-o', '--output', ...CLIENT_FLAGS], ['--all-reasons']);
  const format = outputFormat(flag(args, '-o', '--output'));
  const docs = readDocuments(flagAll(args, '-f', '--filename'));
  const client = clientFor(ctx, args);
  const plans: Array<{ workload: string } & PlanAnswer> = [];
  for (const w of docs.workloads) {
    const policy = docs.policies.find((p) => p.metadata.name === w.policy);
    const answer = await client.call<PlanAnswer>('POST', '/v1/plan', { workload: w, ...(policy ? { policy } : {}) });
    plans.push({ workload: w.name, ...answer });
  }
  if (format === 'json') {
    ctx.stdout.write(`${JSON.stringify({ plans })}\n`);
    return plans.every((p) => p.ok) ? 0 : 1;
  }
  for (const p of plans) {
    ctx.stdout.write(`\nworkload ${p.workload}: `);
    if (!p.ok) {
      ctx.stdout.write(`no placement: ${p.constraint}: ${p.reason}\n`);
    } else {
      ctx.stdout.write(`${usd(p.usdPerHour ?? 0)} per hour\n`);
      ctx.stdout.write(table(['CLOUD', 'REGION', 'NAME', 'SIZE', 'REPLICAS', 'EACH/H', 'TOTAL/H'],
        (p.regions ?? []).map((r) => [r.cloud, r.region, r.name, r.size, r.replicas, usd(r.usdPerHour), usd(r.totalUsdPerHour)])));
    }
    // Group reasons per region; the full list is long over the whole catalog.
    const byRegion = new Map<string, string[]>();
    for (const r of p.rejected) byRegion.set(`${r.cloud}/${r.region}`, [...(byRegion.get(`${r.cloud}/${r.region}`) ?? []), `${r.rule}: ${r.reason}`]);
    const rows = [...byRegion].map(([k, reasons]) => [k, reasons.join('; ')] as const);
    const shown = args.flags.has('--all-reasons') ? rows : rows.slice(0, 15);
    ctx.stdout.write(`left out: ${rows.length} regions\n`);
    if (shown.length) ctx.stdout.write(table(['REGION', 'WHY'], shown));
    if (shown.length < rows.length) ctx.stdout.write(`... and ${rows.length - shown.length} more (--all-reasons shows every one)\n`);
  }
  return plans.every((p) => p.ok) ? 0 : 1;
}
