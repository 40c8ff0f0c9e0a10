import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadDocuments, type LoadedDocuments } from '../../../policies';
import { UsageError } from '../args';

/** The files a `-f` names: the file itself, or every `.yaml`/`.yml` file of a directory, sorted by name. */
export function expandFiles(names: readonly string[]): string[] {
  return names.flatMap((name) => {
    let isDir = false;
    try { isDir = name !== '-' && statSync(name).isDirectory(); } catch { /* a missing file is reported when it is read */ }
    if (!isDir) return [name];
    const inside = readdirSync(name).filter((f) => /\.ya?ml$/i.test(f)).sort().map((f) => join(name, f));
    if (inside.length === 0) throw new UsageError(`-f ${name}: the directory has no .yaml or .yml file`);
    return inside;
  });
}

/**
 * Reads and validates every `-f` file (`-` is stdin; a directory gives each of its YAML files,
 * sorted by name); throws listing every error with file, document, line and path. Policies and
 * workloads come back apart, so that callers apply every policy before any workload.
 */
export function readDocuments(names: readonly string[]): LoadedDocuments {
  if (names.length === 0) throw new UsageError('-f FILE is required');
  const files = expandFiles(names);
  const policies: LoadedDocuments['policies'][number][] = [];
  const workloads: LoadedDocuments['workloads'][number][] = [];
  const problems: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      problems.push(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const r = loadDocuments(text);
    if (!r.ok) {
      for (const e of r.errors) problems.push(`${file}${e.line !== undefined ? `:${e.line}` : ''} (document ${e.document + 1}) ${e.path || '/'}: ${e.message}`);
      continue;
    }
    policies.push(...r.value.policies);
    workloads.push(...r.value.workloads);
  }
  if (problems.length) throw new Error(`invalid documents:\n  ${problems.join('\n  ')}`);
  return { policies, workloads };
}
