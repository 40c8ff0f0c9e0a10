import { flag, parseArgs, UsageError, type ParsedArgs } from '../args';
import { ApiCallError, type SchedulerClient } from '../client';
import { outputFormat, structured, table, usd, type OutputFormat } from '../output';
import { CLIENT_FLAGS, CLIENT_USAGE, clientFor, clientOptions, type CommandContext } from './context';
import { followWatch } from './follow';

/** Usage of `meridian get`. */
export const GET_USAGE = `usage: meridian get workloads|policies|regions [NAME] [--cloud CLOUD] [-o table|json|yaml]
       meridian get workloads [NAME] -w [-o table|json|yaml]
       meridian get instances WORKLOAD [-o table|json|yaml]

Shows workloads (with placement and progress, and for each one not converged why, region by
region), policies, the region catalog with health, or a workload's instances (cloud, region, id,
state, addresses, age). -o json prints one JSON line, -o yaml a YAML document (-ojson works too).
-w (--watch) then follows the scheduler's watch stream and prints a workload again each time it
changes, until interrupted.
${CLIENT_USAGE}`;

interface WorkloadView {
  name: string; generation: number; deleting: boolean;
  spec: { replicas: number; policy: string; dns?: { name: string } };
  status: {
    desired: number; ready: number; pending: number; terminating: number; converged: boolean; placementError?: string;
    reasons?: Array<{ code: string; cloud?: string; region?: string; message: string }>;
  };
  placement: { usdPerHour: number; assignments: Array<{ cloud: string; region: string; size: string; replicas: number }> } | null;
}
interface PolicyView { name: string; updatedAt: string; document: { spec?: Record<string, unknown> } }
interface InstanceView {
  cloud: string; region: string; id: string | null; state: string; addresses: { public: string | null; private: string | null }; ageSeconds: number;
}
interface RegionView { cloud: string; id: string; name: string; country: string; continent: string; healthy: boolean; breaker: string; constrained: Array<{ size: string }> }

const KINDS: Record<string, 'workloads' | 'policies' | 'regions' | 'instances'> = {
  instance: 'instances', instances: 'instances',
  workload: 'workloads', workloads: 'workloads', wl: 'workloads',
  policy: 'policies', policies: 'policies',
  region: 'regions', regions: 'regions',
};

/** An age as kubectl shows it: 45s, 12m, 3h, 2d. */
function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

const WORKLOAD_COLUMNS = ['NAME', 'POLICY', 'READY', 'PENDING', 'STATUS', 'COST/H', 'REGIONS', 'DNS'];

function workloadRow(w: WorkloadView): string[] {
  return [
    w.name, w.spec.policy, w.deleting ? `${w.status.terminating} terminating` : `${w.status.ready}/${w.status.desired}`, String(w.status.pending),
    w.deleting ? 'deleting' : w.status.placementError ? 'unplaceable' : w.status.converged ? 'converged' : 'converging',
    w.placement ? usd(w.placement.usdPerHour) : '-',
    (w.placement?.assignments ?? []).map((a) => `${a.cloud}:${a.region}=${a.replicas}`).join(',') || '-',
    w.spec.dns?.name ?? '-',
  ];
}

/**
 * `get workloads -w`: the list, then each workload again whenever the watch stream says it changed
 * (a row with a fixed width per column, as kubectl prints them, or one JSON line / YAML document).
 */
async function watchWorkloads(ctx: CommandContext, args: ParsedArgs, client: SchedulerClient, items: WorkloadView[], only: string | undefined,
  format: OutputFormat): Promise<number> {
  const widths = [16, 14, 14, 7, 11, 9, 30, 0];
  const line = (cells: readonly string[]) => `${cells.map((c, i) => (widths[i] ? c.padEnd(widths[i]) : c)).join(' ').trimEnd()}\n`;
  const last = new Map<string, string>();
  const show = (name: string, w: WorkloadView | undefined) => {
    const text = format === 'table' ? line(w ? workloadRow(w) : [name, '-', '-', '-', 'deleted', '-', '-', '-'])
      : format === 'json' ? structured(w ?? { name, deleted: true }, 'json') : `---\n${structured(w ?? { name, deleted: true }, 'yaml')}`;
    if (last.get(name) === text) return;
    last.set(name, text);
    ctx.stdout.write(text);
  };
  if (format === 'table') ctx.stdout.write(line(WORKLOAD_COLUMNS));
  for (const w of items) show(w.name, w);
  const refresh = async (name: string) => {
    try {
      show(name, await client.call<WorkloadView>('GET', `/v1/workloads/${encodeURIComponent(name)}`));
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 404) { if (last.has(name)) show(name, undefined); } else throw err;
    }
  };
  await followWatch(clientOptions(ctx, args), async (c) => {
    if (!c.all) { if (only === undefined || c.name === only) await refresh(c.name); return; }
    const names = only ? [only] : (await client.call<{ items: WorkloadView[] }>('GET', '/v1/workloads')).items.map((w) => w.name);
    for (const n of new Set([...names, ...last.keys()])) await refresh(n);
  });
  ctx.stderr.write('the watch stream ended\n');
  return 1;
}

/** `meridian get`. */
export async function getCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['-o', '--output', '--cloud', ...CLIENT_FLAGS], ['-w', '--watch']);
  const watch = args.flags.has('-w') || args.flags.has('--watch');
  const format = outputFormat(flag(args, '-o', '--output'), ['table', 'json', 'yaml']);
  const [what = 'workloads', name] = args.positional;
  const kind = KINDS[what];
  if (!kind) throw new UsageError(`unknown resource '${what}': expected workloads, policies, regions or instances`);
  if (args.positional.length > 2) throw new UsageError(`unexpected '${args.positional[2]}': name one ${kind.replace(/s$/, '')} at most`);
  if (watch && kind !== 'workloads') throw new UsageError('-w follows workloads only');
  const client = clientFor(ctx, args);
  const out = (v: unknown) => { if (format !== 'table') ctx.stdout.write(structured(v, format)); };
  if (kind === 'workloads') {
    const items = name ? [await client.call<WorkloadView>('GET', `/v1/workloads/${encodeURIComponent(name)}`)]
      : (await client.call<{ items: WorkloadView[] }>('GET', '/v1/workloads')).items;
    if (watch) return watchWorkloads(ctx, args, client, items, name, format);
    if (format !== 'table') { out(name ? items[0] : { items }); return 0; }
    ctx.stdout.write(table(WORKLOAD_COLUMNS, items.map(workloadRow)));
    // Why each workload that is not converged is not, region by region.
    for (const w of items) {
      for (const r of w.status.reasons ?? []) ctx.stdout.write(`${w.name}: ${r.cloud ? `${r.cloud}/${r.region ?? ''}: ` : ''}${r.code}: ${r.message}\n`);
    }
    return 0;
  }
  if (kind === 'policies') {
    const items = name ? [await client.call<PolicyView>('GET', `/v1/policies/${encodeURIComponent(name)}`)]
      : (await client.call<{ items: PolicyView[] }>('GET', '/v1/policies')).items;
    if (format !== 'table') { out(name ? items[0] : { items }); return 0; }
    ctx.stdout.write(table(['NAME', 'OBJECTIVE', 'UPDATED'], items.map((p) => [p.name, String(p.document.spec?.objective ?? 'balanced'), p.updatedAt])));
    return 0;
  }
  if (kind === 'instances') {
    if (!name) throw new UsageError('get instances needs the WORKLOAD whose instances to show');
    const { items } = await client.call<{ items: InstanceView[] }>('GET', `/v1/workloads/${encodeURIComponent(name)}/instances`);
    if (format !== 'table') { out({ items }); return 0; }
    ctx.stdout.write(table(['CLOUD', 'REGION', 'ID', 'STATE', 'PUBLIC', 'PRIVATE', 'AGE'], items.map((i) => [
      i.cloud, i.region, i.id ?? '-', i.state, i.addresses.public ?? '-', i.addresses.private ?? '-', age(i.ageSeconds),
    ])));
    return 0;
  }
  const cloud = flag(args, '--cloud');
  let items = (await client.call<{ items: RegionView[] }>('GET', `/v1/regions${cloud ? `?cloud=${encodeURIComponent(cloud)}` : ''}`)).items;
  if (name) items = items.filter((r) => r.id === name);
  if (format !== 'table') { out({ items }); return 0; }
  ctx.stdout.write(table(['CLOUD', 'REGION', 'NAME', 'COUNTRY', 'HEALTH', 'BREAKER', 'CONSTRAINED'], items.map((r) => [
    r.cloud, r.id, r.name, `${r.country}/${r.continent}`, r.healthy ? 'healthy' : 'failing', r.breaker,
    r.constrained.map((c) => c.size).join(',') || '-',
  ])));
  return 0;
}
