import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ValidationError } from '../../common';
import { DnsConfigError, exampleZoneConfig, loadDnsConfig, loadZoneConfig } from '../../dns/index';
import { parseRisSettings, RisSettingsError } from '../../dns/geoip/channels/mrt/index';
import { loadSignedChannelSettings, SignedSettingsError } from '../../dns/geoip/channels/signed/index';
import { CatalogFileError, readCatalogFile } from '../../providers';
import { loadSchedulerConfig, SchedulerConfigError } from '../../scheduler/config';

/** The error `load` throws, checked to be both the loader's own class and the shared one. */
function refusal<E extends ValidationError>(load: () => unknown, own: new (...args: never[]) => E): E {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof own, `${String(err)} is a ${own.name}`);
    assert.ok(err instanceof ValidationError, `${own.name} is a ValidationError`);
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail(`${own.name} expected`);
}

describe('the loaders\' shared error', () => {
  it('is what every loader throws: its own name and code, every issue with its path, and one message format', () => {
    const sched = refusal(() => loadSchedulerConfig({ api: { token: 'short' }, shutdownGraceSeconds: -1 }), SchedulerConfigError);
    assert.equal(sched.name, 'SchedulerConfigError');
    assert.equal(sched.code, 'MERIDIAN_ERR_CONFIG_INVALID');
    assert.deepEqual(sched.issues.map((i) => i.path).sort(), ['/api/token', '/shutdownGraceSeconds']);
    assert.equal(sched.message, `invalid scheduler configuration: ${sched.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);

    const dns = refusal(() => loadDnsConfig({ zones: exampleZoneConfig().zones, ttlBounds: { minSeconds: 60, maxSeconds: 30 } }), DnsConfigError);
    assert.equal(dns.name, 'DnsConfigError');
    assert.equal(dns.code, 'DNS_ERR_CONFIG_INVALID');
    assert.equal(dns.what, 'DNS configuration');
    assert.equal(dns.message, 'invalid DNS configuration: /ttlBounds: minSeconds must not exceed maxSeconds');

    const zones = refusal(() => loadZoneConfig({ zones: 'meridian.test' }), DnsConfigError);
    assert.match(zones.message, /^invalid zone configuration: \/zones: /);

    const missing = join(tmpdir(), 'meridian-no-such-catalog.json');
    const catalog = refusal(() => readCatalogFile(missing), CatalogFileError);
    assert.equal(catalog.name, 'CatalogFileError');
    assert.equal(catalog.code, 'MERIDIAN_ERR_CATALOG_FILE');
    assert.equal(catalog.file, missing);
    assert.deepEqual(catalog.issues.map((i) => i.path), ['']);
    assert.match(catalog.message, new RegExp(`^catalog file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not usable: /: cannot be read: `));

    const signed = refusal(() => loadSignedChannelSettings({ pollIntervalSeconds: -1 }), SignedSettingsError);
    assert.equal(signed.name, 'SignedSettingsError');
    assert.ok(signed.issues.some((i) => i.path === '/pollIntervalSeconds'), signed.message);
    assert.match(signed.message, /^invalid signed-package channel settings: /);

    const ris = refusal(() => parseRisSettings({ baseUrl: 'ftp://x', collectors: ['rrc1'], pollIntervalSeconds: 0 }), RisSettingsError);
    assert.equal(ris.name, 'RisSettingsError');
    assert.match(ris.message, /^invalid RIS settings: \//);
  });

  it('lists the first issues of a long list and counts the rest, when its loader caps the message', () => {
    const issues = Array.from({ length: 13 }, (_, i) => ({ path: `/clouds/aws/sizes/${i}/vcpu`, message: 'must be > 0' }));
    const err = new CatalogFileError('c.json', issues);
    assert.equal(err.issues.length, 13, 'every issue is kept');
    assert.ok(err.message.includes('/clouds/aws/sizes/9/vcpu: must be > 0; and 3 more'), err.message);
    assert.ok(!err.message.includes('/sizes/10/'), err.message);
    const root = new ValidationError('X', 'invalid thing', [{ path: '', message: 'expected an object' }]);
    assert.equal(root.message, 'invalid thing: /: expected an object');
    assert.equal(root.name, 'ValidationError');
  });
});
