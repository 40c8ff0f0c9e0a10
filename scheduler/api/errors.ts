/** One problem with a request, located by JSON pointer into the body (or the parameter name). */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Stable error codes of the API, each with its HTTP status. */
export const API_ERRORS = Object.freeze({
  MERIDIAN_ERR_INVALID: 400,
  MERIDIAN_ERR_MALFORMED: 400,
  MERIDIAN_ERR_UNAUTHORIZED: 401,
  MERIDIAN_ERR_NOT_FOUND: 404,
  MERIDIAN_ERR_CONFLICT: 409,
  MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  MERIDIAN_ERR_INTERNAL: 500,
} as const);

/** A code of `API_ERRORS`. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** An error a route raises on purpose; the error handler turns it into its status and body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly statusCode: number;
  constructor(readonly code: ApiErrorCode, message: string, readonly issues: readonly Issue[] = []) {
    super(message);
    this.statusCode = API_ERRORS[code];
  }
}

/** 404 for a named resource. */
export function notFound(kind: string, name: string): ApiError {
  return new ApiError('MERIDIAN_ERR_NOT_FOUND', `${kind} '${name}' does not exist`);
}

/** 400 listing every problem. */
export function invalid(what: string, issues: readonly Issue[]): ApiError {
  return new ApiError('MERIDIAN_ERR_INVALID', `invalid ${what}: ${issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; ')}`, issues);
}
