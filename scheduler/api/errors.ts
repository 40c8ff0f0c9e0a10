import { API_ERRORS, type ApiErrorCode, type Issue } from '../../common';

export { API_ERRORS, type ApiErrorCode, type Issue };

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
