import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../../scheduler/sandbox';
import { waitFor } from '../fakes';
import { FAST_RESILIENCE, liveInstances, tempDataDir } from './helpers';

describe('meridian up (the sandbox)', function () {
  // Deadlines sized for a busy 2-core machine: each wait below ends as soon as its condition holds.
  this.timeout(240_000);
  let sandbox: Sandbox | undefined;
  let dataDir: string | undefined;

  after(async () => {
    await sandbox?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the emulators, the API and the GeoDNS server, converges the example workloads and serves their names', async () => {
    dataDir = tempDataDir('sandbox');
    sandbox = await startSandbox({
      port: 0, dataDir, token: 'sandbox-token-0123456789', emulatorPorts: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 50,
      dns: { port: 0, adminPort: 0 },
      reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.5 }, resilience: FAST_RESILIENCE, log: () => undefined,
    });
    const s = sandbox;
    assert.deepEqual([...s.applied.workloads].sort(), ['cn-shop', 'eu-api', 'web']);
    assert.ok(s.applied.policies.includes('global-low-latency'));
    await waitFor('every example workload converged', async () => (await Promise.all(s.applied.workloads.map((w) => s.scheduler.reconciler.status(w)))).every((st) => st?.converged), 120_000);
    const res = await fetch(`${s.scheduler.url}/v1/workloads`, { headers: { authorization: 'Bearer sandbox-token-0123456789' } });
    assert.equal(res.status, 200);
    let total = 0;
    for (const w of s.applied.workloads) total += (await s.scheduler.store.getWorkload(w))?.spec.replicas ?? 0;
    assert.equal((await liveInstances(s.emulators)).length, total);

    // The GeoDNS process learns the placement over the watch stream only: dig gets addresses of web's instances.
    const dns = s.dns;
    assert.ok(dns, 'the sandbox runs a GeoDNS server');
    const webIps = new Set((await liveInstances(s.emulators, 'web')).map((i) => i.publicIp).filter((ip): ip is string => !!ip));
    let answer: string[] = [];
    await waitFor('GeoDNS answers web.meridian.test from the watch stream', async () => {
      // dig exits 9 when its one try times out (a busy machine): that is one more poll, not a failure.
      const stdout = await promisify(execFile)('dig', ['@127.0.0.1', '-p', String(dns.port), '+short', '+tries=1', '+time=2',
        '+subnet=81.2.69.0/24', 'web.meridian.test', 'A']).then((r) => r.stdout, () => '');
      answer = stdout.trim().split('\n').filter(Boolean);
      return answer.length > 0;
    }, 60_000, 100);
    assert.ok(answer.every((ip) => webIps.has(ip)), `answers ${answer.join(', ')} are web instances' addresses (${[...webIps].join(', ')})`);
    const admin = await fetch(`http://127.0.0.1:${String(dns.adminPort)}/healthz`);
    assert.equal(admin.status, 200);
    // The sandbox's GeoIP settings: no data channel, so geoip-lite's data drives; answers go to the hot-prefix cache file.
    const geo = await (await fetch(`http://127.0.0.1:${String(dns.adminPort)}/geo/channels`)).json() as { driving: string; channels: { name: string }[] };
    assert.deepEqual([geo.driving, geo.channels.map((c) => c.name)], ['static', ['static']]);
    await waitFor('the hot-prefix cache file in the data directory', () => existsSync(join(dataDir!, 'dns-hot-prefixes.bin')), 10_000);
  });
});
