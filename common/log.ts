import { Type } from '@sinclair/typebox';
import type { DestinationStream, Logger } from 'pino';
import { flag, UsageError, type ParsedArgs } from './args';

/** The levels `--log-level` and the settings' `logLevel` take, most verbose first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of `LOG_LEVELS`. */
export type LogLevel = typeof LOG_LEVELS[number];

/** A level a message is logged at (every level but `silent`). */
export type MessageLevel = Exclude<LogLevel, 'silent'>;

export type { Logger };

/** The `logLevel` key of both servers' settings (default `info`); `--log-level` overrides it. */
export const LogLevelSchema = Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info' });

/** What a settings loader reports for a bad `logLevel` (the schema's own message says only "union"). */
export const LOG_LEVEL_EXPECTED = `must be one of ${LOG_LEVELS.join(', ')}`;

/**
 * The callback the servers' parts report operational messages through: a message, its level
 * (default `info`) and structured fields. A part given none logs nowhere or to its own default.
 */
export type LineLog = (message: string, level?: MessageLevel, fields?: Readonly<Record<string, unknown>>) => void;

/** Whether `value` is one of `LOG_LEVELS`. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** The `--log-level` flag's value, or undefined when absent; a usage error names the flag and the levels. */
export function logLevelFlag(args: ParsedArgs): LogLevel | undefined {
  const v = flag(args, '--log-level');
  if (v === undefined) return undefined;
  if (!isLogLevel(v)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${v}'`);
  return v;
}

/** How to make a process's logger. */
export interface LoggerOptions {
  /** `meridian` or `meridian-dns`: the `name` field of every line. */
  readonly name: string;
  readonly level: LogLevel;
  /** Where lines go; default stderr, written synchronously so that the last lines before an exit are kept. */
  readonly stream?: DestinationStream;
}

/**
 * A pino logger writing one JSON object per line: `level` as its label (`"info"`), `time` as
 * ISO 8601, `name`, `pid`, `msg` and the line's fields. Secrets never reach a line: fields named
 * `token` or `authorization` anywhere down to two levels are replaced by `[redacted]`.
 */
export function createLogger(options: LoggerOptions): Logger {
  // pino is loaded when a long-running command makes its logger, not by every short CLI command
  // that imports this folder.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pino } = require('pino') as typeof import('pino');
  return pino({
    name: options.name,
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['token', 'authorization', '*.token', '*.authorization', '*.*.token', '*.*.authorization', 'headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  }, options.stream ?? pino.destination({ dest: 2, sync: true }));
}

/** A `LineLog` that writes through `logger`, with `fields` merged into each line. */
export function lineLog(logger: Logger, fields: Readonly<Record<string, unknown>> = {}): LineLog {
  return (message, level = 'info', extra) => { logger[level]({ ...fields, ...extra }, message); };
}
