import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DnsConfigError } from '../../dns/index';
import { dnsConfigFromArgs, DnsUsageError } from '../../dns/main';

describe('meridian-dns settings from file and flags', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-dns-main-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the example zone on the defaults when given nothing', () => {
    const { config, workers } = dnsConfigFromArgs([], {});
    assert.equal(config.address, '127.0.0.1');
    assert.equal(config.port, 5300);
    assert.equal(config.admin.port, 8053);
    assert.deepEqual(config.zones.map((z) => z.origin), ['meridian.test']);
    assert.equal(workers, 1);
    assert.ok(Object.isFrozen(config));
  });

  it('reads a YAML file and lets flags override it, taking the watch token from the environment', () => {
    const file = path.join(dir, 'dns.yaml');
    writeFileSync(file, 'port: 5400\nadmin: { port: 9053 }\nzones:\n  - origin: example.test\n    soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 7 }\n    ns: [{ name: ns1.example.test, ipv4: 127.0.0.1 }]\n');
    const { config } = dnsConfigFromArgs(['--config', file, '--port', '5401', '--admin-port', 'off', '--watch', 'http://127.0.0.1:8080'],
      { MERIDIAN_API_TOKEN: 'tok-from-env' });
    assert.equal(config.port, 5401);
    assert.equal(config.admin.enabled, false);
    assert.deepEqual(config.zones.map((z) => z.origin), ['example.test']);
    assert.deepEqual({ url: config.watch?.url, token: config.watch?.token }, { url: 'http://127.0.0.1:8080', token: 'tok-from-env' });
  });

  it('names the flag or the key path of every bad setting', () => {
    assert.throws(() => dnsConfigFromArgs(['--port', '70000'], {}), (e: Error) => e instanceof DnsUsageError && /--port/.test(e.message));
    assert.throws(() => dnsConfigFromArgs(['--workers', 'two'], {}), (e: Error) => e instanceof DnsUsageError && /--workers/.test(e.message));
    assert.throws(() => dnsConfigFromArgs(['--watch', 'http://127.0.0.1:1'], {}), (e: Error) => e instanceof DnsUsageError && /token/.test(e.message));
    assert.throws(() => dnsConfigFromArgs(['--no-such-flag'], {}), DnsUsageError);
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ maxAddresses: 0, rrl: { slip: -1 } }));
    assert.throws(() => dnsConfigFromArgs(['--config', file], {}), (e: Error) =>
      e instanceof DnsConfigError && /\/maxAddresses/.test(e.message) && /\/rrl\/slip/.test(e.message));
    writeFileSync(file, '{ not json');
    assert.throws(() => dnsConfigFromArgs(['--config', file], {}), (e: Error) => e instanceof DnsUsageError && e.message.includes(file));
  });
});
