import { CloudError, type CloudErrorKind } from '../errors';
import type { CallContext } from '../resilience';

/** Where the driver looks for credentials, named in every `auth` error so the reader knows what to fix. */
export const ALIBABA_CREDENTIAL_HINT =
  'check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the alibaba accessKeyId / accessKeySecret in the configuration, or the default credentials profile)';

// ECS and gateway codes by what they mean to a caller. Everything else is decided by HTTP status.
const AUTH_CODES = new Set([
  'InvalidAccessKeyId.NotFound', 'InvalidAccessKeyId.Inactive', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'IncompleteSignature',
  'InvalidSecurityToken.Expired', 'InvalidSecurityToken.Malformed', 'InvalidSecurityToken.MismatchWithAccessKey',
  'Forbidden.RAM', 'Forbidden.AccessKeyDisabled', 'Forbidden.NotSupportRAM', 'NoPermission',
  'InvalidCredentials', 'CredentialException',
]);
const QUOTA_CODES = new Set(['Account.Arrearage', 'InsufficientBalance', 'OperationDenied.QuotaExceed', 'InvalidAccountStatus.NotEnoughBalance']);
const NOT_FOUND_CODES = new Set(['InvalidInstanceId.NotFound', 'InvalidInstance.NotFound', 'Instance.NotFound']);
const UNAVAILABLE_CODES = new Set(['ServiceUnavailable', 'InternalError', 'UnknownError', 'SignatureNonceUsed', 'LastTokenProcessing', 'OperationConflict']);
// Node and httpx failures below HTTP: the request may or may not have reached the service.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/** The fields an `@alicloud/openapi-core` error (ClientError, ServerError, ThrottlingError) carries. */
interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly statusCode?: unknown;
  readonly requestId?: unknown;
  readonly retryAfter?: unknown;
  readonly data?: unknown;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v !== 'undefined' && v !== 'null' ? v : undefined;
}

/** The kind of an ECS answer, from its code first and its HTTP status second. */
function kindOf(code: string | undefined, status: number | undefined): CloudErrorKind {
  if (code !== undefined) {
    if (code.includes('Throttling')) return 'throttled';
    if (AUTH_CODES.has(code)) return 'auth';
    if (/NoStock$/.test(code)) return 'capacity';
    if (code.startsWith('QuotaExceed') || QUOTA_CODES.has(code)) return 'quota';
    if (NOT_FOUND_CODES.has(code)) return 'not-found';
    if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
  }
  if (status === 429) return 'throttled';
  if (status === 401) return 'auth';
  if (status !== undefined && status >= 500) return 'unavailable';
  return 'invalid';
}

/**
 * Turns anything the ECS SDK throws into a `CloudError`. The one place Alibaba errors are read:
 * ECS codes (`OperationDenied.NoStock`, `QuotaExceed.*`, `Throttling.User`, ...) decide the kind,
 * the HTTP status decides the rest; the SDK error stays as `cause`.
 */
export function classifyAlibabaError(err: unknown, ctx: CallContext): CloudError {
  if (err instanceof CloudError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
  const rawMessage = text(e.message) ?? String(err);
  const status = typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : undefined;
  const code = text(e.code) ?? text(data.Code);
  const requestId = text(e.requestId) ?? text(data.RequestId);
  const base = { cloud: 'alibaba' as const, region: ctx.region, requestId, httpStatus: status, cause: err };
  const where = `alibaba ${ctx.operation} in ${ctx.region}`;

  // No HTTP answer at all: a connection failure, a timeout, or the credential chain giving up.
  if (status === undefined && (code === undefined || !/^[A-Z][A-Za-z]+(\.[A-Za-z]+)*$/.test(code) || NETWORK_CODES.has(code))) {
    const name = text(e.name) ?? '';
    if (name.startsWith('RequestTimeout') || (code !== undefined && NETWORK_CODES.has(code)) || /socket hang up|ECONNRESET|ECONNREFUSED/.test(rawMessage)) {
      return new CloudError(`${where} failed before an answer arrived: ${rawMessage}`, { ...base, kind: 'unavailable', code: code ?? name ?? 'NetworkError' });
    }
    if (name === 'CredentialException' || /credential|access ?key/i.test(rawMessage)) {
      return new CloudError(`${where}: no usable Alibaba Cloud credentials (${rawMessage}); ${ALIBABA_CREDENTIAL_HINT}`, { ...base, kind: 'auth', code: code ?? 'CredentialsNotFound' });
    }
    return new CloudError(`${where} failed: ${rawMessage}`, { ...base, kind: 'unavailable', code: code ?? 'UnknownError', retryable: false });
  }

  const kind = kindOf(code, status);
  const serverMessage = text(data.Message) ?? rawMessage;
  switch (kind) {
    case 'throttled': {
      // ThrottlingError.retryAfter comes from x-acs-retry-after, in milliseconds.
      const retryAfterMs = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) && e.retryAfter >= 0 ? e.retryAfter : undefined;
      return new CloudError(`${where} was throttled (${code ?? status}): ${serverMessage}`, { ...base, kind, code, retryAfterMs });
    }
    case 'auth':
      return new CloudError(`${where} was refused: the credentials were not accepted (${code}): ${serverMessage}; ${ALIBABA_CREDENTIAL_HINT}`, { ...base, kind, code });
    default:
      return new CloudError(`${where} failed (${code ?? status}): ${serverMessage}`, { ...base, kind, code });
  }
}
