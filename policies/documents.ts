import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Region } from '../providers';
import type { RegionPolicy, WorkloadInput } from './schema';
import type { ValidationError } from './schema-errors';
import { parsePolicy, parseWorkload } from './validate';
import { API_VERSION } from './schema';

/** An error in one document of a multi-document YAML stream. */
export interface DocumentError extends ValidationError {
  /** 0-based index of the document in the stream. */
  readonly document: number;
  /** 1-based line in the text where the offending value (or its nearest parent) starts, when known. */
  readonly line?: number;
}

/** The documents of a stream, sorted by kind. */
export interface LoadedDocuments {
  readonly policies: readonly RegionPolicy[];
  readonly workloads: readonly WorkloadInput[];
}

/** Every policy and workload in the stream, or every error of every document. */
export type LoadResult =
  | { readonly ok: true; readonly value: LoadedDocuments }
  | { readonly ok: false; readonly errors: readonly DocumentError[] };

/** Options for `loadDocuments`. */
export interface LoadOptions {
  /** Regions to check policies against; the whole catalog by default. */
  readonly regions?: readonly Region[];
}

const KINDS = ['RegionPolicy', 'Workload'];

function lineOf(doc: Document, lines: LineCounter, path: string): number | undefined {
  const keys = path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  // Walk up to the deepest part of the path that exists in the text (a missing key has no position).
  for (let n = keys.length; n >= 0; n--) {
    const segs = keys.slice(0, n).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const node: unknown = n === 0 ? doc.contents : doc.getIn(segs, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

/**
 * Parses a YAML stream of `RegionPolicy` and `Workload` documents (`---` separated). Validates each
 * by its `kind` and reports every error with the document's index, the key path and the line.
 * Empty documents are skipped; names must be unique per kind.
 */
export function loadDocuments(yamlText: string, opts: LoadOptions = {}): LoadResult {
  const lines = new LineCounter();
  const docs = parseAllDocuments(yamlText, { lineCounter: lines, uniqueKeys: true });
  const errors: DocumentError[] = [];
  const policies: RegionPolicy[] = [];
  const workloads: WorkloadInput[] = [];
  const seen = new Map<string, number>();
  // parseAllDocuments returns an empty array-like for an empty stream.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push({ document: index, path: '', line: e.linePos?.[0].line, message: `YAML syntax: ${e.message.split('\n')[0]}` });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const add = (path: string, message: string) => errors.push({ document: index, path, message, line: lineOf(doc, lines, path) });
    if (typeof value !== 'object' || Array.isArray(value)) {
      add('', `expected a mapping with apiVersion, kind, metadata and spec, got ${Array.isArray(value) ? 'a list' : typeof value}`);
      return;
    }
    const { kind, apiVersion } = value as Record<string, unknown>;
    if (!KINDS.includes(kind as string)) {
      add(kind === undefined ? '' : '/kind', kind === undefined
        ? `missing required key 'kind' (one of ${KINDS.join(', ')})`
        : `expected kind ${KINDS.join(' or ')}, got ${JSON.stringify(kind)}`);
      if (apiVersion !== API_VERSION) add('/apiVersion', `expected apiVersion ${API_VERSION}, got ${JSON.stringify(apiVersion) ?? 'nothing'}`);
      return;
    }
    const result = kind === 'RegionPolicy' ? parsePolicy(value, { regions: opts.regions }) : parseWorkload(value);
    if (!result.ok) {
      for (const e of result.errors) add(e.path, e.message);
      return;
    }
    const name = kind === 'RegionPolicy' ? (result.value as RegionPolicy).metadata.name : (result.value as WorkloadInput).name;
    const key = `${kind as string}/${name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      add('/metadata/name', `duplicate ${kind as string} '${name}' (first in document ${first})`);
      return;
    }
    seen.set(key, index);
    if (kind === 'RegionPolicy') policies.push(result.value as RegionPolicy);
    else workloads.push(result.value as WorkloadInput);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: Object.freeze({ policies: Object.freeze(policies), workloads: Object.freeze(workloads) }) };
}
