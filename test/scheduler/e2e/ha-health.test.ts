import { strict as assert } from 'node:assert';
import type { ClientRequest } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startEmulators, type RunningEmulators } from '../../../providers/emulator';
import { startPostgres, type TestPostgres } from '../../tools/postgres';
import { openEventStream } from '../../tools/sse';
import { waitFor, waitForValue } from '../../tools/wait';
import { admins, FAST_RESILIENCE, launchServe, smallWorkload, tempDataDir, type ServeProcess } from './helpers';

const TOKEN = 'ha-health-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const LEASE = { durationSeconds: 3, renewDeadlineSeconds: 2, renewIntervalSeconds: 0.25 };
/** The one region the workload may use: its outage cannot be placed around, so it stays in the watch stream. */
const CLOUD = 'aws';
const REGION = 'us-east-1';
const HEALTH_SERIES = new RegExp(`^meridian_region_healthy\\{cloud="${CLOUD}",region="${REGION}"\\} (\\d)$`, 'm');

type Replica = ServeProcess;
interface EndpointRegion { cloud: string; region: string; healthy: boolean }
interface WorkloadView { name: string; generation: number; status: { converged: boolean; observedGeneration: number; reasons: Array<{ code: string }> } }

/** A watcher of one scheduler's stream, keeping the last endpoints of each workload. */
function watch(url: string): { workloads: Map<string, { regions: EndpointRegion[] }>; req: ClientRequest } {
  const workloads = new Map<string, { regions: EndpointRegion[] }>();
  const req = openEventStream(`${url}/v1/watch`, auth, ({ event, data }) => {
    const d = data as { workloads?: Array<{ name: string; regions: EndpointRegion[] }>; workload?: { name: string; regions: EndpointRegion[] }; name?: string };
    if (event === 'snapshot') {
      workloads.clear();
      for (const w of d.workloads ?? []) workloads.set(w.name, w);
    } else if (event === 'upsert' && d.workload) workloads.set(d.workload.name, d.workload);
    else if (event === 'delete' && d.name) workloads.delete(d.name);
  });
  return { workloads, req };
}

describe('region health and convergence shared by every scheduler on one PostgreSQL', function () {
  // The hooks start PostgreSQL, the emulators and two schedulers (tens of seconds on a loaded machine).
  this.timeout(120_000);
  let db: TestPostgres | undefined;
  let emus: RunningEmulators | undefined;
  let dir: string | undefined;
  const replicas: Replica[] = [{ name: 'a', err: '' }, { name: 'b', err: '' }];
  const watchers: ClientRequest[] = [];
  /** Every region health write any scheduler made, as PostgreSQL told its listeners. */
  const healthWrites: string[] = [];
  let changes: pg.Client | undefined;

  const start = async (r: Replica): Promise<void> => {
    const file = join(dir as string, `${r.name}.json`);
    writeFileSync(file, JSON.stringify({
      scheduler: {
        dataDir: join(dir as string, r.name),
        api: { token: TOKEN, port: 0 },
        reconciler: { intervalMs: 100, refreshIntervalSeconds: 0.5, concurrencyPerRegion: 4, capacityCoolDownSeconds: 2 },
        store: { url: `postgres://postgres@127.0.0.1:${(db as TestPostgres).port}/postgres`, lease: LEASE },
        shutdownGraceSeconds: 1,
      },
      providers: (emus as RunningEmulators).providersConfig,
    }));
    await launchServe(r, file);
  };

  const kill = async (r: Replica): Promise<void> => {
    if (r.proc && r.proc.exitCode === null && r.proc.signalCode === null) {
      r.proc.kill('SIGKILL');
      await r.exited;
    }
  };

  const role = async (r: Replica): Promise<string | undefined> => {
    try {
      const res = await fetch(`${r.url as string}/healthz`, { signal: AbortSignal.timeout(1_000) });
      return (await res.json() as { lease?: { role: string } }).lease?.role;
    } catch {
      return undefined;
    }
  };

  const leader = (): Promise<Replica> => waitForValue('exactly one leader', async () => {
    const live = replicas.filter((r) => r.proc?.exitCode === null && r.proc.signalCode === null);
    const roles = await Promise.all(live.map((r) => role(r)));
    const leading = live.filter((_r, i) => roles[i] === 'leader');
    return leading.length === 1 ? leading[0] : undefined;
  }, 20_000, 25);

  const api = async (r: Replica, method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${r.url as string}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} on ${r.name}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  };

  const workload = async (r: Replica): Promise<WorkloadView | undefined> =>
    (await api(r, 'GET', '/v1/workloads') as { items: WorkloadView[] }).items.find((w) => w.name === 'pinned');

  /** What the scheduler's /metrics says of the region: 1 healthy, 0 failing. */
  const healthMetric = async (r: Replica): Promise<number> => {
    const m = HEALTH_SERIES.exec(await (await fetch(`${r.url as string}/metrics`)).text());
    assert.ok(m, `${r.name} has no meridian_region_healthy series for ${CLOUD}/${REGION}`);
    return Number(m[1]);
  };

  /** What the scheduler's watch stream says of the region's health, once it names the region. */
  const streamHealth = (w: ReturnType<typeof watch>): boolean | undefined =>
    w.workloads.get('pinned')?.regions.find((x) => x.cloud === CLOUD && x.region === REGION)?.healthy;

  before(async () => {
    dir = tempDataDir('ha-health');
    db = await startPostgres();
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 100, resilience: FAST_RESILIENCE });
    changes = new pg.Client(db.connection);
    changes.on('error', () => undefined);
    changes.on('notification', (n) => {
      const p = JSON.parse(n.payload ?? '{}') as { k?: string; n?: string };
      if (p.k === 'health') healthWrites.push(p.n ?? '');
    });
    await changes.connect();
    await changes.query('LISTEN meridian_changes');
    // One at a time, so that the first leads and the second follows from its start.
    await start(replicas[0]);
    await leader();
    await start(replicas[1]);
  });

  after(async () => {
    for (const w of watchers) w.destroy();
    await changes?.end().catch(() => undefined);
    await Promise.all(replicas.map((r) => kill(r)));
    await emus?.stop();
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows a follower the leader's convergence and a failing region, and a new leader keeps the region avoided until it answers", async function () {
    this.timeout(90_000);
    const first = await leader();
    const follower = replicas.find((r) => r !== first) as Replica;
    await api(follower, 'PUT', '/v1/policies/one-region', {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'one-region' }, spec: { regions: { allow: [`${CLOUD}:${REGION}`] } },
    });
    await api(follower, 'PUT', '/v1/workloads/pinned', smallWorkload('pinned', 1, 'one-region'));
    await api(follower, 'PUT', '/v1/workloads/pinned', smallWorkload('pinned', 2, 'one-region'));

    // Convergence as the leader reckons it reaches the follower: the same generation acted on.
    await waitFor('the leader converged on generation 2', async () => {
      const w = await workload(first);
      return w?.status.converged === true && w.status.observedGeneration === 2;
    }, 30_000, 100);
    const seen = await waitForValue('the follower reporting convergence', async () => {
      const w = await workload(follower);
      return w?.status.converged ? w : undefined;
    }, 10_000, 100);
    assert.deepEqual([seen.generation, seen.status.observedGeneration, seen.status.reasons], [2, 2, []]);

    const stream = watch(follower.url as string);
    watchers.push(stream.req);
    await waitFor('the follower streaming the region as healthy', () => streamHealth(stream) === true, 10_000, 50);
    assert.equal(await healthMetric(follower), 1);

    // The region's API fails: the leader finds out from its calls; the follower from the store.
    await admins(emus as RunningEmulators)[CLOUD].setFaults({ outages: [REGION] });
    await waitFor("the follower's stream marking the region unhealthy", () => streamHealth(stream) === false, 20_000, 50);
    assert.equal(await healthMetric(follower), 0);
    const reasons = (await workload(follower))?.status.reasons.map((r) => r.code);
    assert.ok(reasons?.includes('region-unavailable'), `the follower's reasons: ${String(reasons)}`);

    // The leader dies while the region is still down: the follower leads, and it still avoids the region.
    await kill(first);
    const next = await leader();
    assert.equal(next, follower);
    assert.equal(await healthMetric(next), 0);
    // A scheduler starting now reads the failing region from the store before it serves.
    await start(first);
    assert.equal(await role(first), 'follower');
    assert.equal(await healthMetric(first), 0);
    const restarted = watch(first.url as string);
    watchers.push(restarted.req);
    await waitFor("the restarted scheduler's stream marking the region unhealthy", () => streamHealth(restarted) === false, 10_000, 50);
    assert.equal(streamHealth(stream), false);

    // The region answers again: the new leader's probe notices, and every scheduler says so.
    await admins(emus as RunningEmulators)[CLOUD].setFaults({ outages: [] });
    await waitFor("the follower's stream marking the region healthy again", () => streamHealth(restarted) === true, 20_000, 50);
    assert.equal(await healthMetric(first), 1);
    await waitFor('the new leader converged again', async () => (await workload(next))?.status.converged === true, 20_000, 100);
    await waitFor('the follower converged again', async () => (await workload(first))?.status.converged === true, 10_000, 100);
    assert.ok(!/reconcile pass failed|cannot store the health/.test(next.err + first.err), next.err + first.err);
    // Written at the transitions (down, perhaps once more with the failure's own error after the breaker's, up), not per call.
    assert.ok(healthWrites.length >= 2 && healthWrites.length <= 3 && healthWrites.every((n) => n === `${CLOUD}/${REGION}`), `health writes: ${healthWrites.join(' ')}`);
  });
});
