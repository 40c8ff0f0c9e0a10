import { CloudError, parseRetryAfter, type CloudErrorKind } from '../errors';
import type { CallContext } from '../resilience';

/**
 * EC2 error codes by kind (EC2 API Reference, "Error codes for the Amazon EC2 API"). The SDK
 * names each service error after its code, so classification never reads message text.
 */
const CODE_KINDS: ReadonlyMap<string, CloudErrorKind> = new Map<string, CloudErrorKind>([
  // The region cannot place this type right now; another region or type may work.
  ...['InsufficientInstanceCapacity', 'InsufficientCapacity', 'InsufficientHostCapacity', 'InsufficientCapacityOnHost',
    'InsufficientReservedInstanceCapacity', 'InsufficientAddressCapacity', 'UnfulfillableCapacity', 'InsufficientFreeAddressesInSubnet',
  ].map((c) => [c, 'capacity'] as const),
  // Account limits: only a limit increase or fewer instances helps.
  ...['InstanceLimitExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded', 'ResourceLimitExceeded', 'AddressLimitExceeded',
    'VolumeLimitExceeded', 'MaxIOPSLimitExceeded', 'InsufficientInstanceQuota',
  ].map((c) => [c, 'quota'] as const),
  // The same codes the SDK's own retry strategy treats as throttling.
  ...['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException',
    'EC2ThrottledException', 'TooManyRequestsException', 'BandwidthLimitExceeded', 'SlowDown', 'PriorRequestNotComplete',
  ].map((c) => [c, 'throttled'] as const),
  ...['AuthFailure', 'SignatureDoesNotMatch', 'IncompleteSignature', 'InvalidClientTokenId', 'MissingAuthenticationToken',
    'UnauthorizedOperation', 'OptInRequired', 'Blocked', 'PendingVerification', 'RequestExpired', 'ExpiredToken',
    'InvalidSecurity', 'AccessDenied', 'AccessDeniedException', 'UnrecognizedClientException',
  ].map((c) => [c, 'auth'] as const),
  ...['InvalidParameterValue', 'InvalidParameter', 'InvalidParameterCombination', 'MissingParameter', 'UnknownParameter',
    'IdempotentParameterMismatch', 'Unsupported', 'UnsupportedOperation', 'InvalidAction', 'MissingAction', 'ValidationError',
    'TagLimitExceeded', 'InvalidUserData.Malformed', 'DryRunOperation',
  ].map((c) => [c, 'invalid'] as const),
  ...['Unavailable', 'InternalError', 'ServiceUnavailable', 'InternalFailure', 'ServerInternal'].map((c) => [c, 'unavailable'] as const),
]);

/** Node and SDK failure names/codes that mean the service could not be reached or did not answer in time. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED',
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError', 'NetworkingError',
]);

/** What the SDK's errors carry, read defensively (fields are optional and vary by failure). */
interface SdkErrorFields {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly Code?: unknown;
  readonly message?: unknown;
  readonly RequestId?: unknown;
  readonly RequestID?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
  readonly $response?: { readonly headers?: Record<string, string | undefined> };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The kind of an EC2 error code for one operation, or undefined when the code is not known. */
function kindOfCode(code: string, ctx: CallContext): CloudErrorKind | undefined {
  const known = CODE_KINDS.get(code);
  if (known) return known;
  // `InvalidAMIID.NotFound` on RunInstances means the request can never succeed as written;
  // `InvalidInstanceID.NotFound` on Describe/Terminate means the instance is gone.
  if (code.endsWith('.NotFound')) return ctx.operation === 'RunInstances' ? 'invalid' : 'not-found';
  if (code.endsWith('.Malformed') || code.endsWith('.Duplicate') || code.startsWith('Invalid')) return 'invalid';
  if (code.startsWith('Insufficient')) return 'capacity';
  if (code.endsWith('LimitExceeded')) return 'quota';
  return undefined;
}

/** The kind an unknown code gets from its HTTP status alone. */
function kindOfStatus(status: number): CloudErrorKind {
  if (status === 429) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status >= 500) return 'unavailable';
  return 'invalid';
}

/** One sentence of advice per kind, so an operator knows what to do. */
function advice(kind: CloudErrorKind): string {
  switch (kind) {
    case 'auth': return 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or the configured credentials (providers aws.credentials), and the clock';
    case 'quota': return 'request an EC2 limit increase or use another region';
    case 'capacity': return 'try another region or instance type';
    default: return '';
  }
}

/**
 * The one function that turns whatever `@aws-sdk/client-ec2` throws into a `CloudError`.
 * Service errors are classified by their EC2 code (the SDK names errors after it), then by HTTP
 * status; connection failures and timeouts are `unavailable`; missing credentials are `auth`.
 */
export function classifyAwsError(err: unknown, ctx: CallContext): CloudError {
  if (err instanceof CloudError) return err;
  const where = `aws ${ctx.operation} in ${ctx.region}`;
  if (typeof err !== 'object' || err === null) {
    return new CloudError(`${where} failed: ${String(err)}`, { kind: 'unavailable', cloud: 'aws', region: ctx.region, code: 'Unknown', cause: err });
  }
  const e = err as SdkErrorFields;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const name = str(e.name);
  const message = str(e.message) ?? '';

  if (status !== undefined) {
    const code = str(e.Code) ?? (name !== 'Error' ? name : undefined) ?? `HTTP${status}`;
    const kind = kindOfCode(code, ctx) ?? kindOfStatus(status);
    const requestId = str(e.$metadata?.requestId) ?? str(e.RequestId) ?? str(e.RequestID);
    const retryAfterMs = parseRetryAfter(e.$response?.headers?.['retry-after']);
    const tip = advice(kind);
    return new CloudError(`${where} failed with ${code} (HTTP ${status}): ${message}${tip ? `; ${tip}` : ''}`, {
      kind, cloud: 'aws', region: ctx.region, code, requestId, httpStatus: status, retryAfterMs, cause: err,
    });
  }

  const netCode = str(e.code) ?? name;
  if (netCode !== undefined && NETWORK_CODES.has(netCode)) {
    return new CloudError(`${where} could not reach EC2 (${netCode}): ${message}`, { kind: 'unavailable', cloud: 'aws', region: ctx.region, code: netCode, cause: err });
  }
  if (name === 'CredentialsProviderError') {
    return new CloudError(`${where} found no AWS credentials: ${message}; ${advice('auth')}`, {
      kind: 'auth', cloud: 'aws', region: ctx.region, code: 'NoCredentials', cause: err,
    });
  }
  return new CloudError(`${where} failed: ${message || String(err)}`, { kind: 'unavailable', cloud: 'aws', region: ctx.region, code: netCode ?? 'Unknown', cause: err });
}
