import { dumpMrt, type DumpSink } from '../../../dns/cli';
import { parseArgs, UsageError } from '../args';
import type { CommandContext } from './context';

/** Usage of `meridian mrt`. */
export const MRT_USAGE = `usage: meridian mrt dump FILE...

Prints every element of MRT files (RFC 6396: TABLE_DUMP, TABLE_DUMP_V2, BGP4MP, BGP4MP_ET; gzip,
bzip2 or plain) one per line in the format of \`bgpdump -m\`. FILE '-' reads standard input.
Malformed records are reported on standard error and skipped; the exit code is 1 when any was.`;

/** `meridian mrt dump FILE...`. */
export async function mrtCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub !== 'dump') throw new UsageError(sub === undefined ? 'a subcommand is needed' : `unknown subcommand '${sub}'`);
  const args = parseArgs(rest, []);
  if (args.positional.length === 0) throw new UsageError('name at least one MRT file, or - for standard input');
  const result = await dumpMrt(args.positional, ctx.stdout as DumpSink, ctx.stderr);
  return result.errors > 0 || result.failedInputs.length > 0 ? 1 : 0;
}
