import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The credential scope of a SigV4 request: who signed, on which day, for which region and service. */
export interface SigV4Scope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** A request as the verifier needs it. */
export interface SignedRequest {
  readonly method: string;
  /** Path without the query string, as received. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why a signature was not accepted; the wire layer turns each reason into EC2's own error. */
export type SigV4Failure =
  | { readonly reason: 'missing'; readonly message: string }
  | { readonly reason: 'malformed'; readonly message: string }
  | { readonly reason: 'unknown-key'; readonly message: string; readonly scope: SigV4Scope }
  | { readonly reason: 'expired'; readonly message: string; readonly scope: SigV4Scope }
  | { readonly reason: 'mismatch'; readonly message: string; readonly scope: SigV4Scope };

/** The verifier's answer: the scope when the signature holds, else why not. */
export type SigV4Result = { readonly ok: true; readonly scope: SigV4Scope } | ({ readonly ok: false } & SigV4Failure);

const ALGORITHM = 'AWS4-HMAC-SHA256';
// SigV4 allows 15 minutes of clock difference between signer and service.
const MAX_SKEW_MS = 15 * 60 * 1000;

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters is percent-encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parses `x-amz-date` (`20260101T120000Z`) into epoch milliseconds. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The SigV4 canonical request (AWS General Reference, "Create a canonical request for Signature Version 4"). */
export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[]): string {
  const query = [...req.query.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .map((h) => `${h}:${(headerValue(req.headers, h) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  // Non-S3 services encode each path segment twice; the first encoding is the one on the wire.
  const path = req.path.split('/').map((s) => uriEncode(s)).join('/') || '/';
  // Always hash the body received: trusting an x-amz-content-sha256 header would let a changed
  // body pass. Only an explicitly unsigned payload is taken as declared.
  const declared = headerValue(req.headers, 'x-amz-content-sha256');
  const payloadHash = declared === 'UNSIGNED-PAYLOAD' ? declared : sha256Hex(req.body);
  return [req.method, path, query, headers, signedHeaders.join(';'), payloadHash].join('\n');
}

/** The SigV4 signing key for one day, region and service. */
export function signingKey(secret: string, scope: Omit<SigV4Scope, 'accessKeyId'>): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service), 'aws4_request');
}

/**
 * Verifies a SigV4 `Authorization` header by recomputing the signature with the secret of the
 * access key it names. The region comes from the credential scope, which is how a single
 * endpoint can serve every region.
 */
export function verifySigV4(
  req: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  now: number = Date.now(),
): SigV4Result {
  const auth = headerValue(req.headers, 'authorization');
  if (!auth) return { ok: false, reason: 'missing', message: 'Request is missing Authentication Token' };
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(auth.trim());
  if (!m) return { ok: false, reason: 'malformed', message: `Authorization header requires ${ALGORITHM} with Credential, SignedHeaders and Signature` };
  const parts = m[1].split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    return { ok: false, reason: 'malformed', message: `Credential should be scoped to a valid region, got '${m[1]}'` };
  }
  const scope: SigV4Scope = { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
  const signedHeaders = m[2].split(';');
  if (!signedHeaders.includes('host')) return { ok: false, reason: 'malformed', message: "'Host' must be a signed header" };

  const amzDate = headerValue(req.headers, 'x-amz-date');
  const at = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || at === undefined) return { ok: false, reason: 'malformed', message: 'X-Amz-Date header is missing or malformed' };
  if (!amzDate.startsWith(scope.date)) {
    return { ok: false, reason: 'mismatch', scope, message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${amzDate.slice(0, 8)}'` };
  }
  if (Math.abs(now - at) > MAX_SKEW_MS) {
    return { ok: false, reason: 'expired', scope, message: `Request has expired: signed at ${amzDate}, more than 15 minutes from the server's clock` };
  }
  const secret = secretFor(scope.accessKeyId);
  if (secret === undefined) return { ok: false, reason: 'unknown-key', scope, message: 'AWS was not able to validate the provided access credentials' };

  const stringToSign = [ALGORITHM, amzDate, `${scope.date}/${scope.region}/${scope.service}/aws4_request`, sha256Hex(canonicalRequest(req, signedHeaders))].join('\n');
  const expected = createHmac('sha256', signingKey(secret, scope)).update(stringToSign).digest();
  const given = Buffer.from(m[3], 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false, reason: 'mismatch', scope,
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true, scope };
}
