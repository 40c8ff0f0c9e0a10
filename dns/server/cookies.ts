import { createHmac, randomBytes } from 'node:crypto';
import { EDNS_OPTION_COOKIE } from '../wire/constants';
import { ipv4ToBytes, ipv4ToUint, ipv6ToBytes } from '../wire/ip';
import { findEdnsOption } from '../wire/scan';
import { sipHash24 } from './siphash';

/** Settings of DNS cookies. */
export interface CookieOptions {
  readonly enabled: boolean;
  /**
   * 16-byte master secret as 32 hex digits, the same on every server of an anycast set; the secret
   * in force is derived from it per rotation period, so servers and workers rotate together
   * without talking. Random per process (per cluster) when absent.
   */
  readonly secret?: string;
  /** How long one derived secret is in force; cookies of the previous period stay valid (RFC 9018 §5). */
  readonly rotateSeconds: number;
}

/** Defaults: on, secrets rotating hourly. */
export const DEFAULT_COOKIES: CookieOptions = Object.freeze({ enabled: true, rotateSeconds: 3600 });

/** A cookie option that breaks RFC 7873 §4's lengths: the query gets FORMERR. */
export const COOKIE_MALFORMED = -1;
/** Only a client cookie, or a server cookie that does not verify (stale, other secret, other client). */
export const COOKIE_CLIENT_ONLY = 0;
/** A server cookie this server (or a sibling with the same master secret) made for this client, still fresh. */
export const COOKIE_VALID = 1;

const SERVER_COOKIE_VERSION = 1;
/** RFC 9018 §4.3: a server cookie is accepted up to an hour old and five minutes in the future. */
const MAX_AGE_SECONDS = 3600;
const MAX_FUTURE_SECONDS = 300;

/**
 * Server cookies as RFC 9018 defines them: version 1, a timestamp, and SipHash-2-4 over the client
 * cookie, version, reserved bytes, timestamp and client address under a secret that rotates.
 */
export class CookieSecrets {
  private readonly master: Buffer;
  private period = -1;
  private current: Buffer = Buffer.alloc(16);
  private previous: Buffer = Buffer.alloc(16);
  private readonly input = Buffer.alloc(8 + 8 + 16);

  constructor(readonly options: CookieOptions, private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {
    if (options.secret !== undefined && !/^[0-9a-fA-F]{32}$/.test(options.secret)) {
      throw new RangeError('cookies.secret must be 32 hexadecimal digits (16 bytes)');
    }
    if (!Number.isInteger(options.rotateSeconds) || options.rotateSeconds < 60) throw new RangeError(`cookies.rotateSeconds must be an integer of at least 60, got ${options.rotateSeconds}`);
    this.master = options.secret ? Buffer.from(options.secret, 'hex') : randomBytes(16);
  }

  /** A fresh 16-byte server cookie for `clientCookie` (8 bytes) from `clientIp` (4 or 16 bytes). */
  make(clientCookie: Uint8Array, clientIp: Uint8Array): Buffer {
    const now = this.nowSeconds();
    this.rotate(now);
    const out = Buffer.alloc(16);
    out[0] = SERVER_COOKIE_VERSION;
    out.writeUInt32BE(now >>> 0, 4);
    this.hash(this.current, clientCookie, out, clientIp, out, 8);
    return out;
  }

  /** True when `server` (the server part of a COOKIE option) is one this secret set made for this client and is fresh. */
  verify(clientCookie: Uint8Array, server: Uint8Array, clientIp: Uint8Array): boolean {
    if (server.length !== 16 || server[0] !== SERVER_COOKIE_VERSION) return false;
    const now = this.nowSeconds();
    const stamp = ((server[4]! << 24) | (server[5]! << 16) | (server[6]! << 8) | server[7]!) >>> 0;
    // Serial-number arithmetic over 32 bits (RFC 1982), as RFC 9018 §4.3 asks.
    const age = ((now >>> 0) - stamp) | 0;
    if (age > MAX_AGE_SECONDS || age < -MAX_FUTURE_SECONDS) return false;
    this.rotate(now);
    const mac = Buffer.alloc(8);
    for (const secret of [this.current, this.previous]) {
      this.hash(secret, clientCookie, server, clientIp, mac, 0);
      if (mac.equals(Buffer.from(server.subarray(8, 16)))) return true;
    }
    return false;
  }

  private hash(secret: Buffer, clientCookie: Uint8Array, server: Uint8Array, clientIp: Uint8Array, out: Uint8Array, at: number): void {
    const input = this.input;
    input.set(clientCookie.subarray(0, 8), 0);
    input.set(server.subarray(0, 8), 8);
    input.set(clientIp, 16);
    sipHash24(secret, input, out, at, 0, 16 + clientIp.length);
  }

  private rotate(now: number): void {
    const period = Math.floor(now / this.options.rotateSeconds);
    if (period === this.period) return;
    this.period = period;
    this.current = this.derive(period);
    this.previous = this.derive(period - 1);
  }

  private derive(period: number): Buffer {
    return createHmac('sha256', this.master).update(`meridian-dns-cookie:${period}`).digest().subarray(0, 16);
  }
}

/**
 * Classifies the COOKIE option data of a query: `COOKIE_MALFORMED` (RFC 7873 §5.2.2: FORMERR),
 * `COOKIE_CLIENT_ONLY` or `COOKIE_VALID`.
 */
export function checkCookie(secrets: CookieSecrets, data: Uint8Array, clientIp: Uint8Array): number {
  if (data.length !== 8 && (data.length < 16 || data.length > 40)) return COOKIE_MALFORMED;
  if (data.length === 8) return COOKIE_CLIENT_ONLY;
  return secrets.verify(data.subarray(0, 8), data.subarray(8), clientIp) ? COOKIE_VALID : COOKIE_CLIENT_ONLY;
}

/** The client's address as the 4 or 16 bytes its server cookie is bound to (RFC 9018 §4.4); empty when unparsable. */
export function clientAddressBytes(client: string): Uint8Array {
  if (ipv4ToUint(client) >= 0) return ipv4ToBytes(client);
  try {
    return ipv6ToBytes(client);
  } catch {
    return new Uint8Array(0);
  }
}

/** True when the query carries a server cookie that verifies for `client`: such a client is exempt from rate limiting. */
export function hasValidServerCookie(secrets: CookieSecrets, query: Uint8Array, client: string): boolean {
  const at = findEdnsOption(query, EDNS_OPTION_COOKIE);
  if (at < 0) return false;
  const len = (query[at + 2]! << 8) | query[at + 3]!;
  if (len < 24) return false;
  return checkCookie(secrets, query.subarray(at + 4, at + 4 + len), clientAddressBytes(client)) === COOKIE_VALID;
}
