import { RCODE } from '../wire/constants';
import { ipv4ToUint, ipv6ToBytes } from '../wire/ip';
import { findOptRecord, hashNameAt, questionEnd, skipName } from '../wire/scan';

/** Response-rate-limiting settings (the BIND/Knot RRL model: per client subnet and per response). */
export interface RrlOptions {
  /** Off by default on loopback, on elsewhere (see `exemptLoopback`). */
  readonly enabled: boolean;
  /**
   * Identical responses per second allowed to one client subnet (see `rrlResponseKey` for what counts
   * as identical); bursts of `burstSeconds` worth are absorbed.
   */
  readonly responsesPerSecond: number;
  readonly burstSeconds: number;
  /** Every `slip`-th withheld response is sent as an empty TC=1 answer so real clients retry over TCP (0 = never). */
  readonly slip: number;
  /** Subnet sizes that share one budget. */
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  /** Loopback clients are never limited. */
  readonly exemptLoopback: boolean;
  /** Most (subnet, response) buckets tracked at once; the table is cleared when it grows past this. */
  readonly maxEntries: number;
}

/** Defaults: 50 identical responses/s per /24 or /56, slip 2, loopback exempt. */
export const DEFAULT_RRL: RrlOptions = Object.freeze({
  enabled: true, responsesPerSecond: 50, burstSeconds: 2, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56,
  exemptLoopback: true, maxEntries: 100_000,
});

/** What to do with a response. */
export const RrlAction = Object.freeze({ SEND: 0, DROP: 1, SLIP: 2 } as const);

interface Bucket {
  tokens: number;
  at: number;
  withheld: number;
}

// Response classes, mixed into the key so that a name's answers, its NODATA and its zone's
// NXDOMAINs are separate budgets.
const CLASS_ANSWER = 0x5bd1e995;
const CLASS_NODATA = 0x27d4eb2f;
const CLASS_NXDOMAIN = 0x165667b1;
/** Errors (REFUSED, FORMERR, SERVFAIL, NOTIMP, ...) and unparsable responses share one budget per subnet. */
const KEY_ERROR = 0x9e3779b9;

function mix(h: number, v: number): number {
  return Math.imul((h ^ v) >>> 0, 0x01000193) >>> 0;
}

/**
 * What makes two responses "identical" for rate limiting, as BIND's and Knot's RRL define it, as a
 * 32-bit hash of the response bytes: an answer by (query name, type); NODATA by query name; NXDOMAIN
 * and referrals by the zone (the owner of the SOA or NS in authority), so a flood of random names
 * under one zone shares one budget; every error response of a subnet together.
 */
export function rrlResponseKey(response: Uint8Array): number {
  if (response.length < 12 || ((response[4]! << 8) | response[5]!) !== 1) return KEY_ERROR;
  const rcode = response[3]! & 0x0f;
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return KEY_ERROR;
  const qEnd = questionEnd(response);
  if (qEnd < 0) return KEY_ERROR;
  const ancount = (response[6]! << 8) | response[7]!;
  const nscount = (response[8]! << 8) | response[9]!;
  if (rcode === RCODE.NOERROR && ancount > 0) {
    const name = hashNameAt(response, 12);
    return name < 0 ? KEY_ERROR : mix(mix(name, (response[qEnd - 4]! << 8) | response[qEnd - 3]!), CLASS_ANSWER);
  }
  if (rcode === RCODE.NOERROR && (response[2]! & 0x04) !== 0) {
    const name = hashNameAt(response, 12);
    return name < 0 ? KEY_ERROR : mix(name, CLASS_NODATA);
  }
  // NXDOMAIN, or a referral (AA clear): the zone is the owner of the first authority record.
  if (nscount === 0 || ancount !== 0) return KEY_ERROR;
  const zone = hashNameAt(response, qEnd);
  return zone < 0 ? KEY_ERROR : mix(zone, CLASS_NXDOMAIN);
}

/**
 * Token buckets per (client subnet, response), the BIND/Knot RRL model. Limits amplification: a
 * spoofed victim gets at most `responsesPerSecond` copies of any one response, and every
 * `slip`-th of the rest as a tiny truncated reply; a resolver asking for many different names is
 * not limited by their number.
 */
export class ResponseRateLimiter {
  private readonly v4 = new Map<number, Bucket>();
  private readonly v6 = new Map<string, Bucket>();

  constructor(readonly options: RrlOptions) {}

  /** True when responses to `address` are never limited: limiting is off, or the address is loopback and `exemptLoopback` is set. */
  isExempt(address: string): boolean {
    if (!this.options.enabled) return true;
    if (!this.options.exemptLoopback) return false;
    const v4 = ipv4ToUint(address);
    return v4 >= 0 ? v4 >>> 24 === 127 : address === '::1' || address.startsWith('::ffff:127.');
  }

  /** `RrlAction` for `response` to `address` at time `nowMs`. */
  check(address: string, response: Uint8Array, nowMs: number): number {
    if (this.isExempt(address)) return RrlAction.SEND;
    const v4 = ipv4ToUint(address);
    const kind = rrlResponseKey(response);
    let bucket: Bucket | undefined;
    if (v4 >= 0) {
      // Subnet (up to 32 bits) and 21 bits of the response hash make one exact 53-bit number.
      const key = Math.floor(v4 / 2 ** (32 - this.options.ipv4PrefixLength)) * 2 ** 21 + (kind >>> 11);
      bucket = this.v4.get(key);
      if (!bucket) {
        if (this.v4.size >= this.options.maxEntries) this.v4.clear();
        bucket = this.fresh(nowMs);
        this.v4.set(key, bucket);
      }
    } else {
      let key: string;
      try {
        const bytes = ipv6ToBytes(address);
        key = bytes.subarray(0, Math.ceil(this.options.ipv6PrefixLength / 8)).toString('hex');
      } catch {
        key = address;
      }
      key += `/${kind}`;
      bucket = this.v6.get(key);
      if (!bucket) {
        if (this.v6.size >= this.options.maxEntries) this.v6.clear();
        bucket = this.fresh(nowMs);
        this.v6.set(key, bucket);
      }
    }
    const rate = this.options.responsesPerSecond;
    bucket.tokens = Math.min(rate * this.options.burstSeconds, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate);
    bucket.at = nowMs;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return RrlAction.SEND;
    }
    bucket.withheld++;
    return this.options.slip > 0 && bucket.withheld % this.options.slip === 0 ? RrlAction.SLIP : RrlAction.DROP;
  }

  private fresh(nowMs: number): Bucket {
    return { tokens: this.options.responsesPerSecond * this.options.burstSeconds, at: nowMs, withheld: 0 };
  }
}

/**
 * The slip reply: header and question of the response with TC=1, no answer or authority records,
 * and the response's OPT record (RFC 6891 §7: a truncated EDNS response keeps its OPT), so a real
 * client retries over TCP (RFC 1035 §4.2.1) while a spoofed victim gets a small packet.
 */
export function slipReply(response: Buffer): Buffer {
  const qEnd = questionEnd(response);
  const end = qEnd < 0 ? Math.min(12, response.length) : qEnd;
  const opt = findOptRecord(response);
  const optRdlength = opt < 0 ? -1 : skipName(response, opt, response.length) + 8;
  const optEnd = opt < 0 ? -1 : optRdlength + 2 + response.readUInt16BE(optRdlength);
  const out = Buffer.allocUnsafe(end + (opt < 0 ? 0 : optEnd - opt));
  response.copy(out, 0, 0, end);
  if (opt >= 0) response.copy(out, end, opt, optEnd);
  out[2] = out[2]! | 0x02;
  out.writeUInt16BE(qEnd > 12 ? 1 : 0, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(opt < 0 ? 0 : 1, 10);
  return out;
}
