import { strict as assert } from 'node:assert';
import { loadSchedulerConfig, SchedulerConfigError } from '../../scheduler/config';

describe('scheduler config', () => {
  it('fills defaults and freezes the result', () => {
    const c = loadSchedulerConfig({ api: { token: 'a-long-enough-token' } });
    assert.equal(c.dataDir, '.meridian');
    assert.equal(c.api.port, 8080);
    assert.equal(c.api.host, '127.0.0.1');
    assert.equal(c.reconciler.intervalMs, 2_000);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.api) && Object.isFrozen(c.reconciler));
  });

  it('reports every problem with its key path', () => {
    try {
      loadSchedulerConfig({ api: { token: 'short', port: 70_000 }, reconciler: { intervalMs: 1, bogus: true } });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof SchedulerConfigError);
      const paths = err.issues.map((i) => i.path);
      for (const p of ['/api/token', '/api/port', '/reconciler/intervalMs', '/reconciler/bogus']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
      assert.equal(err.code, 'MERIDIAN_ERR_CONFIG_INVALID');
    }
  });

  it('refuses a store URL holding a password or naming no database, and lease timings out of order, each by its key path', () => {
    const issues = (store: unknown) => {
      try {
        loadSchedulerConfig({ api: { token: 'a-long-enough-token' }, store });
        return [];
      } catch (err) {
        assert.ok(err instanceof SchedulerConfigError);
        return err.issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    assert.deepEqual(issues({ url: 'postgres://meridian@db.internal:5432/meridian' }), []);
    const secret = issues({ url: 'postgres://meridian:hunter2@db.internal/meridian' });
    assert.ok(secret.some((m) => m.startsWith('/store/url: must not hold the password')), secret.join('; '));
    assert.ok(!secret.some((m) => m.includes('hunter2')), 'the password is not repeated');
    assert.ok(issues({ url: 'postgres://db.internal' }).some((m) => m.startsWith('/store/url: must name a user, a host and a database')));
    assert.ok(issues({ url: 'mysql://u@h/d' }).some((m) => m.startsWith('/store/url')));
    const timings = issues({ lease: { durationSeconds: 3, renewDeadlineSeconds: 3, renewIntervalSeconds: 4 } });
    assert.ok(timings.some((m) => m.startsWith('/store/lease/renewDeadlineSeconds: must be shorter than store.lease.durationSeconds (3)')), timings.join('; '));
    assert.ok(timings.some((m) => m.startsWith('/store/lease/renewIntervalSeconds')), timings.join('; '));
  });

  it('uses public partitions with no opt-in region enabled unless told otherwise', () => {
    const c = loadSchedulerConfig({ api: { token: 'a-long-enough-token' } });
    assert.deepEqual(c.regions, { partitions: {}, enabled: [], fromClouds: false });
    assert.ok(Object.isFrozen(c.regions.enabled));
  });

  it('accepts enabled opt-in and access-restricted regions, and a partition per cloud', () => {
    const c = loadSchedulerConfig({
      api: { token: 'a-long-enough-token' },
      regions: { partitions: { aws: 'aws-us-gov' }, enabled: ['azure:germanynorth', 'aws:us-gov-east-1'] },
    });
    assert.deepEqual(c.regions.enabled, ['azure:germanynorth', 'aws:us-gov-east-1']);
    assert.equal(c.regions.partitions.aws, 'aws-us-gov');
  });

  it('rejects enabled regions the catalog does not have, suggesting the nearest name, with the key path', () => {
    try {
      loadSchedulerConfig({
        api: { token: 'a-long-enough-token' },
        regions: { enabled: ['aws:af-south-1', 'aws:af-sout-1', 'azrue:germanynorth', 'aws:cn-north-1', 'AWS af-south-1'], partitions: { azure: 'azure-cn' } },
      });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof SchedulerConfigError);
      const by = new Map(err.issues.map((i) => [i.path, i.message]));
      assert.match(by.get('/regions/enabled/4') ?? '', /to match/, 'a malformed entry fails the schema');
      assert.match(by.get('/regions/partitions/azure') ?? '', /.+/, 'an unknown partition fails the schema');
    }
    try {
      loadSchedulerConfig({
        api: { token: 'a-long-enough-token' },
        regions: { enabled: ['aws:af-south-1', 'aws:af-sout-1', 'azrue:germanynorth', 'aws:cn-north-1'] },
      });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof SchedulerConfigError);
      assert.deepEqual(err.issues.map((i) => i.path), ['/regions/enabled/1', '/regions/enabled/2', '/regions/enabled/3']);
      const [typo, cloud, partition] = err.issues.map((i) => i.message);
      assert.equal(typo, "unknown region 'aws:af-sout-1'; did you mean 'aws:af-south-1'?");
      assert.equal(cloud, "unknown cloud 'azrue' in 'azrue:germanynorth'; did you mean 'azure'?");
      assert.match(partition, /'aws:cn-north-1' is in partition aws-cn, not the aws account's partition aws/);
      assert.match(err.message, /\/regions\/enabled\/1: unknown region 'aws:af-sout-1'; did you mean 'aws:af-south-1'\?/);
    }
  });
});
