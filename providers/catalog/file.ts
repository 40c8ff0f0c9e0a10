import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError, type Issue } from '../../common';
import { CLOUD_IDS, PARTITIONS, type CloudId, type Continent, type Partition } from '../types';
import type { CloudCatalogData, RegionRow, SizeRow } from './data/types';

/** The `format` field every catalog file carries. */
export const CATALOG_FILE_FORMAT = 'meridian-catalog';
/** The catalog file version this build reads and writes. */
export const CATALOG_FILE_VERSION = 1;

const DATE = '^\\d{4}-\\d{2}-\\d{2}$';

const RegionRowSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9-]+$' }),
  name: Type.String({ minLength: 1 }),
  country: Type.String({ pattern: '^[A-Z]{2}$' }),
  continent: Type.Union(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'].map((c) => Type.Literal(c))),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  priceFactor: Type.Number({ exclusiveMinimum: 0 }),
  partition: Type.Optional(Type.String()),
  access: Type.Optional(Type.Union([Type.Literal('default'), Type.Literal('opt-in'), Type.Literal('restricted')])),
}, { additionalProperties: false });

const SizeFileRowSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  vcpu: Type.Number({ exclusiveMinimum: 0 }),
  memoryGiB: Type.Number({ exclusiveMinimum: 0 }),
  arch: Type.Union([Type.Literal('x86_64'), Type.Literal('arm64')]),
  /** Reference-region on-demand price; null when the cloud's list price is not known. */
  usdPerHour: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  /** The regions that offer the type. */
  offeredIn: Type.Array(Type.String(), { uniqueItems: true }),
}, { additionalProperties: false });

const CloudSectionSchema = Type.Object({
  /** Where the regions and types came from: the cloud's API (`api`) or the bundled catalog (`bundled`). */
  source: Type.Union([Type.Literal('api'), Type.Literal('bundled')]),
  /** When the regions and types were read (ISO 8601). */
  readAt: Type.String({ minLength: 1 }),
  referenceRegion: Type.String({ minLength: 1 }),
  /** The date the list prices were read (YYYY-MM-DD). */
  pricesAsOf: Type.String({ pattern: DATE }),
  regions: Type.Array(RegionRowSchema, { minItems: 1 }),
  sizes: Type.Array(SizeFileRowSchema),
}, { additionalProperties: false });

/** Schema of a catalog file: one JSON document holding all three clouds. */
export const CatalogFileSchema = Type.Object({
  format: Type.Literal(CATALOG_FILE_FORMAT),
  version: Type.Literal(CATALOG_FILE_VERSION),
  /** When the file was written (ISO 8601). */
  generatedAt: Type.String({ minLength: 1 }),
  clouds: Type.Object(Object.fromEntries(CLOUD_IDS.map((c) => [c, CloudSectionSchema])) as Record<CloudId, typeof CloudSectionSchema>,
    { additionalProperties: false }),
}, { additionalProperties: false });

/** A catalog file's contents. */
export type CatalogFile = Static<typeof CatalogFileSchema>;
/** One cloud's section of a catalog file. */
export type CatalogFileCloud = Static<typeof CloudSectionSchema>;
/** One instance type row of a catalog file. */
export type CatalogFileSize = Static<typeof SizeFileRowSchema>;

/** One problem of a catalog file, with the JSON path it concerns. */
export type CatalogFileIssue = Issue;

/**
 * A catalog file that cannot be used, with every problem found (code `MERIDIAN_ERR_CATALOG_FILE`);
 * the message lists the first 10, since a file from another build can fail on every row.
 */
export class CatalogFileError extends ValidationError {
  override readonly name = 'CatalogFileError';
  constructor(readonly file: string, issues: readonly CatalogFileIssue[]) {
    super('MERIDIAN_ERR_CATALOG_FILE', `catalog file ${file} is not usable`, issues, { shown: 10 });
  }
}

/** Settings shared by every process that reads the catalog (scheduler, GeoDNS, stacks): the `catalog` key. */
export const CatalogSettingsSchema = Type.Object({
  /**
   * A catalog file written by `meridian catalog refresh`, used instead of the bundled catalog;
   * absent (the default) uses the bundled one. A file that cannot be read or fails validation
   * stops the process with an error naming the problem.
   */
  file: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false, default: {} });

/** The validated `catalog` settings. */
export type CatalogSettings = Static<typeof CatalogSettingsSchema>;

/** Problems beyond the schema: duplicates and references to regions the section does not hold. */
function semanticIssues(doc: CatalogFile): CatalogFileIssue[] {
  const issues: CatalogFileIssue[] = [];
  for (const cloud of CLOUD_IDS) {
    const sec = doc.clouds[cloud];
    const base = `/clouds/${cloud}`;
    const ids = new Set<string>();
    sec.regions.forEach((r, i) => {
      if (ids.has(r.id)) issues.push({ path: `${base}/regions/${i}/id`, message: `duplicate region '${r.id}'` });
      ids.add(r.id);
      if (r.partition !== undefined && !(PARTITIONS[cloud] as readonly string[]).includes(r.partition)) {
        issues.push({ path: `${base}/regions/${i}/partition`, message: `'${r.partition}' is not a ${cloud} partition (${PARTITIONS[cloud].join(', ')})` });
      }
    });
    if (!ids.has(sec.referenceRegion)) issues.push({ path: `${base}/referenceRegion`, message: `'${sec.referenceRegion}' is not one of the section's regions` });
    const names = new Set<string>();
    sec.sizes.forEach((s, i) => {
      if (names.has(s.name)) issues.push({ path: `${base}/sizes/${i}/name`, message: `duplicate instance type '${s.name}'` });
      names.add(s.name);
      const unknown = s.offeredIn.filter((r) => !ids.has(r));
      if (unknown.length) issues.push({ path: `${base}/sizes/${i}/offeredIn`, message: `unknown region(s) ${unknown.join(', ')}` });
    });
  }
  return issues;
}

/** Checks a parsed catalog document; throws `CatalogFileError` (naming `file`) with every problem. */
export function validateCatalogFile(input: unknown, file: string): CatalogFile {
  const head = input as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || Array.isArray(head)) {
    throw new CatalogFileError(file, [{ path: '', message: 'expected a JSON object' }]);
  }
  if (head.format !== CATALOG_FILE_FORMAT) {
    throw new CatalogFileError(file, [{ path: '/format', message: `expected '${CATALOG_FILE_FORMAT}', got ${JSON.stringify(head.format) ?? 'nothing'}` }]);
  }
  if (head.version !== CATALOG_FILE_VERSION) {
    throw new CatalogFileError(file, [{ path: '/version', message: `version ${JSON.stringify(head.version) ?? '(none)'} is not supported; this build reads version ${CATALOG_FILE_VERSION}` }]);
  }
  const issues: CatalogFileIssue[] = [...Value.Errors(CatalogFileSchema, input)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length) throw new CatalogFileError(file, issues);
  const doc = input as CatalogFile;
  const more = semanticIssues(doc);
  if (more.length) throw new CatalogFileError(file, more);
  return doc;
}

/** Turns a validated file into the catalog's in-memory data. */
export function catalogDataOfFile(doc: CatalogFile): Record<CloudId, CloudCatalogData> {
  const out = {} as Record<CloudId, CloudCatalogData>;
  for (const cloud of CLOUD_IDS) {
    const sec = doc.clouds[cloud];
    out[cloud] = {
      cloud, referenceRegion: sec.referenceRegion, pricesAsOf: sec.pricesAsOf,
      regions: sec.regions.map((r): RegionRow => ({ ...r, continent: r.continent as Continent, partition: r.partition as Partition | undefined })),
      sizes: sec.sizes.map((s): SizeRow => ({
        name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, arch: s.arch, offeredIn: s.offeredIn,
        ...(s.usdPerHour === null ? { usdPerHour: 0, priceKnown: false as const } : { usdPerHour: s.usdPerHour }),
      })),
    };
  }
  return out;
}

/** Reads and validates a catalog file; throws `CatalogFileError` naming the file and every problem. */
export function readCatalogFile(file: string): Record<CloudId, CloudCatalogData> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CatalogFileError(file, [{ path: '', message: `cannot be read: ${(err as Error).message}` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CatalogFileError(file, [{ path: '', message: `is not JSON: ${(err as Error).message}` }]);
  }
  return catalogDataOfFile(validateCatalogFile(parsed, file));
}
