import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MERIDIAN_TAGS } from '../../../providers';
import { startEmulators, type RunningEmulators } from '../../../providers/emulator';
import { SqliteStateStore } from '../../../scheduler/store';
import { waitFor } from '../fakes';
import { admins, FAST_RESILIENCE, liveInstances, smallWorkload, tempDataDir, threeCloudPolicy } from './helpers';
import { seededRandom } from '../../tools/random';

const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');
const TOKEN = 'crash-token-0123456789';
const KILLS = 20;
const REPLICAS = 100;

/** The seed of this run: `MERIDIAN_CRASH_SEED` when given (to replay a failure), else a fresh one. */
function crashSeed(fromEnv: string | undefined): number {
  if (fromEnv === undefined || fromEnv === '') return Date.now() % 1_000_000;
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`MERIDIAN_CRASH_SEED must be a non-negative integer, got '${fromEnv}'`);
  return seed;
}

interface Child { proc: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string }

/** Starts `meridian serve` as a child process and resolves once it prints its address. */
async function startChild(configFile: string): Promise<Child> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--config', configFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-4000); });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`scheduler did not start within 120 s: ${err}`)), 120_000);
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolveUrl((JSON.parse(out.slice(0, nl)) as { url: string }).url); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`scheduler exited with ${code}: ${err}`)); });
  });
  return { proc, url, exited, stderr: () => err };
}

async function put(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

describe('scheduler crash safety', function () {
  // Bounded: 21 scheduler starts and 20 kill windows of at most 1.05 s, then convergence; sized for
  // a busy 2-core machine, where each start of a scheduler process can take several seconds.
  this.timeout(600_000);
  let emus: RunningEmulators | undefined;
  let child: Child | undefined;
  let dataDir: string | undefined;

  afterEach(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    child = undefined;
    await emus?.stop();
    emus = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends with exactly the desired instances, no duplicates, no orphans and a journal that agrees after 20 SIGKILLs during a 100-instance rollout, at least one of them mid-call', async () => {
    const seed = crashSeed(process.env.MERIDIAN_CRASH_SEED);
    // Printed first, so that any failure below can be replayed with MERIDIAN_CRASH_SEED=<seed>.
    process.stdout.write(`      crash test: seed ${seed} (replay: MERIDIAN_CRASH_SEED=${seed} npm test)\n`);
    const random = seededRandom(seed);
    const started = Date.now();
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 150, resilience: FAST_RESILIENCE });
    // Every call takes a little while, so each rollout spans the random kill window.
    for (const a of Object.values(admins(emus))) await a.setFaults({ latencyMs: 15 });
    dataDir = tempDataDir('crash');
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({
      scheduler: {
        dataDir: join(dataDir, 'state'),
        api: { token: TOKEN, port: 0 },
        reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.5, concurrencyPerRegion: 3, capacityCoolDownSeconds: 2 },
      },
      providers: emus.providersConfig,
    }));

    let image = 'v1';
    for (let kill = 0; kill < KILLS; kill++) {
      child = await startChild(configFile);
      if (kill === 0) await put(child.url, '/v1/policies/crash', threeCloudPolicy('crash', 20));
      // Every other round starts a new rollout: all replicas replaced, make-before-break.
      if (kill % 2 === 0) image = image === 'v1' ? 'v2' : 'v1';
      await put(child.url, '/v1/workloads/crash', smallWorkload('crash', REPLICAS, 'crash', image));
      // Now and then a reply is lost after the cloud acted on it.
      if (kill % 5 === 3) await admins(emus).aws.setFaults({ dropReplies: 2 });
      await new Promise((r) => setTimeout(r, 50 + random() * 1000));
      child.proc.kill('SIGKILL');
      await child.exited;
    }

    child = await startChild(configFile);
    const c = child;
    await waitFor('convergence after the last restart', async () => {
      const res = await fetch(`${c.url}/v1/workloads/crash`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const w = await res.json() as { status: { converged: boolean } };
      return w.status.converged && (await liveInstances(emus as RunningEmulators, 'crash')).length === REPLICAS;
    }, 240_000, 100);
    c.proc.kill('SIGTERM');
    assert.equal(await c.exited, 0, `graceful stop: ${c.stderr()}`);
    child = undefined;

    const live = await liveInstances(emus, 'crash');
    const everything = (await Promise.all(Object.values(admins(emus)).map((a) => a.instances())))
      .flat().filter((i) => i.tags[MERIDIAN_TAGS.workload] === 'crash');
    const store = new SqliteStateStore({ dataDir: join(dataDir, 'state') });
    try {
      const records = store.listRecords('crash');
      const journal = store.listJournal('crash');
      // Exactly the desired instances, on the final image.
      assert.equal(live.length, REPLICAS);
      assert.ok(live.every((i) => i.state === 'running'), 'all running');
      const wanted = smallWorkload('crash', REPLICAS, 'crash', image).image;
      assert.ok(records.every((r) => r.image === wanted[r.cloud]), 'all on the last applied image');
      // No duplicates: one instance per idempotency key, ever.
      const keys = everything.map((i) => i.tags[MERIDIAN_TAGS.key]);
      assert.equal(new Set(keys).size, keys.length, 'an idempotency key made two instances');
      // No orphans, and the store agrees: records and live instances are the same set.
      assert.ok(records.every((r) => r.state === 'active' && r.cloudState === 'running'), 'no record left creating or terminating');
      // Azure ids are ARM resource ids; the emulator's admin view names the VM: compare the last segment.
      const short = (id: string | undefined) => (id ?? '').split('/').pop()?.toLowerCase();
      assert.deepEqual(records.map((r) => short(r.instanceId)).sort(), live.map((i) => short(i.id)).sort());
      // The journal agrees: nothing pending, and each live instance has its successful create.
      assert.equal(journal.filter((e) => e.outcome === 'pending').length, 0);
      for (const r of records) {
        assert.ok(journal.some((e) => e.operation === 'create' && e.key === r.key && e.outcome === 'ok' && e.instanceId === r.instanceId), `journal entry for ${r.key}`);
      }
      const interrupted = journal.filter((e) => e.outcome === 'interrupted').length;
      process.stdout.write(`      crash test: seed ${seed}, ${KILLS} kills, ${journal.length} journal entries (${interrupted} interrupted by a kill), ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      // Otherwise every kill landed between cloud calls and the recovery path went untested.
      assert.ok(interrupted >= 1, `no kill interrupted a cloud operation in flight (seed ${seed})`);
    } finally {
      store.close();
    }
  });
});
