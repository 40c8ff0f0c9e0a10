/** One problem with a request, settings or a data file, located by JSON pointer (into the body, the settings or the file) or by a parameter's name. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/**
 * Stable error codes of Meridian's HTTP APIs (the scheduler's and the GeoDNS admin API), each with
 * its HTTP status. Clients branch on the code, never on the message.
 */
export const API_ERRORS = Object.freeze({
  MERIDIAN_ERR_INVALID: 400,
  MERIDIAN_ERR_MALFORMED: 400,
  MERIDIAN_ERR_UNAUTHORIZED: 401,
  MERIDIAN_ERR_NOT_FOUND: 404,
  MERIDIAN_ERR_METHOD_NOT_ALLOWED: 405,
  MERIDIAN_ERR_CONFLICT: 409,
  MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  MERIDIAN_ERR_INTERNAL: 500,
  MERIDIAN_ERR_NOT_READY: 503,
} as const);

/** A code of `API_ERRORS`. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** The body of every error answer of both APIs. */
export interface ErrorBody {
  readonly error: ApiErrorCode;
  readonly message: string;
  /** Every problem found, each with its path; empty when the message says it all. */
  readonly errors: readonly Issue[];
}

/** The error body for a code, with its HTTP status. */
export function errorAnswer(code: ApiErrorCode, message: string, issues: readonly Issue[] = []): { readonly status: number; readonly body: ErrorBody } {
  return { status: API_ERRORS[code], body: { error: code, message, errors: issues } };
}
