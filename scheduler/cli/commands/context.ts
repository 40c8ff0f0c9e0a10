import { flag, type ParsedArgs } from '../args';
import { SchedulerClient, type ClientOptions } from '../client';

/** Where a command writes: a terminal, a pipe, or a buffer in tests. */
export interface OutStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** What every command receives from the entry point (which alone reads the environment). */
export interface CommandContext {
  readonly argv: readonly string[];
  /** `MERIDIAN_SERVER`, `MERIDIAN_API_TOKEN` and the like. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
}

/** Flags every client command takes. */
export const CLIENT_FLAGS = ['--server', '--token'];

/** Usage lines of the client flags. */
export const CLIENT_USAGE = `  --server URL   scheduler API (default $MERIDIAN_SERVER or http://127.0.0.1:8080)
  --token TOKEN  bearer token (default $MERIDIAN_API_TOKEN)`;

/** The server and token the flags or environment name. */
export function clientOptions(ctx: CommandContext, args: ParsedArgs): ClientOptions {
  return {
    server: flag(args, '--server') ?? ctx.env.MERIDIAN_SERVER ?? 'http://127.0.0.1:8080',
    token: flag(args, '--token') ?? ctx.env.MERIDIAN_API_TOKEN,
  };
}

/** A client for the server and token the flags or environment name. */
export function clientFor(ctx: CommandContext, args: ParsedArgs): SchedulerClient {
  return new SchedulerClient(clientOptions(ctx, args));
}
