import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Reader, type CityResponse } from 'mmdb-lib';
import { defaultGeoTable, exampleZoneConfig, startDnsServer, type RunningDnsServer } from '../../../dns/index';
import { SignedPackageChannel } from '../../../dns/geoip/channels/signed/index';
import { UsageError } from '../../../scheduler/cli/args';
import { geoipCommand } from '../../../scheduler/cli/commands/geoip';
import { resolveCommand } from '../../../scheduler/cli/commands/resolve';
import { globalRegions, runClient, workload } from '../../dns/fixtures';
import { countryOf, MOVED_IP, recorder, TOKYO_IP, writeDataset } from '../../dns/geoip/channels/signed/fixtures';
import { makeKeys, signZone, startNsd, zoneText, type Nsd } from '../../dns/geoip/channels/signed/zone-tools';

const run = promisify(execFile);
const CLI = join(__dirname, '../../../scheduler/cli/main.js');

// The built CLI as a child process: the whole entry point, as an operator runs it.
async function meridianProcess(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 120_000, maxBuffer: 1 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

// One command in this process (starting the CLI process costs seconds): the entry point's own
// handling of usage errors (exit 2) and failures (exit 1) is reproduced.
async function meridian(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ctx = { argv: args.slice(1), env: {}, stdout: { write: (t: string) => { stdout += t; } }, stderr: { write: (t: string) => { stderr += t; } } };
  try {
    const code = await (args[0] === 'geoip' ? geoipCommand(ctx) : resolveCommand(ctx));
    return { code, stdout, stderr };
  } catch (err) {
    return { code: err instanceof UsageError ? 2 : 1, stdout, stderr: `${stderr}${(err as Error).message}\n` };
  }
}

// The zone-file line `meridian geoip package build` prints for the operator to publish.
function publishedLine(stdout: string): string {
  const line = stdout.split('\n').find((l) => / IN TXT "v=meridian1; /.test(l));
  assert.ok(line, `no TXT line in:\n${stdout}`);
  return line;
}

describe('meridian geoip package build, signed by the DNSSEC tools and read back by the channel', function () {
  this.timeout(120_000);
  let root: string;
  let nsd: Nsd | undefined;
  const channels: SignedPackageChannel[] = [];

  before(() => { root = mkdtempSync(join(tmpdir(), 'meridian-cli-geoip-')); });
  after(async () => {
    await Promise.all(channels.map((c) => c.stop()));
    await nsd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('prints the SHA-256 and a TXT line that, pasted into zones signed by ldns-signzone and dnssec-signzone, gets the package accepted', async () => {
    const from = writeDataset(root, 'B');
    const out = join(root, 'pkg.tar.gz');
    const r = await meridianProcess(['geoip', 'package', 'build', '--from', from, '-o', out, '--serial', '4242', '--valid-days', '3', '--name', '_geoip.cli-ldns.test']);
    assert.equal(r.code, 0, r.stderr);
    const sha = /^sha256\s+([0-9a-f]{64})$/m.exec(r.stdout)?.[1];
    assert.ok(sha, r.stdout);
    const line = publishedLine(r.stdout);
    assert.ok(line.startsWith('_geoip.cli-ldns.test. IN TXT '), line);
    assert.ok(line.includes(`sha256=${sha}; serial=4242; url=${pathToFileURL(out).href}`), line);
    const zones = new Map<string, string>();
    for (const [signer, alg, zone] of [['ldns', 15, 'cli-ldns.test'], ['bind', 13, 'cli-bind.test']] as const) {
      const keys = makeKeys(signer, alg, zone, mkdtempSync(join(root, `${zone}-`)));
      // The printed line goes into the zone as it is (owner renamed for the second zone).
      const record = line.replace('_geoip.cli-ldns.test.', `_geoip.${zone}.`);
      zones.set(zone, signZone(keys, zoneText(zone, 'placeholder').replace(/^_geoip IN TXT .*$/m, record)));
      zones.set(`${zone}#ds`, keys.ds);
    }
    nsd = await startNsd(new Map([...zones].filter(([k]) => !k.includes('#'))));
    for (const zone of ['cli-ldns.test', 'cli-bind.test']) {
      const rec = recorder();
      const c: SignedPackageChannel = new SignedPackageChannel({ name: `_geoip.${zone}`, servers: [nsd.server], trustAnchors: [zones.get(`${zone}#ds`)!], stateDir: mkdtempSync(join(root, 'state-')) }, { log: () => undefined });
      channels.push(c);
      await c.start(rec.sink);
      assert.deepEqual(await c.settled(), { result: 'accepted', serial: 4242, sha256: sha }, zone);
      assert.equal(countryOf(rec, MOVED_IP), 'DE');
      assert.equal(countryOf(rec, TOKYO_IP), 'JP');
    }
  });

  it('packages a MaxMind DB (GeoLite2 City) that the channel loads into a table', async function () {
    this.timeout(300_000);
    const mmdb = join(root, 'GeoLite2-City.mmdb');
    writeFileSync(mmdb, gunzipSync(readFileSync(require.resolve('geolite2-city/GeoLite2-City.mmdb.gz'))));
    const out = join(root, 'mmdb.tar.gz');
    const r = await meridian(['geoip', 'package', 'build', '--from', mmdb, '-o', out, '--serial', '7', '--name', '_geoip.cli-mmdb.test.']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mmdb data/);
    const keys = makeKeys('ldns', 13, 'cli-mmdb.test', mkdtempSync(join(root, 'mmdb-')));
    const file = signZone(keys, zoneText('cli-mmdb.test', 'placeholder').replace(/^_geoip IN TXT .*$/m, publishedLine(r.stdout)));
    await nsd?.stop();
    nsd = await startNsd(new Map([['cli-mmdb.test', file]]));
    const rec = recorder();
    const c = new SignedPackageChannel({ name: '_geoip.cli-mmdb.test', servers: [nsd.server], trustAnchors: [keys.ds], stateDir: mkdtempSync(join(root, 'state-')) }, { log: () => undefined });
    channels.push(c);
    await c.start(rec.sink);
    const outcome = await c.settled();
    assert.equal(outcome?.result, 'accepted', JSON.stringify(outcome));
    // GeoLite2's test points: 81.2.69.160 is in GB, 2001:218:: in JP.
    assert.equal(countryOf(rec, '81.2.69.160'), 'GB');
    assert.equal(countryOf(rec, '2001:218::1'), 'JP');
    assert.ok(c.health().prefixes > 1_000_000, `prefixes ${c.health().prefixes}`);
    // Every located address answers as mmdb-lib's own reader of the same file does.
    const reader = new Reader<CityResponse>(readFileSync(mmdb));
    const rnd = fc.sample(fc.oneof(fc.ipV4(), fc.ipV6()), { numRuns: 3000, seed: 12 });
    let compared = 0;
    // The IPv4 tree's aliases at ::/96 (IPv4-compatible, deprecated by RFC 4291 §2.5.5.1) and
    // 2002::/16 (6to4) are not copied into the IPv6 ranges; ::ffff:0:0/96 is answered from IPv4.
    const alias = (ip: string): boolean => /^::(\d|[0-9a-f]{1,4}(:[0-9a-f]{1,4})?$)/i.test(ip) && !/^::ffff:/i.test(ip) || /^2002:/i.test(ip);
    for (const ip of rnd.filter((a) => !alias(a))) {
      const want = reader.get(ip);
      const got = rec.holder.current.lookup(ip);
      if (want?.location?.latitude === undefined) continue;
      compared++;
      assert.deepEqual([got?.lat, got?.lon, got?.country], [want.location.latitude, want.location.longitude, want.country?.iso_code ?? want.registered_country?.iso_code ?? ''], ip);
    }
    assert.ok(compared > 1000, `only ${compared} located addresses compared`);
  });

  it('names what is wrong with its arguments', async () => {
    const r = await meridian(['geoip', 'package', 'build', '--from', join(root, 'nothing-here'), '-o', join(root, 'x.tar.gz')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--from .*nothing-here does not exist/);
    const u = await meridian(['geoip', 'package', 'build', '-o', join(root, 'x.tar.gz')]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /--from is required/);
  });
});

describe('meridian resolve', function () {
  this.timeout(60_000);
  let server: RunningDnsServer;
  const web = workload('web', globalRegions());

  before(async () => {
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: defaultGeoTable(), workloads: [web], log: () => undefined });
  });
  after(async () => server?.close());

  for (const [subnet, where] of [['81.2.69.0/24', 'Europe'], ['1.0.16.0/24', 'Asia'], ['8.8.8.0/24', 'North America'], ['200.160.2.0/24', 'South America']] as const) {
    it(`returns the same answers and scope as dig +subnet for a client in ${where} (${subnet})`, async () => {
      // Until a new server has built its decision runs, answers come from single table ranges with a
      // narrower scope; both clients then ask again, until they ask the same settled server.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await meridian(['resolve', 'web.meridian.test', '--from', subnet, '--server', `127.0.0.1:${server.port}`]);
        assert.equal(r.code, 0, r.stderr);
        const ours = r.stdout.split('\n').filter((l) => /\tIN\tA\t/.test(l)).map((l) => l.split('\t')[4]!).sort();
        const dig = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), 'web.meridian.test', 'A', `+subnet=${subnet}`, '+tries=1', '+time=2']);
        const digAnswers = dig.split('\n').filter((l) => /^web\.meridian\.test\.\s+\d+\s+IN\s+A\s/.test(l)).map((l) => l.trim().split(/\s+/)[4]!).sort();
        const digScope = /CLIENT-SUBNET: [\d.]+\/\d+\/(\d+)/.exec(dig)?.[1];
        const sameScope = new RegExp(`; client subnet ${subnet.replace(/\./g, '\\.')}, scope /${digScope}\\n`).test(r.stdout);
        if ((!sameScope || ours.join() !== digAnswers.join()) && Date.now() < deadline) continue;
        assert.ok(ours.length > 0, r.stdout);
        assert.deepEqual(ours, digAnswers);
        assert.ok(digScope, dig);
        assert.ok(sameScope, `${r.stdout}\nagainst dig's scope /${digScope}`);
        return;
      }
    });
  }

  it('refuses an IPv6 client subnet, which dns2 cannot send, and a bad server', async () => {
    const v6 = await meridian(['resolve', 'web.meridian.test', '--from', '2001:db8::/48', '--server', `127.0.0.1:${server.port}`]);
    assert.equal(v6.code, 2);
    assert.match(v6.stderr, /--from must be an IPv4 subnet/);
    const bad = await meridian(['resolve', 'web.meridian.test', '--server', 'not-an-address:53']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--server: server must be ADDR:PORT/);
  });
});
