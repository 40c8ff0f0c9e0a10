export { buildApi } from './build';
export { API_ERRORS, ApiError, type ApiErrorCode, type Issue } from './errors';
export type { ApiDeps, DocumentValidation, Parsed, SchedulerControl } from './types';
