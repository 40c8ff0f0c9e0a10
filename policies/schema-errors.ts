import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value, type ValueError } from '@sinclair/typebox/value';

/** One problem in a document: where (a JSON pointer such as `/spec/spread/maxPerRegion`) and what was expected. */
export interface ValidationError {
  readonly path: string;
  readonly message: string;
}

/** The outcome of parsing: the validated, frozen value, or every error found. */
export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly ValidationError[] };

/** A short rendering of a value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

// Whether a union variant is about the same kind of value (an object for an object, a string for a string).
function sameKind(schema: TSchema, value: unknown): boolean {
  if ('const' in schema) return typeof schema.const === typeof value;
  const t = jsonType(value);
  const st: unknown = schema.type;
  if (st === 'number') return t === 'number' || t === 'integer';
  if (st === 'integer') return t === 'integer' || t === 'number';
  return st === t;
}

// How many of the value's keys a variant declares: the variant the author most likely meant.
function keysKnown(schema: TSchema, value: unknown): number {
  if (!isObject(value) || !isObject(schema.properties)) return 0;
  const props = schema.properties;
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    const p = props[k];
    if (!isObject(p)) continue;
    // A matching discriminator literal (`by: cloud`) counts double.
    n += 'const' in p && p.const === v ? 2 : 1;
  }
  return n;
}

function errorMessage(e: ValueError): string {
  const d = typeof e.schema.description === 'string' ? e.schema.description : undefined;
  const name = e.path.slice(e.path.lastIndexOf('/') + 1).replace(/~1/g, '/').replace(/~0/g, '~');
  if (e.message === 'Expected required property') return `missing required key '${name}'`;
  if (e.message === 'Unexpected property') {
    const known = isObject(e.schema.properties) ? Object.keys(e.schema.properties) : [];
    return `unknown key '${name}'${known.length ? `; expected one of ${known.join(', ')}` : ''}`;
  }
  const expected = d ?? e.message.replace(/^Expected /, '');
  return `expected ${expected}, got ${show(e.value)}`;
}

/**
 * Every schema error of `value`, with JSON-pointer paths under `prefix` and messages that say what
 * was expected. For a union, the errors come from the variant the value most resembles, so `size:
 * {vcpu: 2}` reports the missing `memoryGiB` rather than "no variant matched".
 */
export function schemaErrors(schema: TSchema, value: unknown, prefix = ''): ValidationError[] {
  if (compiledCheck(schema)?.Check(value)) return [];
  const out: ValidationError[] = [];
  const required = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const path = prefix + e.path;
    if (e.message === 'Expected union value' && Array.isArray(e.schema.anyOf)) {
      out.push(...unionErrors(e.schema, e.value, path));
      continue;
    }
    if (e.message === 'Expected required property') required.add(path);
    out.push({ path, message: errorMessage(e) });
  }
  // A missing key is also reported as "expected string, got nothing": keep only the clearer one.
  const seen = new Set<string>();
  return out.filter((e) => {
    if (required.has(e.path) && !e.message.startsWith('missing required')) return false;
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Compiled checks by schema. A valid document, what nearly every API write sends, then costs one
 * compiled pass (about a twentieth of the error walk); only an invalid one is walked for its errors.
 */
const compiledChecks = new WeakMap<TSchema, TypeCheck<TSchema> | null>();

function compiledCheck(schema: TSchema): TypeCheck<TSchema> | null {
  let check = compiledChecks.get(schema);
  if (check === undefined) {
    try {
      check = TypeCompiler.Compile(schema);
    } catch {
      // A schema the compiler does not take is still checked by the walk.
      check = null;
    }
    compiledChecks.set(schema, check);
  }
  return check;
}

function unionErrors(schema: TSchema, value: unknown, path: string): ValidationError[] {
  const variants = (schema.anyOf as TSchema[]).filter((v) => sameKind(v, value));
  const describe = (): ValidationError[] => [{
    path,
    message: `expected ${typeof schema.description === 'string' ? schema.description : 'one of the allowed forms'}, got ${show(value)}`,
  }];
  if (variants.length === 0) return describe();
  const ranked = variants
    .map((v) => ({ v, known: keysKnown(v, value), errors: schemaErrors(v, value, path) }))
    .sort((a, b) => b.known - a.known || a.errors.length - b.errors.length);
  const [best, next] = ranked;
  if (next && next.known === best.known && next.errors.length === best.errors.length) return describe();
  return best.errors.length > 0 ? best.errors : describe();
}
