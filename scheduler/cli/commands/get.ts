import { flag, parseArgs, UsageError } from '../args';
import { outputFormat, table, usd } from '../output';
import { CLIENT_FLAGS, CLIENT_USAGE, clientFor, type CommandContext } from './context';

/** Usage of `meridian get`. */
export const GET_USAGE = `usage: meridian get workloads|policies|regions [NAME] [--cloud CLOUD] [-o table|json]

Shows workloads (with placement and progress, and for each one not converged why, region by
region), policies, or the region catalog with health.
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
interface RegionView {
  cloud: string; id: string; name: string; country: string; continent: string; partition: string; access: string; usable: boolean;
  healthy: boolean; breaker: string; constrained: Array<{ size: string }>;
}

const KINDS: Record<string, 'workloads' | 'policies' | 'regions'> = {
  workload: 'workloads', workloads: 'workloads', wl: 'workloads',
  policy: 'policies', policies: 'policies',
  region: 'regions', regions: 'regions',
};

/** `meridian get`. */
export async function getCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['-o', '--output', '--cloud', ...CLIENT_FLAGS]);
  const format = outputFormat(flag(args, '-o', '--output'));
  const [what = 'workloads', name] = args.positional;
  const kind = KINDS[what];
  if (!kind) throw new UsageError(`unknown resource '${what}': expected workloads, policies or regions`);
  const client = clientFor(ctx, args);
  const out = (v: unknown) => ctx.stdout.write(`${JSON.stringify(v)}\n`);
  if (kind === 'workloads') {
    const items = name ? [await client.call<WorkloadView>('GET', `/v1/workloads/${encodeURIComponent(name)}`)]
      : (await client.call<{ items: WorkloadView[] }>('GET', '/v1/workloads')).items;
    if (format === 'json') { out(name ? items[0] : { items }); return 0; }
    ctx.stdout.write(table(['NAME', 'POLICY', 'READY', 'PENDING', 'STATUS', 'COST/H', 'REGIONS', 'DNS'], items.map((w) => [
      w.name, w.spec.policy, w.deleting ? `${w.status.terminating} terminating` : `${w.status.ready}/${w.status.desired}`, w.status.pending,
      w.deleting ? 'deleting' : w.status.placementError ? 'unplaceable' : w.status.converged ? 'converged' : 'converging',
      w.placement ? usd(w.placement.usdPerHour) : '-',
      (w.placement?.assignments ?? []).map((a) => `${a.cloud}:${a.region}=${a.replicas}`).join(',') || '-',
      w.spec.dns?.name ?? '-',
    ])));
    // Why each workload that is not converged is not, region by region.
    for (const w of items) {
      for (const r of w.status.reasons ?? []) ctx.stdout.write(`${w.name}: ${r.cloud ? `${r.cloud}/${r.region ?? ''}: ` : ''}${r.code}: ${r.message}\n`);
    }
    return 0;
  }
  if (kind === 'policies') {
    const items = name ? [await client.call<PolicyView>('GET', `/v1/policies/${encodeURIComponent(name)}`)]
      : (await client.call<{ items: PolicyView[] }>('GET', '/v1/policies')).items;
    if (format === 'json') { out(name ? items[0] : { items }); return 0; }
    ctx.stdout.write(table(['NAME', 'OBJECTIVE', 'UPDATED'], items.map((p) => [p.name, String(p.document.spec?.objective ?? 'balanced'), p.updatedAt])));
    return 0;
  }
  const cloud = flag(args, '--cloud');
  let items = (await client.call<{ items: RegionView[] }>('GET', `/v1/regions${cloud ? `?cloud=${encodeURIComponent(cloud)}` : ''}`)).items;
  if (name) items = items.filter((r) => r.id === name);
  if (format === 'json') { out({ items }); return 0; }
  ctx.stdout.write(table(['CLOUD', 'REGION', 'NAME', 'COUNTRY', 'PARTITION', 'ACCESS', 'USABLE', 'HEALTH', 'BREAKER', 'CONSTRAINED'], items.map((r) => [
    r.cloud, r.id, r.name, `${r.country}/${r.continent}`, r.partition, r.access, r.usable ? 'yes' : 'no',
    r.healthy ? 'healthy' : 'failing', r.breaker,
    r.constrained.map((c) => c.size).join(',') || '-',
  ])));
  return 0;
}
