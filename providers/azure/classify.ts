import { CloudError, parseRetryAfter, type CloudErrorKind } from '../errors';
import type { CallContext } from '../resilience';

/** Where to look when Azure refuses the credentials. */
export const AZURE_AUTH_HINT =
  'check the configured azure.token, or AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET (or `az login`) for DefaultAzureCredential, ' +
  'and that the principal has a role on the subscription';

/** Capacity codes: the region or zone cannot place this size now (Azure "allocation failure" guidance). */
const CAPACITY_CODES = new Set([
  'SkuNotAvailable', 'AllocationFailed', 'ZonalAllocationFailed', 'OverconstrainedAllocationRequest',
  'OverconstrainedZonalAllocationRequest', 'AllocationFailedVMSizeNotAvailable',
]);
const QUOTA_CODES = new Set(['QuotaExceeded', 'OperationNotAllowedQuotaExceeded']);
const AUTH_CODES = new Set([
  'AuthenticationFailed', 'InvalidAuthenticationToken', 'ExpiredAuthenticationToken', 'InvalidAuthenticationTokenTenant',
  'AuthorizationFailed', 'LinkedAuthorizationFailed',
]);
const NOT_FOUND_CODES = new Set(['ResourceNotFound', 'NotFound']);
/** Conflicts that clear by themselves: another operation holds the resource. */
const TRANSIENT_CONFLICT_CODES = new Set(['Conflict', 'AnotherOperationInProgress', 'OperationPreempted', 'RetryableError', 'RetryableErrorDueToAnotherOperation']);
const UNAVAILABLE_CODES = new Set(['InternalServerError', 'InternalExecutionError', 'ServiceUnavailable', 'GatewayTimeout', 'ServerTimeout']);
/** Node socket errors that mean the endpoint did not answer. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR']);
/** `@azure/core-lro` reports a failed operation status only as text: "The long-running operation has failed. <code>. <message>". */
const LRO_FAILED = /^The long-running operation has failed\. ([A-Za-z0-9_.]+)\. ([\s\S]*)$/;

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly response?: { readonly headers?: { get?(name: string): string | undefined } };
}

function header(err: SdkErrorShape, name: string): string | undefined {
  const h = err.response?.headers;
  return typeof h?.get === 'function' ? h.get(name) : undefined;
}

function kindOf(code: string | undefined, status: number | undefined, message: string): CloudErrorKind {
  if (status === 429) return 'throttled';
  if (code !== undefined) {
    if (CAPACITY_CODES.has(code)) return 'capacity';
    if (QUOTA_CODES.has(code)) return 'quota';
    // Compute answers an exceeded cores quota with the generic OperationNotAllowed (409); the message
    // names the quota. Other OperationNotAllowed answers (a VM marked for deletion, say) are not quota.
    if (code === 'OperationNotAllowed' && /quota/i.test(message)) return 'quota';
    if (AUTH_CODES.has(code)) return 'auth';
    // A missing resource group or subscription is configuration, not an absent instance.
    if (code === 'ResourceGroupNotFound' || code === 'SubscriptionNotFound') return 'invalid';
    if (NOT_FOUND_CODES.has(code)) return 'not-found';
    if (TRANSIENT_CONFLICT_CODES.has(code) || UNAVAILABLE_CODES.has(code)) return 'unavailable';
    if (NETWORK_CODES.has(code)) return 'unavailable';
  }
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status !== undefined && (status >= 500 || status === 408)) return 'unavailable';
  if (status !== undefined && status >= 400) return 'invalid';
  // No HTTP answer at all: refused or reset connection, DNS, timeout.
  return 'unavailable';
}

/**
 * Turns anything `@azure/arm-compute`, `@azure/arm-network`, `@azure/identity` or a failed
 * long-running operation throws into a `CloudError`. The one place that knows Azure's error shapes.
 */
export function classifyAzureError(err: unknown, ctx: CallContext): CloudError {
  if (err instanceof CloudError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkErrorShape;
  const base = { cloud: 'azure' as const, region: ctx.region, cause: err };
  // @azure/identity throws these when no credential source works or the token request fails.
  if (e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError' || e.name === 'AggregateAuthenticationError') {
    return new CloudError(`azure ${ctx.operation}: no usable credentials (${e.message ?? e.name}); ${AZURE_AUTH_HINT}`,
      { ...base, kind: 'auth', code: e.name });
  }
  let code = e.code;
  let message = e.message ?? String(err);
  const lro = LRO_FAILED.exec(message);
  if (lro) { code = lro[1]; message = lro[2]; }
  const status = e.statusCode;
  if (e.name === 'AbortError') {
    return new CloudError(`azure ${ctx.operation} in ${ctx.region} was aborted`, { ...base, kind: 'unavailable', code: 'Aborted' });
  }
  const kind = kindOf(code, status, message);
  const requestId = header(e, 'x-ms-request-id');
  const retryAfterMs = kind === 'throttled' || kind === 'unavailable' ? parseRetryAfter(header(e, 'retry-after')) : undefined;
  const what = `azure ${ctx.operation} in ${ctx.region} failed${status ? ` with HTTP ${status}` : ''}${code ? ` (${code})` : ''}: ${message}`;
  return new CloudError(kind === 'auth' ? `${what}; ${AZURE_AUTH_HINT}` : what, {
    ...base, kind, code, requestId, httpStatus: status, retryAfterMs,
  });
}
