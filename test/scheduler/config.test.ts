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
});
