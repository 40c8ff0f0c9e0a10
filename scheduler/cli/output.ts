/** Renders rows as an aligned text table with a header row. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Output format chosen with `-o`. */
export type OutputFormat = 'table' | 'json';

/** Parses `-o`; throws naming the accepted values. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table') return 'table';
  if (value === 'json') return 'json';
  throw new Error(`-o: expected table or json, got '${value}'`);
}

/** Money per hour, 4 decimals. */
export function usd(n: number): string {
  return `$${n.toFixed(4)}`;
}
