import { stringify as stringifyYaml } from 'yaml';
import { UsageError } from './args';

/** Renders rows as an aligned text table with a header row. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Output format chosen with `-o`. */
export type OutputFormat = 'table' | 'json' | 'yaml';

const FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/** Parses `-o`; a usage error naming the accepted values. */
export function outputFormat(value: string | undefined, accepted: readonly OutputFormat[] = ['table', 'json']): OutputFormat {
  const v = value ?? 'table';
  if ((FORMATS as readonly string[]).includes(v) && accepted.includes(v as OutputFormat)) return v as OutputFormat;
  throw new UsageError(`-o: expected ${accepted.join(', ')}, got '${v}'`);
}

/** A value as one line of JSON, or as a YAML document. */
export function structured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value)}\n` : stringifyYaml(value, { lineWidth: 0 });
}

/** Money per hour, 4 decimals. */
export function usd(n: number): string {
  return `$${n.toFixed(4)}`;
}
