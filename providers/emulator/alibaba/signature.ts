import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The only signature algorithm the emulator accepts (what `@alicloud/openapi-core` sends by default). */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** Headers an ACS3 signature must cover, or the request is incomplete. */
const REQUIRED_SIGNED_HEADERS = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'];

/** The parts of an `Authorization: ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...` header. */
export interface Acs3Authorization {
  readonly accessKeyId: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** What a request to verify consists of. Query values are already percent-decoded. */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: ReadonlyMap<string, string>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why a signature was refused, in the gateway's own codes. */
export type SignatureFault =
  | { readonly code: 'IncompleteSignature'; readonly message: string }
  | { readonly code: 'SignatureDoesNotMatch'; readonly message: string };

/** Parses an ACS3 `Authorization` header; undefined when it is absent or malformed. */
export function parseAcs3Authorization(value: string | undefined): Acs3Authorization | undefined {
  if (!value?.startsWith(`${ACS3_ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(ACS3_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature) return undefined;
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature };
}

/**
 * Percent-encoding of the ACS3 canonical query string: RFC 3986 unreserved characters stay,
 * everything else is encoded, including `!'()*` that `encodeURIComponent` leaves alone.
 */
export function acsPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The ACS3 canonical request: method, URI, sorted query, signed headers, their names, payload hash. */
export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[], payloadHash: string): string {
  // Keys are sorted by code unit and left unencoded, values encoded: the SDK does exactly this.
  const query = [...req.query.keys()].sort().map((k) => `${k}=${acsPercentEncode(req.query.get(k) ?? '')}`).join('&');
  const headers = signedHeaders.map((h) => `${h}:${headerValue(req.headers, h).trim()}\n`).join('');
  return [req.method, req.path, query, headers, signedHeaders.join(';'), payloadHash].join('\n');
}

/** The hex HMAC-SHA256 signature of a canonical request with `secret`. */
export function acs3Signature(canonical: string, secret: string): string {
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

/** Checks a request's ACS3 signature against `secret`; undefined when it is valid. */
export function verifyAcs3(req: SignedRequest, auth: Acs3Authorization, secret: string): SignatureFault | undefined {
  const signed = auth.signedHeaders.map((h) => h.toLowerCase());
  const missing = REQUIRED_SIGNED_HEADERS.filter((h) => !signed.includes(h) || headerValue(req.headers, h) === '');
  if (missing.length) {
    return { code: 'IncompleteSignature', message: `The request signature does not conform to Aliyun standards: ${missing.join(', ')} must be sent and signed.` };
  }
  const payloadHash = headerValue(req.headers, 'x-acs-content-sha256');
  if (payloadHash !== sha256Hex(req.body)) {
    return { code: 'SignatureDoesNotMatch', message: 'Specified signature is not matched with our calculation: x-acs-content-sha256 does not match the request body.' };
  }
  const expected = Buffer.from(acs3Signature(canonicalRequest(req, signed, payloadHash), secret), 'hex');
  const given = Buffer.from(/^[0-9a-f]+$/i.test(auth.signature) ? auth.signature : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { code: 'SignatureDoesNotMatch', message: 'Specified signature is not matched with our calculation.' };
  }
  return undefined;
}

/** Lower-case hex SHA-256. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v ?? '';
}
