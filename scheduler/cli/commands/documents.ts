import { readFileSync } from 'node:fs';
import { loadDocuments, type LoadedDocuments } from '../../../policies';
import { UsageError } from '../args';

/** Reads and validates every `-f` file (`-` is stdin); throws listing every error with file, document, line and path. */
export function readDocuments(files: readonly string[]): LoadedDocuments {
  if (files.length === 0) throw new UsageError('-f FILE is required');
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
