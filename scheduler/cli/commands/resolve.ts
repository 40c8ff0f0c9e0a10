import { parseServerAddress, resolveWithSubnet } from '../../../dns/geoip/channels/signed/index';
import { flag, parseArgs, UsageError } from '../args';
import type { CommandContext } from './context';

/** Usage of `meridian resolve`. */
export const RESOLVE_USAGE = `usage: meridian resolve NAME [--type A] [--from SUBNET] [--server ADDR:PORT]

Asks a GeoDNS server what a client in SUBNET gets for NAME, sending the subnet as EDNS Client
Subnet (RFC 7871), and prints the answers and the scope the server gave them.
  --type TYPE         record type (default A)
  --from SUBNET       the client's IPv4 subnet, e.g. 81.2.69.0/24 (default: none, the server sees our address)
  --server ADDR:PORT  the server (default 127.0.0.1:5300)
  --timeout-ms N      time to wait for the answer (default 3000)`;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** `meridian resolve`. */
export async function resolveCommand(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx.argv, ['--type', '-t', '--from', '--server', '--timeout-ms']);
  const [name, ...extra] = args.positional;
  if (!name || extra.length) throw new UsageError('expected exactly one NAME');
  let server;
  try {
    server = parseServerAddress(flag(args, '--server') ?? '127.0.0.1:5300');
  } catch (err) {
    throw new UsageError(`--server: ${(err as Error).message}`);
  }
  const timeoutText = flag(args, '--timeout-ms') ?? '3000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1) throw new UsageError(`--timeout-ms: expected milliseconds >= 1, got '${timeoutText}'`);
  const subnet = flag(args, '--from');
  let res;
  try {
    res = await resolveWithSubnet(server, name, flag(args, '--type', '-t') ?? 'A', subnet, Number(timeoutText));
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  for (const a of res.answers) ctx.stdout.write(`${a.name}.\t${a.ttl}\tIN\t${a.type}\t${a.data}\n`);
  const status = RCODES[res.rcode] ?? `RCODE${res.rcode}`;
  const scope = subnet === undefined ? '' : `; client subnet ${subnet}, scope ${res.scopePrefixLength === undefined ? 'none (no ECS in the answer)' : `/${res.scopePrefixLength}`}\n`;
  ctx.stdout.write(`${scope}; status ${status}, ${res.answers.length} answer${res.answers.length === 1 ? '' : 's'} from ${server.address}:${server.port}\n`);
  return res.rcode === 0 ? 0 : 1;
}
