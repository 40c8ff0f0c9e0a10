import type { CloudId } from './types';

/** What went wrong, independent of the cloud. Callers branch on this, never on message text. */
export type CloudErrorKind =
  | 'capacity'     // the region has no capacity for this type right now
  | 'quota'        // an account or subscription limit was reached
  | 'throttled'    // the API rate limit was hit
  | 'auth'         // credentials missing, wrong, or not allowed
  | 'not-found'    // the resource does not exist
  | 'invalid'      // the request can never succeed as written
  | 'unavailable'; // the service failed, timed out, or a breaker is open

/** Kinds that succeed on retry without changing the request. */
const RETRYABLE_KINDS: ReadonlySet<CloudErrorKind> = new Set(['throttled', 'unavailable']);

/** Options for constructing a `CloudError`. */
export interface CloudErrorOptions {
  readonly kind: CloudErrorKind;
  readonly cloud: CloudId;
  readonly region?: string;
  /** The cloud's own error code: `InsufficientInstanceCapacity`, `OperationNotAllowed`, `Throttling`. */
  readonly code?: string;
  readonly requestId?: string;
  /** Overrides the default retryability of `kind`. */
  readonly retryable?: boolean;
  /** Server-advised wait before retrying, from `Retry-After` or the cloud's equivalent. */
  readonly retryAfterMs?: number;
  /** HTTP status of the failed call, when there was one. */
  readonly httpStatus?: number;
  readonly cause?: unknown;
}

/** The one error type every `CloudProvider` rejects with. */
export class CloudError extends Error {
  override readonly name = 'CloudError';
  readonly kind: CloudErrorKind;
  readonly cloud: CloudId;
  readonly region?: string;
  readonly code?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly httpStatus?: number;

  constructor(message: string, options: CloudErrorOptions) {
    super(message, { cause: options.cause });
    this.kind = options.kind;
    this.cloud = options.cloud;
    this.region = options.region;
    this.code = options.code;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? RETRYABLE_KINDS.has(options.kind);
    this.retryAfterMs = options.retryAfterMs;
    this.httpStatus = options.httpStatus;
  }

  /** A plain object for logs and API responses (no stack, no cause chain). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name, kind: this.kind, message: this.message, cloud: this.cloud, region: this.region,
      code: this.code, requestId: this.requestId, retryable: this.retryable,
    };
  }
}

/** True when `err` is a `CloudError`, optionally of one of `kinds`. */
export function isCloudError(err: unknown, ...kinds: CloudErrorKind[]): err is CloudError {
  return err instanceof CloudError && (kinds.length === 0 || kinds.includes(err.kind));
}

/** Parses an HTTP `Retry-After` value (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
