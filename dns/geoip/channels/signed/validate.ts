/**
 * The chain of trust of the package record, pure: a configured DS -> the zone's DNSKEY RRset ->
 * the RRSIG over the TXT RRset (RFC 4035 §5), and the TXT record's fields. Every failure is a
 * `SignedRejection` whose message names what failed.
 */
import {
  DNSSEC_TYPE, DNSKEY_FLAG, decodeDnskey, encodeDnskey, decodeRrsig, dsMatches, formatSigTime, isSubdomain, keyTag, sameName,
  supportedAlgorithm, supportedDigestType, validity, verifyRrsig, type DnskeyData, type DsData, type RawRecord, type RrsigData,
} from './dnssec';

/** Stable codes of the reasons a package is refused; callers branch on these, never on message text. */
export type SignedRejectionCode =
  | 'SIGNED_QUERY_FAILED'       // no configured server answered the DNSKEY or TXT query
  | 'SIGNED_DNSKEY_UNTRUSTED'   // no DNSKEY matches a configured DS
  | 'SIGNED_DNSKEY_SIGNATURE'   // the DNSKEY RRset has no valid signature by a DS-matched key
  | 'SIGNED_TXT_SIGNATURE'      // the TXT RRset has no valid signature by a key of the trusted DNSKEY set
  | 'SIGNED_SIGNATURE_EXPIRED'  // the only signatures that would do are past their expiration
  | 'SIGNED_SIGNATURE_NOT_YET_VALID' // ... or before their inception
  | 'SIGNED_TXT_MISSING'        // no `v=meridian1` TXT record at the name
  | 'SIGNED_TXT_MALFORMED'      // the TXT record lacks or garbles a field
  | 'SIGNED_SERIAL_NOT_NEWER'   // the published serial is older than the current one
  | 'SIGNED_FETCH_FAILED'       // the package could not be fetched from its URL
  | 'SIGNED_DIGEST_MISMATCH'    // the package's SHA-256 differs from the TXT's
  | 'SIGNED_PACKAGE_INVALID';   // the package does not unpack, or its manifest or data do not load

/** Why a package was refused: a code and words that name what failed. */
export class SignedRejection extends Error {
  override readonly name = 'SignedRejection';
  readonly code: SignedRejectionCode;

  constructor(code: SignedRejectionCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A configured trust anchor: a DS record and its owner (the zone). */
export interface TrustAnchor {
  /** Zone name, canonical, no trailing dot. */
  readonly owner: string;
  readonly ds: DsData;
}

/** The package record's fields (`v=meridian1; sha256=...; serial=...; url=...`). */
export interface PackageRecord {
  readonly sha256: string;
  readonly serial: number;
  readonly url: string;
}

/** A validated TXT record: its fields and the signature window that vouched for it. */
export interface ValidatedRecord extends PackageRecord {
  /** The key tag of the DNSKEY that signed the TXT RRset. */
  readonly signedBy: number;
  /** Expiration of the TXT RRSIG, ms since the epoch. */
  readonly signatureExpiresAt: number;
}

/** The record prefix that marks a package record. */
export const RECORD_VERSION = 'v=meridian1';

/** Formats the TXT record's text. */
export function formatPackageRecord(r: PackageRecord): string {
  return `${RECORD_VERSION}; sha256=${r.sha256}; serial=${r.serial}; url=${r.url}`;
}

/** Parses a TXT record's text (its character-strings joined); throws `SignedRejection` (`SIGNED_TXT_MALFORMED`). */
export function parsePackageRecord(text: string): PackageRecord {
  const fields = new Map<string, string>();
  const parts = text.split(';').map((p) => p.trim()).filter((p) => p !== '');
  if (parts[0] !== RECORD_VERSION) throw new SignedRejection('SIGNED_TXT_MALFORMED', `TXT record does not start with '${RECORD_VERSION}': '${text}'`);
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SignedRejection('SIGNED_TXT_MALFORMED', `TXT record field '${p}' is not key=value`);
    const key = p.slice(0, eq).trim();
    if (fields.has(key)) throw new SignedRejection('SIGNED_TXT_MALFORMED', `TXT record repeats the field '${key}'`);
    fields.set(key, p.slice(eq + 1).trim());
  }
  const sha256 = (fields.get('sha256') ?? '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new SignedRejection('SIGNED_TXT_MALFORMED', `TXT record's sha256 must be 64 hex digits, got '${fields.get('sha256') ?? ''}'`);
  const serialText = fields.get('serial') ?? '';
  const serial = Number(serialText);
  if (!/^\d{1,15}$/.test(serialText)) throw new SignedRejection('SIGNED_TXT_MALFORMED', `TXT record's serial must be a whole number, got '${serialText}'`);
  const url = fields.get('url') ?? '';
  if (!/^(https?|file):\/\//.test(url)) throw new SignedRejection('SIGNED_TXT_MALFORMED', `TXT record's url must be http://, https:// or file://, got '${url}'`);
  return { sha256, serial, url };
}

/** A record of a response section, as the validator needs it. */
export interface SectionRecord extends RawRecord {
  readonly ttl: number;
}

interface KeyEntry { readonly tag: number; readonly key: DnskeyData; readonly rdata: Buffer }

const TYPE_NAMES: Readonly<Record<number, string>> = { [DNSSEC_TYPE.DNSKEY]: 'DNSKEY', [DNSSEC_TYPE.TXT]: 'TXT' };

// Picks a signature over `rrset` by one of `keys` that verifies and is in its window, or throws
// naming the closest miss: a time-window failure of a signature that verifies is the most precise.
function requireSignature(what: string, zone: string, rrset: readonly RawRecord[], sigs: readonly RrsigData[],
  keys: readonly KeyEntry[], nowMs: number, code: SignedRejectionCode): { sig: RrsigData; key: KeyEntry } {
  const typeName = TYPE_NAMES[rrset[0]!.type] ?? `TYPE${rrset[0]!.type}`;
  const bySigner = sigs.filter((s) => sameName(s.signerName, zone));
  const candidates = bySigner.filter((s) => keys.some((k) => k.tag === s.keyTag && k.key.algorithm === s.algorithm));
  if (candidates.length === 0) {
    const seen = sigs.map((s) => `${s.keyTag}/alg ${s.algorithm} by ${s.signerName || '.'}`).join(', ') || 'none';
    throw new SignedRejection(code, `${typeName} RRset of ${what} is not signed by ${keys.length ? `a key with tag ${keys.map((k) => k.tag).join(' or ')}` : 'any trusted key'} (signatures: ${seen})`);
  }
  let timeFailure: SignedRejection | undefined;
  for (const sig of candidates) {
    for (const key of keys.filter((k) => k.tag === sig.keyTag && k.key.algorithm === sig.algorithm)) {
      let verified: boolean;
      try {
        verified = verifyRrsig(sig, rrset, key.key);
      } catch {
        // A malformed key or a label count beyond the owner's: this pair cannot vouch for the RRset.
        verified = false;
      }
      if (!verified) continue;
      const state = validity(sig, nowMs);
      if (state === 'valid') return { sig, key };
      timeFailure ??= state === 'expired'
        ? new SignedRejection('SIGNED_SIGNATURE_EXPIRED', `RRSIG over the ${typeName} RRset of ${what} by key ${sig.keyTag} expired at ${formatSigTime(sig.expiration, nowMs)} UTC`)
        : new SignedRejection('SIGNED_SIGNATURE_NOT_YET_VALID', `RRSIG over the ${typeName} RRset of ${what} by key ${sig.keyTag} is not valid before ${formatSigTime(sig.inception, nowMs)} UTC`);
    }
  }
  if (timeFailure) throw timeFailure;
  throw new SignedRejection(code, `RRSIG over the ${typeName} RRset of ${what} by key ${candidates.map((s) => s.keyTag).join(', ')} does not verify`);
}

function rrsigsCovering(records: readonly SectionRecord[], owner: string, type: number): RrsigData[] {
  const out: RrsigData[] = [];
  for (const r of records) {
    if (r.type !== DNSSEC_TYPE.RRSIG || !sameName(r.name, owner)) continue;
    let sig: RrsigData;
    try {
      sig = decodeRrsig(r.rdata);
    } catch {
      continue; // a malformed RRSIG vouches for nothing; the RRset then lacks a valid signature
    }
    if (sig.typeCovered === type) out.push(sig);
  }
  return out;
}

/**
 * Establishes the zone's trusted keys: the DNSKEYs that match a configured DS must sign the
 * DNSKEY RRset (RFC 4035 §5.2), whose zone keys are then trusted. Throws `SignedRejection`.
 */
export function trustedKeys(zone: string, anchors: readonly TrustAnchor[], answers: readonly SectionRecord[], nowMs: number): readonly DnskeyData[] {
  const rrset = answers.filter((r) => r.type === DNSSEC_TYPE.DNSKEY && sameName(r.name, zone));
  if (rrset.length === 0) throw new SignedRejection('SIGNED_DNSKEY_UNTRUSTED', `no DNSKEY RRset at ${zone}`);
  const keys: KeyEntry[] = [];
  for (const r of rrset) {
    try {
      keys.push({ tag: keyTag(r.rdata), key: decodeDnskey(r.rdata), rdata: r.rdata });
    } catch (err) {
      throw new SignedRejection('SIGNED_DNSKEY_UNTRUSTED', `a DNSKEY of ${zone} is malformed: ${(err as Error).message}`, { cause: err });
    }
  }
  const mine = anchors.filter((a) => sameName(a.owner, zone));
  const matched = keys.filter((k) => (k.key.flags & DNSKEY_FLAG.ZONE) !== 0 && k.key.protocol === 3
    && mine.some((a) => dsMatches(zone, a.ds, k.rdata)));
  if (matched.length === 0) {
    const ds = mine.map((a) => `${a.ds.keyTag}/alg ${a.ds.algorithm}`).join(', ') || 'none';
    const served = keys.map((k) => `${k.tag}/alg ${k.key.algorithm}`).join(', ');
    const sameTag = mine.find((a) => keys.some((k) => k.tag === a.ds.keyTag && k.key.algorithm === a.ds.algorithm));
    if (sameTag && supportedDigestType(sameTag.ds.digestType)) {
      throw new SignedRejection('SIGNED_DNSKEY_UNTRUSTED', `DNSKEY ${sameTag.ds.keyTag} of ${zone} does not match the configured DS digest (digest type ${sameTag.ds.digestType})`);
    }
    throw new SignedRejection('SIGNED_DNSKEY_UNTRUSTED', `no DNSKEY of ${zone} matches a configured DS (DS: ${ds}; DNSKEYs served: ${served})`);
  }
  if (!matched.some((k) => supportedAlgorithm(k.key.algorithm))) {
    throw new SignedRejection('SIGNED_DNSKEY_UNTRUSTED', `the DS-matched DNSKEYs of ${zone} use algorithm ${matched.map((k) => k.key.algorithm).join(', ')}; supported: 8, 13, 14, 15`);
  }
  requireSignature(zone, zone, rrset, rrsigsCovering(answers, zone, DNSSEC_TYPE.DNSKEY), matched, nowMs, 'SIGNED_DNSKEY_SIGNATURE');
  return keys.filter((k) => (k.key.flags & DNSKEY_FLAG.ZONE) !== 0 && k.key.protocol === 3 && supportedAlgorithm(k.key.algorithm)).map((k) => k.key);
}

/**
 * Validates the TXT RRset at `name` with the trusted keys of `zone` and returns its package record.
 * Throws `SignedRejection`.
 */
export function validatedRecord(name: string, zone: string, keys: readonly DnskeyData[], answers: readonly SectionRecord[], nowMs: number): ValidatedRecord {
  if (!isSubdomain(name, zone)) throw new SignedRejection('SIGNED_TXT_MISSING', `${name} is not inside the zone ${zone} the trust anchors are for`);
  const rrset = answers.filter((r) => r.type === DNSSEC_TYPE.TXT && sameName(r.name, name));
  const records = rrset.map((r) => ({ r, text: txtText(r.rdata) })).filter((x) => x.text.startsWith(RECORD_VERSION));
  if (records.length === 0) throw new SignedRejection('SIGNED_TXT_MISSING', `no '${RECORD_VERSION}' TXT record at ${name}`);
  if (records.length > 1) throw new SignedRejection('SIGNED_TXT_MALFORMED', `${records.length} '${RECORD_VERSION}' TXT records at ${name}; publish exactly one`);
  const entries = keys.map((key) => ({ tag: keyTag(encodeDnskey(key)), key, rdata: encodeDnskey(key) }));
  const { sig } = requireSignature(name, zone, rrset, rrsigsCovering(answers, name, DNSSEC_TYPE.TXT), entries, nowMs, 'SIGNED_TXT_SIGNATURE');
  const record = parsePackageRecord(records[0]!.text);
  const nowS = Math.floor(nowMs / 1000);
  const expiresS = nowS + (((sig.expiration - nowS) % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
  return { ...record, signedBy: sig.keyTag, signatureExpiresAt: expiresS * 1000 };
}

/** The text of a TXT RDATA: its character-strings concatenated (as RFC 7208 §3.3 joins them). */
export function txtText(rdata: Buffer): string {
  const parts: string[] = [];
  let o = 0;
  while (o < rdata.length) {
    const len = rdata[o]!;
    parts.push(rdata.toString('latin1', o + 1, Math.min(rdata.length, o + 1 + len)));
    o += 1 + len;
  }
  return parts.join('');
}
