/**
 * DNSSEC validation primitives, pure: the DNSKEY, RRSIG and DS RDATA codecs (RFC 4034 §2, §3, §5),
 * canonical names and RRsets (§6), the data an RRSIG signs (§3.1.8.1), key tags (Appendix B), DS
 * digests (§5.1.4, RFC 4509, RFC 6605) and signature verification with `node:crypto` for
 * algorithms 8 (RFC 5702), 13 and 14 (RFC 6605) and 15 (RFC 8080).
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Record types this module handles (RFC 4034 §2, §3, §5; RFC 1035 §3.2.2). */
export const DNSSEC_TYPE = Object.freeze({ TXT: 16, DS: 43, RRSIG: 46, DNSKEY: 48 } as const);

/** Signature algorithms verified here (IANA DNS Security Algorithm Numbers). */
export const ALGORITHM = Object.freeze({ RSASHA256: 8, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15 } as const);

/** DS digest types computed here (IANA): SHA-1 (RFC 4034), SHA-256 (RFC 4509), SHA-384 (RFC 6605). */
export const DIGEST_TYPE = Object.freeze({ SHA1: 1, SHA256: 2, SHA384: 4 } as const);

/** DNSKEY flag bits (RFC 4034 §2.1.1): Zone Key (bit 7) and Secure Entry Point (bit 15). */
export const DNSKEY_FLAG = Object.freeze({ ZONE: 0x0100, SEP: 0x0001 } as const);

/** Stable codes of DNSSEC RDATA decoding failures. */
export type DnssecDecodeErrorCode = 'DNSSEC_ERR_TRUNCATED' | 'DNSSEC_ERR_BAD_NAME' | 'DNSSEC_ERR_BAD_FIELD';

/** Thrown by the RDATA decoders when the bytes are not a well-formed DNSKEY, RRSIG or DS. */
export class DnssecDecodeError extends Error {
  override readonly name = 'DnssecDecodeError';
  readonly code: DnssecDecodeErrorCode;
  /** Byte offset within the RDATA where decoding failed. */
  readonly offset: number;

  constructor(code: DnssecDecodeErrorCode, offset: number, message: string) {
    super(`${message} (at RDATA byte ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}

/** DNSKEY RDATA (RFC 4034 §2.1). */
export interface DnskeyData {
  readonly flags: number;
  /** Always 3 for DNSSEC (RFC 4034 §2.1.2). */
  readonly protocol: number;
  readonly algorithm: number;
  readonly publicKey: Buffer;
}

/** RRSIG RDATA (RFC 4034 §3.1); times are 32-bit seconds since the epoch, compared by RFC 1982 serial arithmetic. */
export interface RrsigData {
  readonly typeCovered: number;
  readonly algorithm: number;
  readonly labels: number;
  readonly originalTtl: number;
  readonly expiration: number;
  readonly inception: number;
  readonly keyTag: number;
  /** Presentation form, lower case, no trailing dot ('' is the root). */
  readonly signerName: string;
  readonly signature: Buffer;
}

/** DS RDATA (RFC 4034 §5.1). */
export interface DsData {
  readonly keyTag: number;
  readonly algorithm: number;
  readonly digestType: number;
  readonly digest: Buffer;
}

function need(rdata: Uint8Array, o: number, n: number, what: string): void {
  if (o + n > rdata.length) throw new DnssecDecodeError('DNSSEC_ERR_TRUNCATED', o, `${what} runs past the end of the RDATA`);
}

/** Encodes DNSKEY RDATA. */
export function encodeDnskey(k: DnskeyData): Buffer {
  const b = Buffer.alloc(4 + k.publicKey.length);
  b.writeUInt16BE(k.flags, 0);
  b[2] = k.protocol;
  b[3] = k.algorithm;
  k.publicKey.copy(b, 4);
  return b;
}

/** Decodes DNSKEY RDATA; throws `DnssecDecodeError`. */
export function decodeDnskey(rdata: Uint8Array): DnskeyData {
  need(rdata, 0, 4, 'DNSKEY flags, protocol and algorithm');
  const b = Buffer.from(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  return { flags: b.readUInt16BE(0), protocol: b[2]!, algorithm: b[3]!, publicKey: Buffer.from(b.subarray(4)) };
}

/** Encodes DS RDATA. */
export function encodeDs(d: DsData): Buffer {
  const b = Buffer.alloc(4 + d.digest.length);
  b.writeUInt16BE(d.keyTag, 0);
  b[2] = d.algorithm;
  b[3] = d.digestType;
  d.digest.copy(b, 4);
  return b;
}

/** Decodes DS RDATA; throws `DnssecDecodeError`. */
export function decodeDs(rdata: Uint8Array): DsData {
  need(rdata, 0, 4, 'DS key tag, algorithm and digest type');
  const b = Buffer.from(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  return { keyTag: b.readUInt16BE(0), algorithm: b[2]!, digestType: b[3]!, digest: Buffer.from(b.subarray(4)) };
}

/** Encodes RRSIG RDATA; the signer name is written uncompressed in canonical (lower-case) form (RFC 4034 §3.1.7). */
export function encodeRrsig(s: RrsigData): Buffer {
  return Buffer.concat([rrsigHeader(s), s.signature]);
}

// The RRSIG RDATA up to and excluding the signature: the first part of the signed data (§3.1.8.1).
function rrsigHeader(s: RrsigData): Buffer {
  const fixed = Buffer.alloc(18);
  fixed.writeUInt16BE(s.typeCovered, 0);
  fixed[2] = s.algorithm;
  fixed[3] = s.labels;
  fixed.writeUInt32BE(s.originalTtl >>> 0, 4);
  fixed.writeUInt32BE(s.expiration >>> 0, 8);
  fixed.writeUInt32BE(s.inception >>> 0, 12);
  fixed.writeUInt16BE(s.keyTag, 16);
  return Buffer.concat([fixed, canonicalName(s.signerName)]);
}

/** Decodes RRSIG RDATA; the signer name must be uncompressed (RFC 4034 §3.1.7). Throws `DnssecDecodeError`. */
export function decodeRrsig(rdata: Uint8Array): RrsigData {
  need(rdata, 0, 18, 'RRSIG fixed fields');
  const b = Buffer.from(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  const labels: string[] = [];
  let o = 18;
  for (;;) {
    need(b, o, 1, 'RRSIG signer name');
    const len = b[o]!;
    if (len === 0) { o++; break; }
    if (len > 63) throw new DnssecDecodeError('DNSSEC_ERR_BAD_NAME', o, 'RRSIG signer name is compressed or has a bad label length');
    need(b, o + 1, len, 'RRSIG signer name label');
    labels.push(asciiLower(b.toString('latin1', o + 1, o + 1 + len)));
    o += 1 + len;
    if (o - 18 > 255) throw new DnssecDecodeError('DNSSEC_ERR_BAD_NAME', o, 'RRSIG signer name longer than 255 octets');
  }
  return {
    typeCovered: b.readUInt16BE(0), algorithm: b[2]!, labels: b[3]!, originalTtl: b.readUInt32BE(4),
    expiration: b.readUInt32BE(8), inception: b.readUInt32BE(12), keyTag: b.readUInt16BE(16),
    signerName: labels.join('.'), signature: Buffer.from(b.subarray(o)),
  };
}

/** ASCII-only lower-casing: canonical form changes A-Z and nothing else (RFC 4034 §6.2). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Splits a presentation name (trailing dot optional, '' or '.' for the root) into canonical labels. */
export function canonicalLabels(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n === '' ? [] : asciiLower(n).split('.');
}

/** The canonical wire form of a name: uncompressed, lower case (RFC 4034 §6.2). */
export function canonicalName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const l of canonicalLabels(name)) {
    const bytes = Buffer.from(l, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad label length ${bytes.length} in name '${name}'`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** True when two names are equal in canonical form. */
export function sameName(a: string, b: string): boolean {
  return canonicalLabels(a).join('.') === canonicalLabels(b).join('.');
}

/** True when `name` is `zone` or below it. */
export function isSubdomain(name: string, zone: string): boolean {
  const n = canonicalLabels(name);
  const z = canonicalLabels(zone);
  return z.length <= n.length && n.slice(n.length - z.length).join('.') === z.join('.');
}

/** The key tag of a DNSKEY (RFC 4034 Appendix B; algorithm 1 is not accepted here, so its special case is left out). */
export function keyTag(dnskeyRdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < dnskeyRdata.length; i++) ac += i & 1 ? dnskeyRdata[i]! : dnskeyRdata[i]! << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

const DIGESTS: Readonly<Record<number, string>> = { [DIGEST_TYPE.SHA1]: 'sha1', [DIGEST_TYPE.SHA256]: 'sha256', [DIGEST_TYPE.SHA384]: 'sha384' };

/** True when the DS digest type is one `dsDigest` computes. */
export function supportedDigestType(digestType: number): boolean {
  return DIGESTS[digestType] !== undefined;
}

/** The DS digest of a DNSKEY: digest(canonical owner name | DNSKEY RDATA) (RFC 4034 §5.1.4). Throws on an unknown digest type. */
export function dsDigest(owner: string, dnskeyRdata: Uint8Array, digestType: number): Buffer {
  const alg = DIGESTS[digestType];
  if (alg === undefined) throw new RangeError(`DS digest type ${digestType} is not supported (1 SHA-1, 2 SHA-256, 4 SHA-384)`);
  return createHash(alg).update(canonicalName(owner)).update(dnskeyRdata).digest();
}

/** True when `ds` (at `owner`) designates this DNSKEY: same key tag, algorithm and digest. */
export function dsMatches(owner: string, ds: DsData, dnskeyRdata: Uint8Array): boolean {
  const key = decodeDnskey(dnskeyRdata);
  if (ds.algorithm !== key.algorithm || ds.keyTag !== keyTag(dnskeyRdata) || !supportedDigestType(ds.digestType)) return false;
  return dsDigest(owner, dnskeyRdata, ds.digestType).equals(ds.digest);
}

/** One record of an RRset as the signed data needs it: owner, type, class and raw RDATA. */
export interface RawRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly rdata: Buffer;
}

// Left-justified unsigned octet comparison where a missing octet sorts first (RFC 4034 §6.3).
function compareOctets(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/**
 * The data an RRSIG signs (RFC 4034 §3.1.8.1): its RDATA without the signature, then each record
 * of the RRset in canonical form (§6.2: lower-case owner, the RRSIG's original TTL) and canonical
 * order (§6.3), duplicates removed. The owner is rewritten to a wildcard when the RRSIG's label
 * count says the RRset was synthesised from one (RFC 4035 §5.3.2). RDATA is taken as-is: the
 * types signed here (TXT, DNSKEY) hold no domain names, so no RDATA name needs lower-casing.
 */
export function signedData(rrsig: RrsigData, rrset: readonly RawRecord[]): Buffer {
  if (rrset.length === 0) throw new RangeError('an empty RRset has no signed data');
  const labels = canonicalLabels(rrset[0]!.name);
  if (rrsig.labels > labels.length) throw new RangeError(`RRSIG label count ${rrsig.labels} exceeds the owner's ${labels.length} labels`);
  const owner = rrsig.labels < labels.length ? ['*', ...labels.slice(labels.length - rrsig.labels)].join('.') : labels.join('.');
  const ownerWire = canonicalName(owner);
  const rdatas = [...rrset].map((r) => r.rdata).sort(compareOctets)
    .filter((r, i, all) => i === 0 || !r.equals(all[i - 1]!));
  const parts: Buffer[] = [rrsigHeader(rrsig)];
  for (const rdata of rdatas) {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(rrset[0]!.type, 0);
    fixed.writeUInt16BE(rrset[0]!.class, 2);
    fixed.writeUInt32BE(rrsig.originalTtl >>> 0, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    parts.push(ownerWire, fixed, rdata);
  }
  return Buffer.concat(parts);
}

/** Where `now` falls against an RRSIG's validity window. */
export type ValidityState = 'valid' | 'expired' | 'not-yet-valid';

// RFC 1982 serial comparison of 32-bit values: a < b.
function serialLess(a: number, b: number): boolean {
  const d = ((b >>> 0) - (a >>> 0) + 0x1_0000_0000) % 0x1_0000_0000;
  return d !== 0 && d < 0x8000_0000;
}

/** Checks `inception <= now <= expiration` in RFC 1982 serial arithmetic (RFC 4034 §3.1.5); `nowMs` in ms since the epoch. */
export function validity(rrsig: RrsigData, nowMs: number): ValidityState {
  const now = Math.floor(nowMs / 1000) % 0x1_0000_0000;
  if (serialLess(now, rrsig.inception)) return 'not-yet-valid';
  if (serialLess(rrsig.expiration, now)) return 'expired';
  return 'valid';
}

/** Formats a 32-bit RRSIG time as the presentation form YYYYMMDDHHmmSS (RFC 4034 §3.2), nearest to `nowMs`. */
export function formatSigTime(t: number, nowMs = Date.now()): string {
  const nowS = Math.floor(nowMs / 1000);
  const wraps = Math.round((nowS - t) / 0x1_0000_0000);
  return new Date((t + wraps * 0x1_0000_0000) * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** True when the algorithm is one `verifyRrsig` supports. */
export function supportedAlgorithm(algorithm: number): boolean {
  return algorithm === 8 || algorithm === 13 || algorithm === 14 || algorithm === 15;
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** A DNSKEY's public key as a `node:crypto` key; throws `RangeError` naming what is malformed. */
export function publicKeyOf(key: DnskeyData): KeyObject {
  const pk = key.publicKey;
  switch (key.algorithm) {
    case ALGORITHM.RSASHA256: {
      // RFC 3110 §2: exponent length in one octet, or zero then two octets; exponent; modulus.
      if (pk.length < 3) throw new RangeError('RSA public key too short');
      let o = 1;
      let elen = pk[0]!;
      if (elen === 0) { elen = pk.readUInt16BE(1); o = 3; }
      if (elen === 0 || o + elen >= pk.length) throw new RangeError('RSA public key exponent length exceeds the key');
      const e = pk.subarray(o, o + elen);
      const n = pk.subarray(o + elen);
      return createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' });
    }
    case ALGORITHM.ECDSAP256SHA256:
    case ALGORITHM.ECDSAP384SHA384: {
      // RFC 6605 §4: the point's x and y, each the curve's size, no prefix octet.
      const size = key.algorithm === ALGORITHM.ECDSAP256SHA256 ? 32 : 48;
      if (pk.length !== 2 * size) throw new RangeError(`ECDSA public key must be ${2 * size} octets, got ${pk.length}`);
      const crv = size === 32 ? 'P-256' : 'P-384';
      return createPublicKey({ key: { kty: 'EC', crv, x: b64url(pk.subarray(0, size)), y: b64url(pk.subarray(size)) }, format: 'jwk' });
    }
    case ALGORITHM.ED25519:
      // RFC 8080 §3: the 32-octet public key as RFC 8032 encodes it.
      if (pk.length !== 32) throw new RangeError(`Ed25519 public key must be 32 octets, got ${pk.length}`);
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' });
    default:
      throw new RangeError(`DNSSEC algorithm ${key.algorithm} is not supported (8, 13, 14, 15)`);
  }
}

/**
 * Verifies `signature` over `data` with a DNSKEY. Returns false when the signature does not verify
 * or is malformed; throws `RangeError` for an unsupported algorithm or a malformed key.
 */
export function verifySignature(key: DnskeyData, data: Buffer, signature: Buffer): boolean {
  const pub = publicKeyOf(key);
  try {
    switch (key.algorithm) {
      case ALGORITHM.RSASHA256:
        return verify('sha256', data, pub, signature);
      case ALGORITHM.ECDSAP256SHA256:
        // RFC 6605 §4: the signature is r | s, fixed size: IEEE P1363, not DER.
        return verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, signature);
      case ALGORITHM.ECDSAP384SHA384:
        return verify('sha384', data, { key: pub, dsaEncoding: 'ieee-p1363' }, signature);
      default:
        return verify(null, data, pub, signature);
    }
  } catch {
    return false;
  }
}

/** Verifies an RRSIG over an RRset with a DNSKEY (signature only; the caller checks validity, names and key tags). */
export function verifyRrsig(rrsig: RrsigData, rrset: readonly RawRecord[], key: DnskeyData): boolean {
  if (key.algorithm !== rrsig.algorithm) return false;
  return verifySignature(key, signedData(rrsig, rrset), rrsig.signature);
}

/** A DS record in presentation form, `example.net. [TTL] [IN] DS 12345 13 2 ABCD...`, parsed; throws `RangeError` naming the problem. */
export function parseDsText(text: string): { readonly owner: string; readonly ds: DsData } {
  const words = text.trim().split(/\s+/);
  const at = words.findIndex((w) => w.toUpperCase() === 'DS');
  if (at < 1) throw new RangeError(`not a DS record (expected 'OWNER [TTL] [IN] DS TAG ALG DIGESTTYPE DIGEST'): '${text}'`);
  const owner = words[0]!;
  const [tag, alg, dt, ...hex] = words.slice(at + 1);
  const digestHex = hex.join('');
  const nums = [tag, alg, dt].map((w) => (w !== undefined && /^\d+$/.test(w) ? Number(w) : NaN));
  if (nums.some((n) => Number.isNaN(n)) || nums[0]! > 0xffff || nums[1]! > 255 || nums[2]! > 255) {
    throw new RangeError(`DS record needs a key tag, an algorithm and a digest type as numbers: '${text}'`);
  }
  if (!/^([0-9a-fA-F]{2})+$/.test(digestHex)) throw new RangeError(`DS digest must be hexadecimal: '${text}'`);
  return { owner: canonicalLabels(owner).join('.'), ds: { keyTag: nums[0]!, algorithm: nums[1]!, digestType: nums[2]!, digest: Buffer.from(digestHex, 'hex') } };
}
