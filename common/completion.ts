/** What a program's completion script offers. */
export interface CompletionSpec {
  /** The program's name, as typed. */
  readonly program: string;
  /** Subcommands with their one-line summaries; empty for a program without any. */
  readonly commands: ReadonlyArray<{ readonly name: string; readonly summary: string }>;
  /** Words offered after each subcommand (its resource kinds and flags); `''` keys the program's own flags. */
  readonly words: Readonly<Record<string, readonly string[]>>;
  /** Flags whose value is a file or directory name. */
  readonly fileFlags: readonly string[];
}

/** The shells `completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

const shellWord = (w: string) => w.replace(/[^A-Za-z0-9_=:./+-]/g, '');
const funcName = (program: string) => `_${program.replace(/[^A-Za-z0-9]/g, '_')}`;
// Inside single quotes, a quote is written as '\''.
const singleQuoted = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Every flag a usage text mentions (`-o`, `--server`), in order of first mention. */
export function flagsOfUsage(usage: string): string[] {
  return [...new Set([...usage.matchAll(/(?<![\w-])(--?[a-z][a-z0-9-]*)/g)].map((m) => m[1]!))];
}

/** A bash completion script (`source <(PROGRAM completion bash)`). */
export function bashCompletion(spec: CompletionSpec): string {
  const fn = funcName(spec.program);
  const cases = Object.entries(spec.words).filter(([k]) => k !== '')
    .map(([cmd, words]) => `    ${shellWord(cmd)}) words=${singleQuoted(words.map(shellWord).join(' '))} ;;`);
  const files = spec.fileFlags.map(shellWord).join('|');
  const own = (spec.words[''] ?? []).map(shellWord).join(' ');
  return `# bash completion for ${spec.program}: source <(${spec.program} completion bash)
${fn}() {
  local cur prev words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${files || '--no-file-flag'}) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
  esac
${spec.commands.length ? `  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${singleQuoted(spec.commands.map((c) => shellWord(c.name)).join(' '))} -- "$cur"))
    return 0
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    *) words='' ;;
  esac` : `  words=${singleQuoted(own)}`}
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${spec.program}
`;
}

/** A zsh completion script (`source <(PROGRAM completion zsh)`, or saved as `_PROGRAM` on `$fpath`). */
export function zshCompletion(spec: CompletionSpec): string {
  const fn = funcName(spec.program);
  const described = spec.commands.map((c) => `    ${singleQuoted(`${shellWord(c.name)}:${c.summary.replace(/\n/g, ' ')}`)}`);
  const cases = Object.entries(spec.words).filter(([k]) => k !== '')
    .map(([cmd, words]) => `    ${shellWord(cmd)}) opts=(${words.map(shellWord).join(' ')}) ;;`);
  const files = spec.fileFlags.map(shellWord).join('|');
  return `#compdef ${spec.program}
# zsh completion for ${spec.program}: source <(${spec.program} completion zsh)
${fn}() {
  # zsh keeps the words on the line in its own array, words: the offers go in opts.
  local -a commands opts
  case "\${words[CURRENT-1]}" in
    ${files || '--no-file-flag'}) _files; return ;;
  esac
${spec.commands.length ? `  commands=(
${described.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands '${shellWord(spec.program)} command' commands
    return
  fi
  case "\${words[2]}" in
${cases.join('\n')}
  esac` : `  opts=(${(spec.words[''] ?? []).map(shellWord).join(' ')})`}
  compadd -a opts
}
if [ "\${funcstack[1]}" = "${fn}" ]; then ${fn} "$@"; else compdef ${fn} ${spec.program}; fi
`;
}
