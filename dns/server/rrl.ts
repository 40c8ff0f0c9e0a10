import { ipv4ToUint, ipv6ToBytes } from '../wire/ip';

/** Response-rate-limiting settings (the BIND/Knot RRL model, per client subnet). */
export interface RrlOptions {
  /** Off by default on loopback, on elsewhere (see `exemptLoopback`). */
  readonly enabled: boolean;
  /** Responses per second allowed to one client subnet; bursts of `burstSeconds` worth are absorbed. */
  readonly responsesPerSecond: number;
  readonly burstSeconds: number;
  /** Every `slip`-th withheld response is sent as an empty TC=1 answer so real clients retry over TCP (0 = never). */
  readonly slip: number;
  /** Subnet sizes that share one budget. */
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  /** Loopback clients are never limited. */
  readonly exemptLoopback: boolean;
  /** Most subnets tracked at once; the table is cleared when it grows past this. */
  readonly maxEntries: number;
}

/** Defaults: 50 responses/s per /24 or /56, slip 2, loopback exempt. */
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

/**
 * Token buckets per client subnet. Limits amplification: a spoofed victim gets at most
 * `responsesPerSecond` answers, and every `slip`-th of the rest as a tiny truncated reply.
 */
export class ResponseRateLimiter {
  private readonly v4 = new Map<number, Bucket>();
  private readonly v6 = new Map<string, Bucket>();

  constructor(readonly options: RrlOptions) {}

  /** `RrlAction` for one response to `address` at time `nowMs`. */
  check(address: string, nowMs: number): number {
    if (!this.options.enabled) return RrlAction.SEND;
    const v4 = ipv4ToUint(address);
    if (this.options.exemptLoopback && (v4 >= 0 ? v4 >>> 24 === 127 : address === '::1' || address.startsWith('::ffff:127.'))) {
      return RrlAction.SEND;
    }
    let bucket: Bucket | undefined;
    if (v4 >= 0) {
      const key = Math.floor(v4 / 2 ** (32 - this.options.ipv4PrefixLength));
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
 * The slip reply: header and question of the response with TC=1 and no records, so a real client
 * retries over TCP (RFC 1035 §4.2.1) while a spoofed victim gets a tiny packet.
 */
export function slipReply(response: Buffer): Buffer {
  // Our responses carry the question uncompressed first, so its end is found by walking labels.
  let o = 12;
  if (response.readUInt16BE(4) > 0) {
    while (o < response.length && response[o] !== 0) o += response[o]! + 1;
    o = Math.min(response.length, o + 1 + 4);
  }
  const out = Buffer.from(response.subarray(0, o));
  out[2] = out[2]! | 0x02;
  out.writeUInt16BE(o > 12 ? 1 : 0, 4);
  out.fill(0, 6, 12);
  return out;
}
