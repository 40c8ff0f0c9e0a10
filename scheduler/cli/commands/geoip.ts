import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildPackage, formatPackageRecord } from '../../../dns/geoip/channels/signed/index';
import { flag, numberFlag, parseArgs, UsageError } from '../args';
import type { CommandContext } from './context';

/** Usage of `meridian geoip`. */
export const GEOIP_USAGE = `usage: meridian geoip package build --from DIR|FILE.mmdb -o FILE [--serial N] [--valid-days N]
                                    [--url URL] [--name _geoip.example.net.]

Builds a GeoIP package (tar.gz: manifest.json plus geoip-lite's three city data files from DIR, or
one MaxMind DB) and prints its SHA-256 and the TXT record to publish in a DNSSEC-signed zone.
  --serial N       package serial, newer than the last published one (default: now, in seconds)
  --valid-days N   days until consumers treat the data as stale (default 7)
  --url URL        where consumers fetch the package: http://, https:// or file:// (default: file:// of -o)
  --name NAME      owner of the TXT record (default _geoip.example.net.)`;

// A TXT character-string holds at most 255 octets (RFC 1035 §3.3.14): longer text is split.
function quoteTxt(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 255) parts.push(`"${text.slice(i, i + 255).replace(/["\\]/g, (c) => `\\${c}`)}"`);
  return parts.join(' ');
}

/** `meridian geoip package build`. */
export async function geoipCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['--from', '-o', '--output', '--serial', '--valid-days', '--url', '--name']);
  const [group, action] = args.positional;
  if (group !== 'package' || action !== 'build' || args.positional.length !== 2) throw new UsageError('expected \'geoip package build\'');
  const from = flag(args, '--from');
  const output = flag(args, '-o', '--output');
  if (!from) throw new UsageError('--from is required');
  if (!output) throw new UsageError('-o is required');
  const serialText = flag(args, '--serial');
  if (serialText !== undefined && !/^\d{1,15}$/.test(serialText)) throw new UsageError(`--serial: expected a whole number, got '${serialText}'`);
  const validDays = numberFlag(args, '--valid-days', 7);
  if (validDays <= 0) throw new UsageError('--valid-days must be above 0');
  const url = flag(args, '--url') ?? pathToFileURL(resolve(output)).href;
  if (!/^(https?|file):\/\//.test(url)) throw new UsageError(`--url must be http://, https:// or file://, got '${url}'`);
  let name = flag(args, '--name') ?? '_geoip.example.net.';
  if (!name.endsWith('.')) name += '.';
  const built = await buildPackage({ from, output: resolve(output), serial: serialText === undefined ? undefined : Number(serialText), validDays });
  const txt = formatPackageRecord({ sha256: built.sha256, serial: built.manifest.serial, url });
  ctx.stdout.write(`package     ${built.file} (${built.bytes} bytes, ${built.manifest.data} data)\n`);
  ctx.stdout.write(`serial      ${built.manifest.serial}\n`);
  ctx.stdout.write(`valid until ${built.manifest.validUntil}\n`);
  ctx.stdout.write(`sha256      ${built.sha256}\n`);
  ctx.stdout.write(`\nPublish in the signed zone, then re-sign it:\n${name} IN TXT ${quoteTxt(txt)}\n`);
  return 0;
}
