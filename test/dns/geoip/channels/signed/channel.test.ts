import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  SignedPackageChannel, buildPackage, formatPackageRecord, queryDnssec, type BuiltPackage, type SignedRejectionCode,
} from '../../../../../dns/geoip/channels/signed/index';
import { waitFor } from '../../../../tools/wait';
import { countryOf, MOVED_IP, recorder, TOKYO_IP, writeDataset, type Recorder } from './fixtures';
import { makeKeys, signZone, sigTime, startNsd, zoneText, type Nsd, type Signer, type ZoneKeys } from './zone-tools';

const ACCEPTED: ReadonlyArray<[Signer, number]> = [['ldns', 8], ['ldns', 13], ['ldns', 14], ['ldns', 15], ['bind', 8], ['bind', 13], ['bind', 15]];

describe('signed GeoIP package channel, with zones signed by ldns-signzone and dnssec-signzone and served by NSD', function () {
  this.timeout(60_000);
  let root: string;
  let pkgA: BuiltPackage;
  let pkgB: BuiltPackage;
  let nsd: Nsd;
  const keys = new Map<string, ZoneKeys>();
  const channels: SignedPackageChannel[] = [];
  let closedPort: number;
  let web: Server | undefined;

  const record = (p: BuiltPackage, url = pathToFileURL(p.file).href): string =>
    formatPackageRecord({ sha256: p.sha256, serial: p.manifest.serial, url });

  // One zone per case: keys made once here (RSA key generation is the slow part), signed, served by one NSD.
  before(async function () {
    this.timeout(180_000);
    root = mkdtempSync(join(tmpdir(), 'meridian-signed-'));
    pkgA = await buildPackage({ from: writeDataset(root, 'A'), output: join(root, 'a.tar.gz'), serial: 100 });
    pkgB = await buildPackage({ from: writeDataset(root, 'B'), output: join(root, 'b.tar.gz'), serial: 200 });
    const zones = new Map<string, string>();
    const add = (signer: Signer, alg: number, zone: string, txt: string, opts: { window?: { inception: string; expiration: string }; extra?: string } = {}): ZoneKeys => {
      const dir = mkdtempSync(join(root, `${zone}-`));
      const k = makeKeys(signer, alg, zone, dir);
      keys.set(zone, k);
      zones.set(zone, signZone(k, zoneText(zone, txt, opts.extra), opts.window));
      return k;
    };
    for (const [signer, alg] of ACCEPTED) add(signer, alg, `${signer}${alg}.test`, record(pkgA));
    add('ldns', 13, 'newer.test', record(pkgB));
    // A package altered after its digest was published.
    const tampered = join(root, 'tampered.tar.gz');
    const bytes = readFileSync(pkgA.file);
    bytes[bytes.length - 20] ^= 0x01;
    writeFileSync(tampered, bytes);
    add('ldns', 13, 'tampered-package.test', record(pkgA, pathToFileURL(tampered).href));
    // A TXT record altered after signing.
    const ttxt = add('bind', 13, 'tampered-txt.test', record(pkgA));
    const signedTxt = zones.get(ttxt.zone)!;
    writeFileSync(signedTxt, readFileSync(signedTxt, 'utf8').replace('serial=100', 'serial=101'));
    add('ldns', 13, 'expired.test', record(pkgA), { window: { inception: sigTime(-10 * 86_400), expiration: sigTime(-86_400) } });
    add('bind', 15, 'not-yet-valid.test', record(pkgA), { window: { inception: sigTime(86_400), expiration: sigTime(10 * 86_400) } });
    // A DNSKEY RRset with a key added after signing: the DS still matches a key, the set's signature does not.
    const dnskeySet = add('ldns', 13, 'dnskey-set.test', record(pkgA));
    const stranger = makeKeys('ldns', 13, 'dnskey-set.test', mkdtempSync(join(root, 'stranger-')));
    const strangerKey = readFileSync(join(stranger.dir, `${stranger.keys[0]}.key`), 'utf8').trim().split('\n').pop()!;
    writeFileSync(zones.get(dnskeySet.zone)!, `${readFileSync(zones.get(dnskeySet.zone)!, 'utf8')}\n${strangerKey}\n`);
    // A package cut short whose digest was published as it is: it must fail to unpack.
    const truncated = join(root, 'truncated.tar.gz');
    writeFileSync(truncated, readFileSync(pkgA.file).subarray(0, Math.floor(pkgA.bytes / 2)));
    const truncatedSha = (await import('node:crypto')).createHash('sha256').update(readFileSync(truncated)).digest('hex');
    add('ldns', 15, 'truncated.test', formatPackageRecord({ sha256: truncatedSha, serial: 100, url: pathToFileURL(truncated).href }));
    // A URL on a port nothing listens on.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    add('ldns', 13, 'unreachable.test', record(pkgA, `http://127.0.0.1:${closedPort}/geoip.tar.gz`));
    // The package over HTTP.
    web = createServer((req, res) => {
      if (req.url === '/a.tar.gz') res.end(readFileSync(pkgA.file));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => web!.listen(0, '127.0.0.1', r));
    const webPort = (web.address() as AddressInfo).port;
    add('bind', 13, 'http.test', record(pkgA, `http://127.0.0.1:${webPort}/a.tar.gz`));
    add('ldns', 13, 'http-404.test', record(pkgA, `http://127.0.0.1:${webPort}/missing.tar.gz`));
    nsd = await startNsd(zones);
  });

  after(async () => {
    await Promise.all(channels.map((c) => c.stop()));
    await nsd?.stop();
    await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function channel(zone: string, opts: { ds?: readonly string[]; stateDir?: string; udpPayloadBytes?: number; servers?: readonly string[]; maxPackageBytes?: number } = {}): SignedPackageChannel {
    const c = new SignedPackageChannel({
      name: `_geoip.${zone}.`, servers: opts.servers ?? [nsd.server], trustAnchors: opts.ds ?? [keys.get(zone)!.ds],
      stateDir: opts.stateDir ?? mkdtempSync(join(root, 'state-')), queryTimeoutMs: 2000,
      ...(opts.udpPayloadBytes ? { udpPayloadBytes: opts.udpPayloadBytes } : {}),
      ...(opts.maxPackageBytes ? { maxPackageBytes: opts.maxPackageBytes } : {}),
    }, { log: () => undefined });
    channels.push(c);
    return c;
  }

  async function expectRejected(c: SignedPackageChannel, code: SignedRejectionCode, reason: RegExp, rec: Recorder = recorder()): Promise<void> {
    const before = { generation: rec.holder.generation, updates: rec.updates.length, country: countryOf(rec, MOVED_IP) };
    if (!rec.updates.length) await c.start(rec.sink);
    const outcome = await c.settled();
    assert.equal(outcome?.result, 'rejected', `outcome ${JSON.stringify(outcome)}`);
    assert.equal(outcome.result === 'rejected' && outcome.code, code, JSON.stringify(outcome));
    const health = c.health();
    assert.equal(health.state, 'down');
    assert.match(health.lastError ?? '', reason);
    assert.equal(c.lastRejection()?.code, code);
    assert.equal(rec.updates.length, before.updates, 'nothing emitted');
    assert.equal(rec.holder.generation, before.generation, 'table not swapped');
    assert.equal(countryOf(rec, MOVED_IP), before.country, 'lookups unchanged');
  }

  for (const [signer, alg] of ACCEPTED) {
    it(`accepts the package vouched for by a zone that ${signer === 'ldns' ? 'ldns-signzone' : 'dnssec-signzone'} signed with algorithm ${alg}`, async () => {
      const rec = recorder();
      const c = channel(`${signer}${alg}.test`);
      await c.start(rec.sink);
      const outcome = await c.settled();
      assert.deepEqual(outcome, { result: 'accepted', serial: 100, sha256: pkgA.sha256 });
      assert.equal(rec.updates.length, 1);
      assert.equal(rec.updates[0]!.serial, 100);
      assert.equal(rec.updates[0]!.validUntil, Date.parse(pkgA.manifest.validUntil));
      assert.equal(countryOf(rec, MOVED_IP), 'GB');
      assert.equal(countryOf(rec, TOKYO_IP), 'JP');
      assert.equal(rec.holder.current.source, 'dataset');
      const h = c.health();
      assert.equal(h.state, 'up');
      assert.equal(h.lastError, undefined);
      assert.equal(h.prefixes, 3);
      // The same record an hour later changes nothing and emits nothing.
      assert.deepEqual(await c.checkNow(), { result: 'unchanged', serial: 100 });
      assert.equal(rec.updates.length, 1);
    });
  }

  it('rejects a package whose bytes differ from the published SHA-256', async () => {
    await expectRejected(channel('tampered-package.test'), 'SIGNED_DIGEST_MISMATCH', /has SHA-256 [0-9a-f]{64}, the signed TXT record says [0-9a-f]{64}/);
  });

  it('rejects a TXT record changed after it was signed', async () => {
    await expectRejected(channel('tampered-txt.test'), 'SIGNED_TXT_SIGNATURE', /RRSIG over the TXT RRset of _geoip\.tampered-txt\.test\. by key \d+ does not verify/);
  });

  it('rejects signatures past their expiration', async () => {
    await expectRejected(channel('expired.test'), 'SIGNED_SIGNATURE_EXPIRED', /RRSIG over the DNSKEY RRset of expired\.test by key \d+ expired at \d{14} UTC/);
  });

  it('rejects signatures before their inception', async () => {
    await expectRejected(channel('not-yet-valid.test'), 'SIGNED_SIGNATURE_NOT_YET_VALID', /RRSIG over the DNSKEY RRset of not-yet-valid\.test by key \d+ is not valid before \d{14} UTC/);
  });

  it('rejects a DNSKEY set whose key does not match the configured DS digest', async () => {
    const ds = keys.get('ldns13.test')!.ds.replace(/([0-9a-f])$/i, (d) => (d === '0' ? '1' : '0'));
    await expectRejected(channel('ldns13.test', { ds: [ds] }), 'SIGNED_DNSKEY_UNTRUSTED', /DNSKEY \d+ of ldns13\.test does not match the configured DS digest/);
  });

  it('rejects a DNSKEY set changed after it was signed, though the DS still matches one of its keys', async () => {
    await expectRejected(channel('dnskey-set.test'), 'SIGNED_DNSKEY_SIGNATURE', /RRSIG over the DNSKEY RRset of dnskey-set\.test by key \d+ does not verify/);
  });

  it('rejects a zone when the configured DS is for another key', async () => {
    const other = makeKeys('ldns', 13, 'ldns15.test', mkdtempSync(join(root, 'other-')));
    await expectRejected(channel('ldns15.test', { ds: [other.ds] }), 'SIGNED_DNSKEY_UNTRUSTED', /no DNSKEY of ldns15\.test matches a configured DS \(DS: \d+\/alg 13; DNSKEYs served: \d+\/alg 15\)/);
  });

  it('rejects an older serial than the package kept from before, which it reloads at start', async () => {
    const stateDir = mkdtempSync(join(root, 'state-'));
    const first = channel('newer.test', { stateDir });
    await first.start(recorder().sink);
    assert.equal((await first.settled())?.result, 'accepted');
    await first.stop();
    const rec = recorder();
    const c = channel('ldns13.test', { stateDir });
    await c.start(rec.sink);
    await c.settled();
    assert.equal(rec.updates.length, 1, 'the kept package was reloaded and emitted');
    assert.equal(rec.updates[0]!.serial, 200);
    assert.equal(countryOf(rec, MOVED_IP), 'DE');
    await expectRejected(c, 'SIGNED_SERIAL_NOT_NEWER', /published serial 100 is older than the current 200/, rec);
    assert.deepEqual(await c.checkNow(), { result: 'rejected', code: 'SIGNED_SERIAL_NOT_NEWER', reason: 'published serial 100 is older than the current 200' });
    assert.equal(rec.updates.length, 1);
  });

  it('rejects a truncated package even when its digest matches', async () => {
    await expectRejected(channel('truncated.test'), 'SIGNED_PACKAGE_INVALID', /package does not unpack: /);
  });

  it('rejects a package whose URL does not answer', async () => {
    await expectRejected(channel('unreachable.test'), 'SIGNED_FETCH_FAILED', new RegExp(`package could not be fetched from http://127\\.0\\.0\\.1:${closedPort}/geoip\\.tar\\.gz: `));
  });

  it('fetches the package over HTTP and accepts it', async () => {
    const rec = recorder();
    const c = channel('http.test');
    await c.start(rec.sink);
    assert.deepEqual(await c.settled(), { result: 'accepted', serial: 100, sha256: pkgA.sha256 });
    assert.equal(countryOf(rec, MOVED_IP), 'GB');
  });

  it('rejects a package URL that answers with an HTTP error', async () => {
    await expectRejected(channel('http-404.test'), 'SIGNED_FETCH_FAILED', /package could not be fetched from http:\/\/127\.0\.0\.1:\d+\/missing\.tar\.gz: HTTP 404 Not Found/);
  });

  it('refuses to download more than maxPackageBytes, from a file or over HTTP', async () => {
    const limit = pkgA.bytes - 1;
    await expectRejected(channel('ldns13.test', { maxPackageBytes: limit }), 'SIGNED_FETCH_FAILED', new RegExp(`it is ${pkgA.bytes} bytes, over the ${limit} allowed`));
    await expectRejected(channel('http.test', { ds: [keys.get('http.test')!.ds], maxPackageBytes: limit }), 'SIGNED_FETCH_FAILED', new RegExp(`over the ${limit} (bytes )?allowed`));
  });

  it('reports every server that did not answer', async () => {
    await expectRejected(channel('ldns13.test', { servers: [`127.0.0.1:${closedPort}`] }), 'SIGNED_QUERY_FAILED',
      new RegExp(`no server answered DNSKEY ldns13\\.test: 127\\.0\\.0\\.1:${closedPort}: `));
  });

  it('asks again over TCP when the DNSKEY answer does not fit the advertised UDP size, and accepts', async () => {
    const answer = await queryDnssec({ address: nsd.address, port: nsd.port }, 'bind8.test', 48, { udpPayloadBytes: 512, timeoutMs: 2000 });
    assert.equal(answer.transport, 'tcp');
    assert.equal(answer.message.answers.filter((r) => r.type === 48).length, 2);
    const rec = recorder();
    const c = channel('bind8.test', { udpPayloadBytes: 512 });
    await c.start(rec.sink);
    assert.equal((await c.settled())?.result, 'accepted');
    assert.equal(countryOf(rec, MOVED_IP), 'GB');
  });

  it('turns stale at the package\'s valid-until and tells the sink', async () => {
    const shortLived = await buildPackage({ from: join(root, 'dataset-B'), output: join(root, 'short.tar.gz'), serial: 300, validDays: 4 / 86_400 });
    const dir = mkdtempSync(join(root, 'short-'));
    const k = makeKeys('ldns', 13, 'short.test', dir);
    const own = await startNsd(new Map([['short.test', signZone(k, zoneText('short.test', record(shortLived)))]]));
    try {
      const rec = recorder();
      const c = new SignedPackageChannel({ name: '_geoip.short.test', servers: [own.server], trustAnchors: [k.ds], stateDir: join(dir, 'state') }, { log: () => undefined });
      channels.push(c);
      await c.start(rec.sink);
      assert.equal((await c.settled())?.result, 'accepted');
      assert.equal(c.health().state, 'up');
      const changes = rec.healthChanges;
      await waitFor('the channel to turn stale', () => c.health().state === 'stale', 8_000, 50);
      await waitFor('the sink to hear of it', () => rec.healthChanges > changes, 2_000, 20);
      assert.equal(rec.updates.length, 1);
      await c.stop();
      // A restart reloads the kept package though it is past its valid-until, and stays stale.
      const again = recorder();
      const c2 = new SignedPackageChannel({ name: '_geoip.short.test', servers: [own.server], trustAnchors: [k.ds], stateDir: join(dir, 'state') }, { log: () => undefined });
      channels.push(c2);
      await c2.start(again.sink);
      assert.deepEqual(await c2.settled(), { result: 'unchanged', serial: 300 });
      assert.equal(again.updates.length, 1);
      assert.equal(again.updates[0]!.serial, 300);
      assert.ok(again.updates[0]!.validUntil! < Date.now());
      assert.equal(countryOf(again, MOVED_IP), 'DE');
      assert.equal(c2.health().state, 'stale');
    } finally {
      await own.stop();
    }
  });
});

describe('signed GeoIP package channel across a key rollover', function () {
  this.timeout(60_000);
  let root: string;
  let nsd: Nsd | undefined;
  const channels: SignedPackageChannel[] = [];

  before(() => { root = mkdtempSync(join(tmpdir(), 'meridian-rollover-')); });
  after(async () => {
    await Promise.all(channels.map((c) => c.stop()));
    await nsd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('accepts the zone re-signed with the new key when both DS are configured, and not with the old DS alone', async () => {
    const pkgA = await buildPackage({ from: writeDataset(root, 'A'), output: join(root, 'a.tar.gz'), serial: 100 });
    const pkgB = await buildPackage({ from: writeDataset(root, 'B'), output: join(root, 'b.tar.gz'), serial: 200 });
    const zone = 'roll.test';
    const oldKeys = makeKeys('bind', 13, zone, mkdtempSync(join(root, 'old-')));
    const newKeys = makeKeys('bind', 13, zone, oldKeys.dir);
    const txt = (p: BuiltPackage): string => formatPackageRecord({ sha256: p.sha256, serial: p.manifest.serial, url: pathToFileURL(p.file).href });
    const file = signZone(oldKeys, zoneText(zone, txt(pkgA)));
    nsd = await startNsd(new Map([[zone, file]]));
    const settings = (ds: string[]): object => ({ name: `_geoip.${zone}`, servers: [nsd!.server], trustAnchors: ds, stateDir: mkdtempSync(join(root, 'state-')) });
    const rec = recorder();
    const both = new SignedPackageChannel(settings([oldKeys.ds, newKeys.ds]), { log: () => undefined });
    const oldOnly = new SignedPackageChannel(settings([oldKeys.ds]), { log: () => undefined });
    channels.push(both, oldOnly);
    await both.start(rec.sink);
    await oldOnly.start(recorder().sink);
    assert.equal((await both.settled())?.result, 'accepted');
    assert.equal((await oldOnly.settled())?.result, 'accepted');
    assert.equal(countryOf(rec, MOVED_IP), 'GB');

    // The operator re-signs with the new keys only and publishes a newer package.
    const at = { address: nsd.address, port: nsd.port };
    await nsd.stop();
    const resigned = signZone(newKeys, zoneText(zone, txt(pkgB)));
    copyFileSync(resigned, join(root, 'roll.signed'));
    nsd = await startNsd(new Map([[zone, join(root, 'roll.signed')]]), at);
    assert.deepEqual(await both.checkNow(), { result: 'accepted', serial: 200, sha256: pkgB.sha256 });
    assert.equal(countryOf(rec, MOVED_IP), 'DE');
    const refused = await oldOnly.checkNow();
    assert.equal(refused.result, 'rejected');
    assert.equal(refused.result === 'rejected' && refused.code, 'SIGNED_DNSKEY_UNTRUSTED');
  });
});
