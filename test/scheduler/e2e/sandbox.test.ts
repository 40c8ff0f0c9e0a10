import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { startSandbox, type Sandbox } from '../../../scheduler/sandbox';
import { waitFor } from '../fakes';
import { FAST_RESILIENCE, liveInstances, tempDataDir } from './helpers';

describe('meridian up (the sandbox)', function () {
  this.timeout(60_000);
  let sandbox: Sandbox | undefined;
  let dataDir: string | undefined;

  after(async () => {
    await sandbox?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the emulators and the API, applies the example workloads and converges them', async () => {
    dataDir = tempDataDir('sandbox');
    sandbox = await startSandbox({
      port: 0, dataDir, token: 'sandbox-token-0123456789', emulatorPorts: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 50,
      reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.5 }, resilience: FAST_RESILIENCE, log: () => undefined,
    });
    const s = sandbox;
    assert.deepEqual([...s.applied.workloads].sort(), ['cn-shop', 'eu-api', 'web']);
    assert.ok(s.applied.policies.includes('global-low-latency'));
    await waitFor('every example workload converged', () => s.applied.workloads.every((w) => s.scheduler.reconciler.status(w)?.converged), 40_000);
    const res = await fetch(`${s.scheduler.url}/v1/workloads`, { headers: { authorization: 'Bearer sandbox-token-0123456789' } });
    assert.equal(res.status, 200);
    const total = s.applied.workloads.reduce((n, w) => n + (s.scheduler.store.getWorkload(w)?.spec.replicas ?? 0), 0);
    assert.equal((await liveInstances(s.emulators)).length, total);
  });
});
