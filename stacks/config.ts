import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { loadDocuments, parsePolicy, parseWorkload, type RegionPolicy, type WorkloadInput } from '../policies';
import { CatalogFileError, installCatalog, useCatalogSettings } from '../providers';
import { RegionSettingsSchema, regionSettingsIssues, type RegionSettings } from '../scheduler/placement';
import { MAX_READY_TIMEOUT_SECONDS } from './instance/types';

/** The config namespace of the stack (the Pulumi project name). */
export const CONFIG_NAMESPACE = 'meridian';

/** Stack config keys, without the namespace. */
export const CONFIG_KEYS = Object.freeze({
  /** YAML files (paths relative to the project) holding RegionPolicy and Workload documents. */
  documents: 'documents',
  /** Inline RegionPolicy documents. */
  policies: 'policies',
  /** Inline workloads, flat or as Workload documents. */
  workloads: 'workloads',
  /** Driver settings per cloud (endpoints, credentials); read as a secret. */
  clouds: 'clouds',
  /** Extra tags on every instance. */
  tags: 'tags',
  /** Seconds each instance may take to start. */
  readyTimeoutSeconds: 'readyTimeoutSeconds',
  /** The regions the cloud accounts can use: `{ partitions, enabled }`, as the scheduler's `regions` settings. */
  regions: 'regions',
  /** A catalog file written by `meridian catalog refresh` (path relative to the project), used instead of the bundled catalog. */
  catalogFile: 'catalogFile',
} as const);

/** Stack config as read, before validation (values parsed from JSON where Pulumi stores lists and objects). */
export interface RawStackConfig {
  readonly documents?: unknown;
  readonly policies?: unknown;
  readonly workloads?: unknown;
  readonly tags?: unknown;
  readonly readyTimeoutSeconds?: unknown;
  readonly regions?: unknown;
  readonly catalogFile?: unknown;
}

/** The validated workloads and policies of a stack, and the settings shared by its instances. */
export interface StackDefinition {
  readonly workloads: readonly WorkloadInput[];
  readonly policies: readonly RegionPolicy[];
  readonly tags: Readonly<Record<string, string>>;
  readonly readyTimeoutSeconds?: number;
  /** The accounts' partitions and enabled opt-in regions; public partitions, nothing enabled, when absent. */
  readonly regions?: RegionSettings;
  /**
   * The catalog file as configured (relative to the project directory unless absolute), which
   * `resolveStackConfig` installed for the process; absent: the bundled catalog.
   */
  readonly catalogFile?: string;
}

/** Every problem of a stack's config, each starting with its config key and path. */
export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
  readonly code = 'MERIDIAN_STACK_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack config:\n  - ${problems.join('\n  - ')}`);
  }
}

/** How `resolveStackConfig` reads document files. */
export interface ResolveOptions {
  /** Directory relative document paths start from (the project directory). */
  readonly baseDir: string;
  readonly readFile?: (path: string) => string;
}

const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;

function asList(value: unknown, name: string, problems: string[]): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  problems.push(`${key(name)}: expected a list, got ${typeof value}`);
  return [];
}

/**
 * Validates a stack's config: installs the catalog `catalogFile` names (the bundled one when
 * absent or unusable) for the process, since documents, workloads and regions are checked against
 * it and placement uses it; then loads the document files, parses inline policies and workloads,
 * and checks that names are unique and every workload's policy exists. Reports every problem.
 */
export function resolveStackConfig(raw: RawStackConfig, opts: ResolveOptions): StackDefinition {
  const problems: string[] = [];
  const catalogFile = useCatalogFile(raw.catalogFile, opts.baseDir, problems);
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const policies: Array<{ policy: RegionPolicy; from: string }> = [];
  const workloads: Array<{ workload: WorkloadInput; from: string }> = [];

  const files = typeof raw.documents === 'string' ? [raw.documents] : asList(raw.documents, CONFIG_KEYS.documents, problems);
  files.forEach((file, i) => {
    const at = `${key(CONFIG_KEYS.documents)}[${i}]`;
    if (typeof file !== 'string' || file === '') {
      problems.push(`${at}: expected a file path, got ${JSON.stringify(file)}`);
      return;
    }
    const path = isAbsolute(file) ? file : resolve(opts.baseDir, file);
    let text: string;
    try {
      text = readFile(path);
    } catch (err) {
      problems.push(`${at}: cannot read ${path}: ${(err as Error).message}`);
      return;
    }
    const loaded = loadDocuments(text);
    if (!loaded.ok) {
      for (const e of loaded.errors) problems.push(`${file} document ${e.document}${e.line ? ` (line ${e.line})` : ''} ${e.path || '/'}: ${e.message}`);
      return;
    }
    for (const policy of loaded.value.policies) policies.push({ policy, from: file });
    for (const workload of loaded.value.workloads) workloads.push({ workload, from: file });
  });

  asList(raw.policies, CONFIG_KEYS.policies, problems).forEach((doc, i) => {
    const at = `${key(CONFIG_KEYS.policies)}[${i}]`;
    const parsed = parsePolicy(doc);
    if (parsed.ok) policies.push({ policy: parsed.value, from: at });
    else for (const e of parsed.errors) problems.push(`${at}${e.path}: ${e.message}`);
  });
  asList(raw.workloads, CONFIG_KEYS.workloads, problems).forEach((doc, i) => {
    const at = `${key(CONFIG_KEYS.workloads)}[${i}]`;
    const parsed = parseWorkload(doc);
    if (parsed.ok) workloads.push({ workload: parsed.value, from: at });
    else for (const e of parsed.errors) problems.push(`${at}${e.path}: ${e.message}`);
  });

  const firstPolicy = new Map<string, string>();
  for (const { policy, from } of policies) {
    const seen = firstPolicy.get(policy.metadata.name);
    if (seen !== undefined) problems.push(`${from}: RegionPolicy '${policy.metadata.name}' is defined twice (first in ${seen})`);
    else firstPolicy.set(policy.metadata.name, from);
  }
  const firstWorkload = new Map<string, string>();
  for (const { workload, from } of workloads) {
    const seen = firstWorkload.get(workload.name);
    if (seen !== undefined) problems.push(`${from}: workload '${workload.name}' is defined twice (first in ${seen})`);
    else firstWorkload.set(workload.name, from);
    if (!firstPolicy.has(workload.policy)) {
      const known = [...firstPolicy.keys()];
      problems.push(`${from}: workload '${workload.name}' names policy '${workload.policy}', which is not defined` +
        ` (defined: ${known.length > 0 ? known.join(', ') : 'none'}; add it to ${key(CONFIG_KEYS.policies)} or ${key(CONFIG_KEYS.documents)})`);
    }
  }
  if (workloads.length === 0 && problems.length === 0) {
    problems.push(`no workloads: set ${key(CONFIG_KEYS.workloads)} or list a file with Workload documents in ${key(CONFIG_KEYS.documents)}`);
  }

  const tags: Record<string, string> = {};
  if (raw.tags !== undefined) {
    if (typeof raw.tags !== 'object' || raw.tags === null || Array.isArray(raw.tags)) problems.push(`${key(CONFIG_KEYS.tags)}: expected an object of strings`);
    else {
      for (const [k, v] of Object.entries(raw.tags)) {
        if (typeof v === 'string') tags[k] = v;
        else problems.push(`${key(CONFIG_KEYS.tags)}.${k}: expected a string, got ${JSON.stringify(v)}`);
      }
    }
  }
  const timeout = raw.readyTimeoutSeconds;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > MAX_READY_TIMEOUT_SECONDS)) {
    problems.push(`${key(CONFIG_KEYS.readyTimeoutSeconds)}: expected whole seconds from 0 to ${MAX_READY_TIMEOUT_SECONDS}, got ${JSON.stringify(timeout)}`);
  }
  const regions = regionSettings(raw.regions, problems);
  if (problems.length > 0) throw new StackConfigError(problems);
  return Object.freeze({
    workloads: Object.freeze(workloads.map((w) => w.workload)),
    policies: Object.freeze(policies.map((p) => p.policy)),
    tags: Object.freeze(tags),
    ...(typeof timeout === 'number' ? { readyTimeoutSeconds: timeout } : {}),
    ...(regions ? { regions } : {}),
    ...(catalogFile !== undefined ? { catalogFile } : {}),
  });
}

/**
 * Installs the catalog file `raw` names (relative paths start at `baseDir`) and returns the path
 * as given, or installs the bundled catalog and returns undefined (absent, or unusable: problems say why).
 */
function useCatalogFile(raw: unknown, baseDir: string, problems: string[]): string | undefined {
  const at = key(CONFIG_KEYS.catalogFile);
  if (raw === undefined) {
    useCatalogSettings(undefined);
    return undefined;
  }
  if (typeof raw !== 'string' || raw === '') {
    problems.push(`${at}: expected a file path, got ${JSON.stringify(raw)}`);
  } else {
    try {
      useCatalogSettings({ file: isAbsolute(raw) ? raw : resolve(baseDir, raw) });
      return raw;
    } catch (err) {
      if (!(err instanceof CatalogFileError)) throw err;
      // The message names the file and every problem with its JSON path.
      problems.push(`${at}: ${err.message}`);
    }
  }
  installCatalog();
  return undefined;
}

/** The validated, frozen `regions` setting, or undefined (absent or invalid; problems say why). */
function regionSettings(raw: unknown, problems: string[]): RegionSettings | undefined {
  if (raw === undefined) return undefined;
  const at = key(CONFIG_KEYS.regions);
  const value: unknown = Value.Default(RegionSettingsSchema, Value.Clone(raw));
  const errors = [...Value.Errors(RegionSettingsSchema, value)];
  for (const e of errors) problems.push(`${at}${e.path}: ${e.message}`);
  if (errors.length > 0 || !Value.Check(RegionSettingsSchema, value)) return undefined;
  const issues = regionSettingsIssues(value, at);
  for (const i of issues) problems.push(`${i.path}: ${i.message}`);
  if (issues.length > 0) return undefined;
  Object.freeze(value.partitions);
  Object.freeze(value.enabled);
  return Object.freeze(value);
}

/**
 * A config value as Pulumi stores it: lists and objects set from YAML or with `--path` arrive as
 * JSON text, scalars as plain text. Plain text that is not JSON stays a string (a file path).
 */
export function parseConfigValue(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^[[{]/.test(trimmed) || /^-?\d+(\.\d+)?$/.test(trimmed) || trimmed === 'true' || trimmed === 'false') {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
