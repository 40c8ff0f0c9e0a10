import { parseArgs as parseNodeArgs } from 'node:util';

/** Parsed command-line: positional words and `--flag value` / `-f value` / `--switch` options. */
export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

/** A usage problem: the entry point prints it with the command's usage and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit code of a usage error (as BSD's sysexits and most CLIs use it). */
export const USAGE_EXIT_CODE = 2;

/**
 * Parses argv with node's `util.parseArgs` against the flags a command knows, each given as it is
 * spelled (`-o`, `--output`): `valued` take a value (`--port 80`, `--port=80`, `-o json`, `-ojson`),
 * `switches` do not. Values keep their order per spelling. Unknown flags, a missing value and a
 * value given to a switch are usage errors naming the flag.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], switches: readonly string[] = []): ParsedArgs {
  type Option = { type: 'string' | 'boolean'; short?: string; multiple: true };
  const options: Record<string, Option> = {};
  // node's parser names options by their long name: `-f` becomes `f` with the short alias `f`.
  const spelling = new Map<string, string>();
  for (const [list, type] of [[valued, 'string'], [switches, 'boolean']] as const) {
    for (const s of list) {
      const long = s.startsWith('--');
      const key = s.replace(/^--?/, '');
      options[key] = { type, multiple: true, ...(long ? {} : { short: key }) };
      spelling.set(key, s);
    }
  }
  // Not strict: the tokens are checked here, so that messages name the flag as the user wrote it.
  const { tokens } = parseNodeArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (const t of tokens) {
    if (t.kind === 'positional') { positional.push(t.value); continue; }
    if (t.kind === 'option-terminator') continue;
    const name = spelling.get(t.name);
    const option = options[t.name];
    if (name === undefined || option === undefined || (t.rawName.startsWith('--') && name !== t.rawName && !name.startsWith('--'))) {
      throw new UsageError(`unknown option '${t.rawName}'`);
    }
    if (option.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${name} takes no value`);
      flags.set(name, ['true']);
      continue;
    }
    if (t.value === undefined) throw new UsageError(`${name} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), t.value]);
  }
  return { positional, flags };
}

/** The last value of a flag (any of its spellings). */
export function flag(args: ParsedArgs, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = args.flags.get(n);
    if (v?.length) return v[v.length - 1];
  }
  return undefined;
}

/** Every value of a flag (any of its spellings). */
export function flagAll(args: ParsedArgs, ...names: string[]): string[] {
  return names.flatMap((n) => [...(args.flags.get(n) ?? [])]);
}

/** A non-negative number flag, or the default; throws naming the flag. */
export function numberFlag(args: ParsedArgs, name: string, dflt: number): number {
  const v = flag(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name}: expected a number >= 0, got '${v}'`);
  return n;
}
