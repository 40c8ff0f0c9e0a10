/** Settings of the RIS poller channel: one schema gives the type, the defaults and the validation. */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError, type Issue } from '../../../../common';

/** The `geoip.ris` settings. */
export const RisSettingsSchema = Type.Object({
  /** Archive root in RIS's layout (`<root>/rrcNN/YYYY.MM/`): `https://data.ris.ripe.net`, a local mirror over `http://`, or `file:///path`. */
  baseUrl: Type.String({ pattern: '^(https?|file)://', default: 'https://data.ris.ripe.net' }),
  /** Collectors to follow, e.g. `rrc00`. */
  collectors: Type.Array(Type.String({ pattern: '^rrc[0-9]{2}$' }), { minItems: 1, default: ['rrc00'] }),
  /** Where the poller remembers which files it applied (JSON), so a restart resumes. */
  stateFile: Type.String({ minLength: 1 }),
  /** How often to look for new updates files (RIS writes one every 5 minutes). */
  pollIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
  /** Wait before retrying a file that failed to download or parse. */
  retryIntervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 60 }),
  /** After this many failures in a row a file is skipped (and reported); the next bview repairs the gap. */
  maxAttemptsPerFile: Type.Integer({ minimum: 1, default: 5 }),
  /** The channel reports `stale` when its newest applied data is older than this. */
  staleAfterMinutes: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  /** A download that takes longer fails (and is retried). */
  requestTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 120 }),
  /** How many months back (from the current one) to look for the latest bview when bootstrapping. */
  bootstrapLookbackMonths: Type.Integer({ minimum: 0, maximum: 12, default: 1 }),
  /** Bound on one MRT record's body; longer records are reported and skipped. */
  maxRecordBytes: Type.Integer({ minimum: 65_536, default: 64 * 1024 * 1024 }),
}, { additionalProperties: false });

/** Validated RIS poller settings. */
export type RisSettings = Static<typeof RisSettingsSchema>;

/** One problem with RIS settings, with its key path. */
export type RisSettingsIssue = Issue;

/** Thrown for invalid RIS settings; lists every problem (code `DNS_ERR_CONFIG_INVALID`). */
export class RisSettingsError extends ValidationError {
  override readonly name = 'RisSettingsError';
  constructor(issues: readonly RisSettingsIssue[]) {
    super('DNS_ERR_CONFIG_INVALID', 'invalid RIS settings', issues);
  }
}

/** Applies defaults to `input`, validates it, and returns frozen settings; throws `RisSettingsError` naming every bad key. */
export function parseRisSettings(input: unknown): RisSettings {
  const withDefaults: unknown = Value.Default(RisSettingsSchema, Value.Clone(input ?? {}));
  const issues = [...Value.Errors(RisSettingsSchema, withDefaults)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length > 0) throw new RisSettingsError(issues);
  const s = withDefaults as RisSettings;
  return Object.freeze({ ...s, collectors: Object.freeze([...s.collectors]) as string[] });
}
