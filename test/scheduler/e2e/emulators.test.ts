import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { createProviderContainer, providerFor } from '../../../providers/drivers';
import { startEmulators, type RunningEmulators } from '../../../providers/emulator';
import { loadSchedulerConfig } from '../../../scheduler/config';
import type { Workload } from '../../../scheduler/placement/types';
import { createScheduler } from '../../../scheduler/service';
import { documentValidation } from '../../../scheduler/wiring';
import { waitFor } from '../fakes';
import { admins, countByRegion, FAST_RESILIENCE, liveInstances, smallWorkload, tempDataDir, threeCloudPolicy } from './helpers';

describe('scheduler against the three emulators', function () {
  // Deadlines sized for a busy 2-core machine: each wait below ends as soon as its condition holds.
  this.timeout(240_000);
  let emus: RunningEmulators;
  let svc: Awaited<ReturnType<typeof createScheduler>>;
  let dataDir: string;

  before(async () => {
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 50, resilience: FAST_RESILIENCE });
    dataDir = tempDataDir('e2e');
    const config = loadSchedulerConfig({
      dataDir, api: { token: 'e2e-token-0123456789', port: 0 },
      reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.3, capacityCoolDownSeconds: 1.5, unhealthyAfterFailures: 2, concurrencyPerRegion: 16 },
    });
    svc = await createScheduler({ config, providers: emus.providersConfig, log: () => undefined });
    await svc.reconciler.start();
  });

  after(async () => {
    await svc?.stop();
    await emus?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function apply(policy: ReturnType<typeof threeCloudPolicy>, workload: ReturnType<typeof smallWorkload>): Promise<void> {
    const p = documentValidation.parsePolicy(policy);
    assert.ok(p.ok, JSON.stringify(!p.ok && p.errors));
    await svc.store.putPolicy(policy.metadata.name, p.value);
    const w = documentValidation.parseWorkload(workload);
    assert.ok(w.ok, JSON.stringify(!w.ok && w.errors));
    await svc.store.putWorkload(w.value as Workload);
    svc.reconciler.trigger();
  }

  const converged = async (name: string) => (await svc.reconciler.status(name))?.converged === true;

  it('converges a 30-replica workload over three clouds, then moves replicas out of a region out of capacity and back once it recovers', async () => {
    await apply(threeCloudPolicy('three', 10), smallWorkload('web', 30, 'three'));
    await waitFor('30 replicas', async () => await converged('web') && (await liveInstances(emus, 'web')).length === 30, 90_000);
    const initial = countByRegion(await liveInstances(emus, 'web'));
    assert.equal(new Set(Object.keys(initial).map((k) => k.split('/')[0])).size, 3, `three clouds: ${JSON.stringify(initial)}`);

    // Capacity fault: the busiest AWS region loses its hosts and has no capacity to replace them.
    const [victim, count] = Object.entries(initial).filter(([k]) => k.startsWith('aws/')).sort((a, b) => b[1] - a[1])[0];
    const region = victim.split('/')[1];
    await admins(emus).aws.setFaults({ capacity: { [`${region}/*`]: 0 } });
    const aws = providerFor(createProviderContainer(emus.providersConfig), 'aws');
    for (const i of (await liveInstances(emus, 'web')).filter((x) => x.cloud === 'aws' && x.region === region)) await aws.terminateInstance(region, i.id);
    await waitFor('replicas moved elsewhere', async () => {
      const now = countByRegion(await liveInstances(emus, 'web'));
      return await converged('web') && (now[victim] ?? 0) === 0 && Object.values(now).reduce((a, b) => a + b, 0) === 30;
    }, 90_000);
    const moved = (await svc.store.getWorkload('web'))?.applied?.assignments ?? [];
    assert.ok(moved.every((a) => !(a.cloud === 'aws' && a.region === region)), 'the placement avoids the region');
    assert.ok((await svc.store.listConstraints(Date.now())).some((c) => c.cloud === 'aws' && c.region === region), 'the region is constrained');

    // Clearing the fault brings the replicas back after the cool-down (failback).
    await admins(emus).aws.setFaults({ capacity: {} });
    await waitFor('failback', async () => {
      const now = countByRegion(await liveInstances(emus, 'web'));
      return await converged('web') && now[victim] === count && Object.values(now).reduce((a, b) => a + b, 0) === 30;
    }, 90_000);
  });

  it('keeps rolling out in the other regions while one region is in an outage, and never takes the region for healthy before it recovers', async () => {
    // Every flip of eastus's health during the outage; a listing that never reached the region
    // (Azure's resource-group list) once turned it healthy again and again, moving replicas back
    // and forth until the rollout elsewhere could not finish.
    const flips: boolean[] = [];
    let outage = true;
    svc.reconciler.health.onChange((s) => { if (outage && s.cloud === 'azure' && s.region === 'eastus') flips.push(s.healthy); });
    await admins(emus).azure.setFaults({ outages: ['eastus'] });
    try {
      await apply(threeCloudPolicy('three-b', 4), smallWorkload('roll', 12, 'three-b'));
      await waitFor('12 ready outside eastus', async () => {
        const live = await liveInstances(emus, 'roll');
        return (await svc.reconciler.status('roll'))?.ready === 12 && live.filter((i) => i.region !== 'eastus').length >= 12;
      }, 90_000);
      assert.equal(svc.reconciler.health.isHealthy('azure', 'eastus'), false);
    } finally {
      outage = false;
      await admins(emus).azure.setFaults({ outages: [] });
    }
    assert.deepEqual(flips, [false], 'eastus turned unhealthy once and stayed so for the whole outage');
    await waitFor('converged after the outage', async () => await converged('roll') && (await liveInstances(emus, 'roll')).length === 12, 90_000);
  });
});
