/** Parsed command-line: positional words and `--flag value` / `-f value` / `--switch` options. */
export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

/** A usage problem: main prints it with the command's usage and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses argv against the flags a command knows: `valued` take a value (`--port 80`, `--port=80`),
 * `switches` do not. Unknown flags are usage errors naming the flag.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], switches: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('-') || a === '-') { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (switches.includes(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      flags.set(name, ['true']);
      continue;
    }
    if (!valued.includes(name)) throw new UsageError(`unknown option '${name}'`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
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
