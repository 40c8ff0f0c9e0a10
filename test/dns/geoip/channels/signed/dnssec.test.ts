import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  DnssecDecodeError, canonicalName, decodeDnskey, decodeDs, decodeRrsig, dsDigest, dsMatches, encodeDnskey, encodeDs, encodeRrsig,
  keyTag, parseDsText, signedData, validity, verifyRrsig, type DnskeyData, type RawRecord, type RrsigData,
} from '../../../../../dns/geoip/channels/signed/dnssec';
import {
  SignedRejection, parsePackageRecord, trustedKeys, validatedRecord, type SectionRecord, type TrustAnchor,
} from '../../../../../dns/geoip/channels/signed/validate';

// The DNSKEY of a key file as ldns-keygen or dnssec-keygen wrote it: flags, protocol, algorithm, key.
function dnskeyFromFile(text: string): DnskeyData {
  const line = text.split('\n').find((l) => !l.startsWith(';') && /\sDNSKEY\s/.test(l))!;
  const words = line.split(';')[0]!.trim().split(/\s+/);
  const at = words.indexOf('DNSKEY');
  return { flags: Number(words[at + 1]), protocol: Number(words[at + 2]), algorithm: Number(words[at + 3]), publicKey: Buffer.from(words.slice(at + 4).join(''), 'base64') };
}

function dsHex(toolOutput: string): { tag: number; alg: number; type: number; hex: string } {
  const w = toolOutput.trim().split(/\s+/);
  const at = w.indexOf('DS');
  return { tag: Number(w[at + 1]), alg: Number(w[at + 2]), type: Number(w[at + 3]), hex: w.slice(at + 4).join('').toLowerCase() };
}

describe('DNSSEC primitives against the keys and DS records of ldns and BIND', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-dnssec-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [alg, name] of [[8, 'RSASHA256'], [13, 'ECDSAP256SHA256'], [14, 'ECDSAP384SHA384'], [15, 'ED25519']] as const) {
    it(`computes the key tag and the SHA-1, SHA-256 and SHA-384 DS digests dnssec-dsfromkey prints for an algorithm ${alg} key`, () => {
      const base = execFileSync('dnssec-keygen', ['-q', '-K', dir, '-a', name, ...(alg === 8 ? ['-b', '1024'] : []), '-f', 'KSK', '-n', 'ZONE', 'Example.NET'], { cwd: dir, encoding: 'utf8' }).trim();
      const key = dnskeyFromFile(readFileSync(join(dir, `${base}.key`), 'utf8'));
      const rdata = encodeDnskey(key);
      assert.equal(keyTag(rdata), Number(/\+(\d+)$/.exec(base)![1]), 'key tag is the one in the file name');
      for (const [flag, type] of [['-1', 1], ['-2', 2], ['-a SHA-384', 4]] as const) {
        const ds = dsHex(execFileSync('dnssec-dsfromkey', [...flag.split(' '), `${base}.key`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
        assert.equal(ds.type, type);
        assert.equal(dsDigest('example.net.', rdata, type).toString('hex'), ds.hex, `digest type ${type}`);
        assert.ok(dsMatches('EXAMPLE.net', { keyTag: ds.tag, algorithm: ds.alg, digestType: ds.type, digest: Buffer.from(ds.hex, 'hex') }, rdata));
      }
    });
  }

  it('agrees with ldns-key2ds on the DS of an ldns key', () => {
    const base = execFileSync('ldns-keygen', ['-a', 'ED25519', '-k', 'ldns.example'], { cwd: dir, encoding: 'utf8' }).trim();
    const key = dnskeyFromFile(readFileSync(join(dir, `${base}.key`), 'utf8'));
    const ds = parseDsText(execFileSync('ldns-key2ds', ['-n', '-2', `${base}.key`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.equal(ds.owner, 'ldns.example');
    assert.ok(dsMatches(ds.owner, ds.ds, encodeDnskey(key)));
  });
});

interface TestKey { readonly key: DnskeyData; readonly priv: KeyObject }

function makeKey(alg: 8 | 13 | 14 | 15): TestKey {
  if (alg === 8) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 65537 });
    const jwk = publicKey.export({ format: 'jwk' });
    const e = Buffer.from(jwk.e!, 'base64url');
    // RFC 3110 §2: exponent length, exponent, modulus.
    return { key: { flags: 257, protocol: 3, algorithm: 8, publicKey: Buffer.concat([Buffer.from([e.length]), e, Buffer.from(jwk.n!, 'base64url')]) }, priv: privateKey };
  }
  if (alg === 15) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return { key: { flags: 257, protocol: 3, algorithm: 15, publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url') }, priv: privateKey };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: alg === 13 ? 'P-256' : 'P-384' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { key: { flags: 257, protocol: 3, algorithm: alg, publicKey: Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]) }, priv: privateKey };
}

function signRrset(k: TestKey, rrset: readonly RawRecord[], over: Partial<RrsigData> = {}): RrsigData {
  const now = Math.floor(Date.now() / 1000);
  const unsigned: RrsigData = {
    typeCovered: rrset[0]!.type, algorithm: k.key.algorithm, labels: 3, originalTtl: 300, expiration: now + 3600, inception: now - 3600,
    keyTag: keyTag(encodeDnskey(k.key)), signerName: 'example.net', signature: Buffer.alloc(0), ...over,
  };
  const data = signedData(unsigned, rrset);
  const alg = k.key.algorithm;
  const signature = alg === 15 ? sign(null, data, k.priv)
    : alg === 8 ? sign('sha256', data, k.priv)
      : sign(alg === 13 ? 'sha256' : 'sha384', data, { key: k.priv, dsaEncoding: 'ieee-p1363' });
  return { ...unsigned, signature };
}

const txt = (name: string, text: string): RawRecord => ({ name, type: 16, class: 1, rdata: Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]) });

describe('DNSSEC signature verification with node:crypto', function () {
  this.timeout(30_000);
  const keys = new Map<number, TestKey>();
  before(() => { for (const a of [8, 13, 14, 15] as const) keys.set(a, makeKey(a)); });

  for (const alg of [8, 13, 14, 15]) {
    it(`verifies an algorithm ${alg} signature and refuses it once the data or the signature changes`, () => {
      const k = keys.get(alg)!;
      const rrset = [txt('_geoip.example.net', 'b'), txt('_geoip.example.net', 'a')];
      const sig = signRrset(k, rrset);
      assert.equal(verifyRrsig(sig, rrset, k.key), true);
      assert.equal(verifyRrsig(sig, [txt('_geoip.example.net', 'b'), txt('_geoip.example.net', 'c')], k.key), false);
      const bad = Buffer.from(sig.signature);
      bad[bad.length - 1] ^= 1;
      assert.equal(verifyRrsig({ ...sig, signature: bad }, rrset, k.key), false);
      assert.equal(verifyRrsig({ ...sig, originalTtl: 301 }, rrset, k.key), false, 'the RRSIG fields are signed too');
      const other = makeKey(alg === 8 ? 13 : 8);
      assert.equal(verifyRrsig(sig, rrset, other.key), false, 'another algorithm\'s key');
    });
  }

  it('signs the RRset in canonical form: owner case, record order and duplicates do not matter (RFC 4034 §6)', () => {
    const k = keys.get(13)!;
    const sig = signRrset(k, [txt('_geoip.example.net', 'a'), txt('_geoip.example.net', 'bb')]);
    assert.equal(verifyRrsig(sig, [txt('_GeoIP.Example.NET.', 'bb'), txt('_geoip.example.net', 'a'), txt('_geoip.example.net', 'a')], k.key), true);
  });

  it('orders RDATA as left-justified octet strings, shorter first on a common prefix', () => {
    const sig: RrsigData = { typeCovered: 16, algorithm: 13, labels: 3, originalTtl: 1, expiration: 0, inception: 0, keyTag: 1, signerName: 'example.net', signature: Buffer.alloc(0) };
    const data = signedData(sig, [txt('_geoip.example.net', 'ab'), txt('_geoip.example.net', 'a'), txt('_geoip.example.net', 'B')]);
    const rdataAt = (s: string): number => data.indexOf(Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]));
    // Lengths lead the RDATA: \x01B < \x01a < \x02ab.
    assert.ok(rdataAt('B') < rdataAt('a') && rdataAt('a') < rdataAt('ab'));
  });

  it('verifies a wildcard-expanded answer against the wildcard owner the label count names (RFC 4035 §5.3.2)', () => {
    const k = keys.get(15)!;
    const wildcard = [txt('*.example.net', 'w')];
    const sig = signRrset(k, wildcard, { labels: 2 });
    assert.equal(verifyRrsig(sig, [txt('anything.example.net', 'w')], k.key), true);
    assert.equal(verifyRrsig({ ...sig, labels: 3 }, [txt('anything.example.net', 'w')], k.key), false);
  });

  it('compares validity windows in serial arithmetic, across the 2106 wrap of 32-bit time (RFC 4034 §3.1.5)', () => {
    const base: RrsigData = { typeCovered: 16, algorithm: 13, labels: 2, originalTtl: 1, expiration: 2000, inception: 1000, keyTag: 1, signerName: 'x', signature: Buffer.alloc(0) };
    assert.equal(validity(base, 1500_000), 'valid');
    assert.equal(validity(base, 999_000), 'not-yet-valid');
    assert.equal(validity(base, 2001_000), 'expired');
    const wrap = { ...base, inception: 0xffff_fff0, expiration: 0x10 };
    assert.equal(validity(wrap, (0x1_0000_0000 + 5) * 1000), 'valid');
    assert.equal(validity(wrap, (0x1_0000_0000 + 0x11) * 1000), 'expired');
    assert.equal(validity(wrap, 0xffff_ff00 * 1000), 'not-yet-valid');
  });
});

describe('DNSKEY, RRSIG and DS RDATA codecs', () => {
  const bytes = (min: number, max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
  const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);

  it('round-trips DNSKEY and DS at a non-zero offset of a larger buffer', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), bytes(0, 300), fc.integer({ min: 1, max: 9 }),
      (flags, protocol, algorithm, publicKey, pad) => {
        const key = { flags, protocol, algorithm, publicKey };
        const inBuf = Buffer.concat([Buffer.alloc(pad, 0xee), encodeDnskey(key), Buffer.alloc(pad, 0xee)]);
        assert.deepEqual(decodeDnskey(inBuf.subarray(pad, inBuf.length - pad)), key);
        const ds = { keyTag: flags, algorithm, digestType: protocol, digest: publicKey };
        const dsBuf = Buffer.concat([Buffer.alloc(pad), encodeDs(ds)]);
        assert.deepEqual(decodeDs(dsBuf.subarray(pad)), ds);
      }));
  });

  it('round-trips RRSIG with its signer name in canonical form', () => {
    fc.assert(fc.property(fc.array(label, { minLength: 0, maxLength: 5 }), bytes(0, 200), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 7 }),
      (labels, signature, t, pad) => {
        const sig: RrsigData = { typeCovered: 16, algorithm: 13, labels: labels.length, originalTtl: t, expiration: t, inception: (t + 1) >>> 0, keyTag: t & 0xffff, signerName: labels.join('.'), signature };
        const buf = Buffer.concat([Buffer.alloc(pad), encodeRrsig(sig)]);
        assert.deepEqual(decodeRrsig(buf.subarray(pad)), sig);
      }));
  });

  it('throws only DnssecDecodeError on arbitrary bytes, never reading past the RDATA', () => {
    fc.assert(fc.property(bytes(0, 80), (b) => {
      for (const decodeFn of [decodeDnskey, decodeDs, decodeRrsig]) {
        try {
          decodeFn(b);
        } catch (err) {
          assert.ok(err instanceof DnssecDecodeError, String(err));
        }
      }
    }), { numRuns: 2000 });
  });

  it('refuses a compressed signer name and names where', () => {
    const sig = encodeRrsig({ typeCovered: 16, algorithm: 13, labels: 2, originalTtl: 1, expiration: 1, inception: 1, keyTag: 1, signerName: 'example.net', signature: Buffer.alloc(4) });
    sig[18] = 0xc0;
    assert.throws(() => decodeRrsig(sig), (e: unknown) => e instanceof DnssecDecodeError && e.code === 'DNSSEC_ERR_BAD_NAME' && e.offset === 18);
  });

  it('writes names in canonical wire form: lower case, uncompressed', () => {
    assert.deepEqual(canonicalName('_GeoIP.Example.NET.'), Buffer.from('\x06_geoip\x07example\x03net\x00', 'latin1'));
    assert.deepEqual(canonicalName('.'), Buffer.from([0]));
  });
});

describe('package records and DS text', () => {
  it('parses the TXT record the publisher prints, and names each malformed field', () => {
    const sha = 'a'.repeat(64);
    assert.deepEqual(parsePackageRecord(`v=meridian1; sha256=${sha.toUpperCase()}; serial=42; url=https://geo.example.net/p.tar.gz`),
      { sha256: sha, serial: 42, url: 'https://geo.example.net/p.tar.gz' });
    const bad = (text: string, re: RegExp): void => assert.throws(() => parsePackageRecord(text), (e: unknown) => e instanceof SignedRejection && e.code === 'SIGNED_TXT_MALFORMED' && re.test(e.message));
    bad('v=spf1 -all', /does not start with 'v=meridian1'/);
    bad(`v=meridian1; sha256=abc; serial=1; url=file:///x`, /sha256 must be 64 hex digits, got 'abc'/);
    bad(`v=meridian1; sha256=${sha}; serial=-1; url=file:///x`, /serial must be a whole number, got '-1'/);
    bad(`v=meridian1; sha256=${sha}; serial=1; url=ftp://x`, /url must be http:\/\/, https:\/\/ or file:\/\/, got 'ftp:\/\/x'/);
    bad(`v=meridian1; sha256=${sha}; sha256=${sha}; serial=1; url=file:///x`, /repeats the field 'sha256'/);
  });

  it('parses DS records as the tools print them and refuses others with the reason', () => {
    const { owner, ds } = parseDsText('Example.NET.\t3600\tIN\tDS\t12345 13 2 ABCDEF01 23');
    assert.equal(owner, 'example.net');
    assert.deepEqual(ds, { keyTag: 12345, algorithm: 13, digestType: 2, digest: Buffer.from('abcdef0123', 'hex') });
    assert.throws(() => parseDsText('example.net. DNSKEY 257 3 13 abc'), /not a DS record/);
    assert.throws(() => parseDsText('example.net. DS 99999 13 2 ab'), /key tag, an algorithm and a digest type as numbers/);
    assert.throws(() => parseDsText('example.net. DS 1 13 2 xyz'), /digest must be hexadecimal/);
  });
});

describe('chain of trust from a DS to the package record', function () {
  this.timeout(30_000);
  const zone = 'example.net';
  const name = '_geoip.example.net';
  const text = `v=meridian1; sha256=${'b'.repeat(64)}; serial=7; url=https://geo.example.net/p.tar.gz`;
  let ksk: TestKey;
  let zsk: TestKey;
  let anchor: TrustAnchor;
  const dnskey = (k: DnskeyData): SectionRecord => ({ name: zone, type: 48, class: 1, ttl: 300, rdata: encodeDnskey(k) });
  const rrsig = (owner: string, s: RrsigData): SectionRecord => ({ name: owner, type: 46, class: 1, ttl: 300, rdata: encodeRrsig(s) });
  const withTtl = (r: RawRecord): SectionRecord => ({ ...r, ttl: 300 });

  before(() => {
    ksk = makeKey(13);
    zsk = { ...makeKey(15) };
    zsk = { key: { ...zsk.key, flags: 256 }, priv: zsk.priv };
    const rdata = encodeDnskey(ksk.key);
    anchor = { owner: zone, ds: { keyTag: keyTag(rdata), algorithm: 13, digestType: 2, digest: dsDigest(zone, rdata, 2) } };
  });

  function answers(opts: { kskFlags?: number; garbleTxtSig?: boolean } = {}): { keys: SectionRecord[]; txt: SectionRecord[] } {
    const k = { ...ksk, key: { ...ksk.key, flags: opts.kskFlags ?? ksk.key.flags } };
    const keySet = [dnskey(k.key), dnskey(zsk.key)];
    const keySig = signRrset(k, keySet, { labels: 2, typeCovered: 48 });
    const txtSet = [withTtl(txt(name, text))];
    const txtSig = signRrset(zsk, txtSet, { labels: 3 });
    const sigs = [rrsig(name, txtSig)];
    if (opts.garbleTxtSig) sigs.unshift({ ...rrsig(name, txtSig), rdata: Buffer.from([0, 16, 15]) });
    return { keys: [...keySet, rrsig(zone, keySig)], txt: [...txtSet, ...sigs] };
  }

  it('trusts the DNSKEY set through the DS-matched key and the TXT through the zone signing key it holds', () => {
    const a = answers();
    const keys = trustedKeys(zone, [anchor], a.keys, Date.now());
    const rec = validatedRecord(`${name}.`, zone, keys, a.txt, Date.now());
    assert.equal(rec.serial, 7);
    assert.equal(rec.signedBy, keyTag(encodeDnskey(zsk.key)));
  });

  it('skips a malformed RRSIG next to a good one', () => {
    const a = answers({ garbleTxtSig: true });
    assert.equal(validatedRecord(name, zone, trustedKeys(zone, [anchor], a.keys, Date.now()), a.txt, Date.now()).serial, 7);
  });

  it('does not trust a DS-matched key without the Zone Key flag (RFC 4034 §2.1.1)', () => {
    // Clearing the flag changes the key tag and digest too, so the DS is computed for the flagless key.
    const flagless = { ...ksk.key, flags: 0x0001 };
    const rdata = encodeDnskey(flagless);
    const ds: TrustAnchor = { owner: zone, ds: { keyTag: keyTag(rdata), algorithm: 13, digestType: 2, digest: dsDigest(zone, rdata, 2) } };
    assert.throws(() => trustedKeys(zone, [ds], answers({ kskFlags: 0x0001 }).keys, Date.now()),
      (e: unknown) => e instanceof SignedRejection && e.code === 'SIGNED_DNSKEY_UNTRUSTED');
  });

  it('refuses a TXT record outside the zone of the trust anchor', () => {
    const a = answers();
    assert.throws(() => validatedRecord('_geoip.example.org', zone, trustedKeys(zone, [anchor], a.keys, Date.now()), a.txt, Date.now()),
      (e: unknown) => e instanceof SignedRejection && e.code === 'SIGNED_TXT_MISSING' && /not inside the zone example\.net/.test(e.message));
  });
});
