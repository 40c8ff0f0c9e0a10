import type { CloudId } from '../providers';

/** A compiled region or cloud pattern: `eu-*`, `aws:eu-*`, `westeurope`. */
export interface RegionMatcher {
  /** The pattern as written. */
  readonly source: string;
  /** The cloud qualifier, when the pattern had one. */
  readonly cloud?: string;
  /** True when the pattern has a `*` or `?`. */
  readonly wildcard: boolean;
  /** The region part, for exact names. */
  readonly id: string;
  matches(cloud: CloudId, region: string): boolean;
}

/** Whether a pattern uses glob wildcards. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** A matcher for a glob over one name: `*` is any run of characters, `?` exactly one. */
export function globMatcher(glob: string): (name: string) => boolean {
  if (!hasWildcard(glob)) return (name) => name === glob;
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const re = new RegExp(`^${body}$`);
  return (name) => re.test(name);
}

/** Compiles a region pattern, splitting an optional `cloud:` qualifier. */
export function compileRegionPattern(source: string): RegionMatcher {
  const colon = source.indexOf(':');
  const cloud = colon >= 0 ? source.slice(0, colon) : undefined;
  const id = colon >= 0 ? source.slice(colon + 1) : source;
  const test = globMatcher(id);
  return {
    source, cloud, id, wildcard: hasWildcard(id),
    matches: (c, region) => (cloud === undefined || cloud === c) && test(region),
  };
}

/** The `cloud:region` key used to index regions across clouds (ids repeat between clouds). */
export function regionKey(cloud: string, region: string): string {
  return `${cloud}:${region}`;
}
