import { readFileSync } from 'node:fs';
import { CLOUD_IDS, type CloudId, type ProvidersConfig } from '../../../providers';
import { flag, parseArgs, UsageError } from '../args';
import type { CommandContext } from './context';

/** Usage of `meridian catalog`. */
export const CATALOG_USAGE = `usage: meridian catalog refresh [--config FILE] [-o FILE] [--cloud aws,azure,alibaba] [--json]

Reads regions, instance types and which region offers which type from the clouds' own APIs
(EC2 DescribeRegions, DescribeInstanceTypes, DescribeInstanceTypeOfferings; Azure subscription
locations and resource SKUs; Alibaba ECS DescribeRegions, DescribeInstanceTypes,
DescribeAvailableResource) and writes a catalog file. Prices come from the bundled catalog
(dated); a type it does not price is written with usdPerHour null. Point the scheduler's and the
GeoDNS's catalog.file setting at the file to use it.
  --config FILE   JSON with { "providers": { aws, azure, alibaba } }: endpoints and credentials, as
                  for meridian serve (without it, each SDK's default credential chain)
  -o FILE         where to write (default meridian-catalog.json)
  --cloud LIST    the clouds to read (default all); the others keep their bundled section
  --json          print { file, clouds: { <cloud>: { source, regions, types, unpriced } }, notes }`;

/** `meridian catalog refresh`. */
export async function catalogCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['--config', '-o', '--output', '--cloud'], ['--json']);
  const [action, ...extra] = args.positional;
  if (action !== 'refresh') throw new UsageError(action === undefined ? 'expected \'catalog refresh\'' : `unknown action '${action}': expected refresh`);
  if (extra.length) throw new UsageError(`unexpected '${extra[0]}'`);
  const out = flag(args, '-o', '--output') ?? 'meridian-catalog.json';
  const cloudList = flag(args, '--cloud');
  let clouds: CloudId[] | undefined;
  if (cloudList !== undefined) {
    const names = cloudList.split(',').map((c) => c.trim()).filter(Boolean);
    const bad = names.filter((c) => !(CLOUD_IDS as readonly string[]).includes(c));
    if (bad.length || !names.length) throw new UsageError(`--cloud: expected a comma-separated list of ${CLOUD_IDS.join(', ')}, got '${cloudList}'`);
    clouds = [...new Set(names)] as CloudId[];
  }
  const configFile = flag(args, '--config');
  let providers: ProvidersConfig = {};
  if (configFile !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (err) {
      throw new UsageError(`--config ${configFile}: ${(err as Error).message}`);
    }
    const p = (raw as { providers?: unknown } | null)?.providers;
    if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p))) throw new UsageError(`--config ${configFile}: /providers must be an object`);
    providers = (p ?? {}) as ProvidersConfig;
  }
  // The SDKs load only when a refresh runs, so usage and argument errors come quickly.
  const { refreshCatalog } = await import('../../../providers/drivers/index.js');
  const { file, notes } = await refreshCatalog(providers, { clouds, outFile: out });
  const summary = Object.fromEntries(CLOUD_IDS.map((c) => {
    const sec = file.clouds[c];
    return [c, { source: sec.source, regions: sec.regions.length, types: sec.sizes.length, unpriced: sec.sizes.filter((s) => s.usdPerHour === null).length }];
  }));
  if (args.flags.has('--json')) {
    ctx.stdout.write(`${JSON.stringify({ file: out, clouds: summary, notes })}\n`);
    return 0;
  }
  for (const [cloud, s] of Object.entries(summary)) {
    ctx.stdout.write(`${cloud.padEnd(8)} ${s.source.padEnd(8)} ${String(s.regions).padStart(3)} regions ${String(s.types).padStart(5)} types ${String(s.unpriced).padStart(5)} without a price\n`);
  }
  for (const n of notes) ctx.stderr.write(`${n.cloud}: ${n.message}\n`);
  ctx.stdout.write(`wrote ${out}\n`);
  return 0;
}
