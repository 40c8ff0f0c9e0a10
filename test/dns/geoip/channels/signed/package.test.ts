import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import {
  SignedPackageChannel, SignedSettingsError, buildPackage, loadPackageTable, openPackage, parseManifest,
} from '../../../../../dns/geoip/channels/signed/index';
import { MOVED_IP, TOKYO_IP, writeDataset } from './fixtures';

describe('GeoIP package format', function () {
  this.timeout(30_000);
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'meridian-package-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('builds a tar.gz of the manifest and geoip-lite\'s three files that unpacks and loads as a dataset table', async () => {
    const built = await buildPackage({ from: writeDataset(root, 'A'), output: join(root, 'a.tar.gz'), serial: 9, validDays: 2, now: Date.parse('2026-01-01T00:00:00Z') });
    assert.equal(built.manifest.serial, 9);
    assert.equal(built.manifest.created, '2026-01-01T00:00:00.000Z');
    assert.equal(built.manifest.validUntil, '2026-01-03T00:00:00.000Z');
    assert.equal(built.manifest.data, 'geoip-lite');
    assert.match(built.sha256, /^[0-9a-f]{64}$/);
    const opened = await openPackage(built.file, join(root, 'work'));
    assert.deepEqual(readdirSync(opened.dir).sort(), ['geoip-city-names.dat', 'geoip-city.dat', 'geoip-city6.dat', 'manifest.json']);
    const table = await loadPackageTable(opened);
    assert.equal(table.source, 'dataset');
    assert.equal(table.lookup(MOVED_IP)?.country, 'GB');
    assert.equal(table.lookup(TOKYO_IP)?.country, 'JP');
    assert.equal(table.lookup('2001:db8::1')?.country, 'US');
  });

  it('builds the same bytes twice from the same input and time, so the published digest is reproducible', async () => {
    const from = join(root, 'dataset-A');
    const now = Date.parse('2026-02-01T00:00:00Z');
    const a = await buildPackage({ from, output: join(root, 'r1.tar.gz'), serial: 1, now });
    const b = await buildPackage({ from, output: join(root, 'r2.tar.gz'), serial: 1, now });
    assert.equal(a.sha256, b.sha256);
  });

  it('refuses an archive holding anything besides the manifest and the data files, and leaves nothing unpacked', async () => {
    const dir = join(root, 'evil');
    mkdirSync(dir);
    writeFileSync(join(dir, 'manifest.json'), '{}');
    writeFileSync(join(dir, 'run.sh'), 'echo hi');
    await tar.c({ gzip: true, file: join(root, 'evil.tar.gz'), cwd: dir }, ['manifest.json', 'run.sh']);
    const work = join(root, 'evil-work');
    await assert.rejects(openPackage(join(root, 'evil.tar.gz'), work), /unexpected entry 'run.sh'/);
    assert.deepEqual(readdirSync(work), []);
  });

  it('names the missing data file and the manifest field at fault', async () => {
    await assert.rejects(buildPackage({ from: join(root, 'nowhere'), output: join(root, 'x.tar.gz') }), /--from .*nowhere does not exist/);
    const half = join(root, 'half');
    mkdirSync(half);
    writeFileSync(join(half, 'geoip-city.dat'), '');
    await assert.rejects(buildPackage({ from: half, output: join(root, 'x.tar.gz') }), /geoip-city6\.dat is missing/);
    assert.throws(() => parseManifest('{"format":"meridian-geoip","formatVersion":2}'), /formatVersion 2 is not supported/);
    assert.throws(() => parseManifest('{"format":"meridian-geoip","formatVersion":1,"serial":1,"created":"x"}'), /created must be an ISO 8601 time/);
    assert.throws(() => parseManifest('not json'), /manifest.json is not JSON/);
  });
});

describe('signed channel settings', () => {
  it('reports every problem with its key path', () => {
    assert.throws(() => new SignedPackageChannel({ name: '_geoip.example.net', servers: ['nowhere:53', '127.0.0.1:0'], trustAnchors: ['example.org. DS 1 13 2 ab', 'example.net. DS 1 13 3 ab'], stateDir: '/tmp/x', pollIntervalSeconds: 0 }),
      (e: unknown) => e instanceof SignedSettingsError && e.issues.some((i) => i.path === '/pollIntervalSeconds'));
    assert.throws(() => new SignedPackageChannel({ name: '_geoip.example.net', servers: ['nowhere:53', '127.0.0.1:0'], trustAnchors: ['example.org. DS 1 13 2 ab', 'example.net. DS 1 13 3 ab'], stateDir: '/tmp/x' }),
      (e: unknown) => {
        assert.ok(e instanceof SignedSettingsError);
        const paths = e.issues.map((i) => i.path);
        assert.deepEqual(paths, ['/servers/0', '/servers/1', '/trustAnchors/1', '/trustAnchors']);
        return true;
      });
    assert.throws(() => new SignedPackageChannel({ name: '_geoip.example.com', servers: ['127.0.0.1:53'], trustAnchors: ['example.net. DS 1 13 2 ab'], stateDir: '/tmp/x' }),
      /\/name: _geoip\.example\.com is not inside example\.net/);
  });
});
