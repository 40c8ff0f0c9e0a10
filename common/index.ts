/** What every part of Meridian shares: the HTTP APIs' error catalogue, the loaders' error, the command-line parser and the JSON logger. */
export { API_ERRORS, errorAnswer, type ApiErrorCode, type ErrorBody, type Issue } from './http-errors';
export { ValidationError } from './validation';
export { flag, flagAll, numberFlag, parseArgs, UsageError, USAGE_EXIT_CODE, type ParsedArgs } from './args';
export { bashCompletion, COMPLETION_SHELLS, flagsOfUsage, zshCompletion, type CompletionSpec } from './completion';
export { meridianVersion } from './version';
export {
  createLogger, isLogLevel, LOG_LEVEL_EXPECTED, LogLevelSchema, lineLog, logLevelFlag, LOG_LEVELS, type LineLog, type Logger, type LoggerOptions, type LogLevel, type MessageLevel,
} from './log';
