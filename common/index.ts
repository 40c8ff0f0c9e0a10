/** What every part of Meridian shares: the HTTP APIs' error catalogue and the command-line parser. */
export { API_ERRORS, errorAnswer, type ApiErrorCode, type ErrorBody, type Issue } from './http-errors';
export { flag, flagAll, numberFlag, parseArgs, UsageError, USAGE_EXIT_CODE, type ParsedArgs } from './args';
export { bashCompletion, COMPLETION_SHELLS, flagsOfUsage, zshCompletion, type CompletionSpec } from './completion';
export { meridianVersion } from './version';
