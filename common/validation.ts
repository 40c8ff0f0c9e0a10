import type { Issue } from './http-errors';

/**
 * `path: message` of each issue (the root as `/`), joined with `; `; past `shown` issues, the
 * rest are counted instead of listed.
 */
function formatIssues(issues: readonly Issue[], shown = Number.POSITIVE_INFINITY): string {
  const listed = issues.slice(0, shown).map((i) => `${i.path || '/'}: ${i.message}`).join('; ');
  return issues.length > shown ? `${listed}; and ${issues.length - shown} more` : listed;
}

/**
 * What every loader of settings or data files throws: a stable `code`, every problem found, each
 * with the key path or JSON path it concerns, and a message `SUBJECT: path: message; ...`. Each
 * loader has its own subclass, so callers can tell whose input was refused.
 */
export class ValidationError extends Error {
  override readonly name: string = 'ValidationError';
  constructor(readonly code: string, subject: string, readonly issues: readonly Issue[], options: { readonly shown?: number } = {}) {
    super(`${subject}: ${formatIssues(issues, options.shown)}`);
  }
}
