/** Reading the EC2 Query API's flattened parameters (`Filter.1.Value.2=...`) back into structures. */

/** One `Filter.N` of DescribeInstances. */
export interface QueryFilter {
  readonly name: string;
  readonly values: readonly string[];
}

/** One `TagSpecification.N` of RunInstances. */
export interface QueryTagSpec {
  readonly resourceType: string;
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
}

/** Members `prefix.1`, `prefix.2`, ... in index order (the EC2 query protocol numbers lists from 1). */
export function indexed(params: URLSearchParams, prefix: string): string[] {
  return indexes(params, prefix).map((n) => params.get(`${prefix}.${n}`) ?? '');
}

/** The list indexes present under `prefix.` (`Filter.3.Name` gives 3 for prefix `Filter`). */
export function indexes(params: URLSearchParams, prefix: string): number[] {
  const found = new Set<number>();
  const head = `${prefix}.`;
  for (const key of params.keys()) {
    if (!key.startsWith(head)) continue;
    const n = Number(key.slice(head.length).split('.')[0]);
    if (Number.isInteger(n) && n > 0) found.add(n);
  }
  return [...found].sort((a, b) => a - b);
}

/** `Filter.N.Name` / `Filter.N.Value.M`. */
export function filters(params: URLSearchParams): QueryFilter[] {
  return indexes(params, 'Filter').map((n) => ({
    name: params.get(`Filter.${n}.Name`) ?? '',
    values: indexed(params, `Filter.${n}.Value`),
  }));
}

/** `TagSpecification.N.ResourceType` / `TagSpecification.N.Tag.M.Key|Value`. */
export function tagSpecifications(params: URLSearchParams): QueryTagSpec[] {
  return indexes(params, 'TagSpecification').map((n) => {
    const base = `TagSpecification.${n}`;
    return {
      resourceType: params.get(`${base}.ResourceType`) ?? '',
      tags: indexes(params, `${base}.Tag`).map((m) => ({
        key: params.get(`${base}.Tag.${m}.Key`) ?? '',
        value: params.get(`${base}.Tag.${m}.Value`) ?? '',
      })),
    };
  });
}

/**
 * Turns an EC2 filter value into a matcher: `*` matches any run, `?` one character, and a
 * backslash makes the next character literal (EC2 API Reference, "List and filter").
 */
export function wildcard(pattern: string): (value: string) => boolean {
  if (!/[*?\\]/.test(pattern)) return (value) => value === pattern;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) source += escapeRe(pattern[++i]);
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += escapeRe(c);
  }
  const re = new RegExp(`^${source}$`, 's');
  return (value) => re.test(value);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
