import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { MERIDIAN_TAGS, type CloudId } from '../../../providers';
import { EmulatorAdmin, type InstanceStoreSnapshot } from '../../../providers/emulator';
import { SqliteStateStore } from '../../../scheduler/store';
import { waitFor } from '../fakes';
import { smallWorkload, tempDataDir, threeCloudPolicy } from './helpers';

const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');
const TOKEN = 'shutdown-token-0123456789';
const REPLICAS = 400;
const CLOUDS: readonly CloudId[] = ['aws', 'azure', 'alibaba'];

/** A running `meridian up` and what its banner says. */
interface Up {
  readonly proc: ChildProcess;
  readonly api: string;
  readonly emulators: Record<CloudId, EmulatorAdmin>;
  readonly dnsAdminPort: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  readonly stderr: () => string;
}

/** Spawns `meridian up` in its own process group (as a terminal runs it) and reads its banner. */
async function startUp(dataDir: string, files: readonly string[]): Promise<Up> {
  const proc = spawn(process.execPath, [MAIN, 'up', '--port', '0', '--data-dir', dataDir, '--token', TOKEN, '--pending-ms', '300',
    '--aws-port', '0', '--azure-port', '0', '--alibaba-port', '0', '--dns-port', '0', '--dns-admin-port', '0',
    ...files.flatMap((f) => ['-f', f])], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  let out = '';
  proc.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
  proc.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
  const up = {
    proc, stderr: () => err,
    exited: new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((r) => {
      proc.once('exit', (code, signal) => r({ code, signal, atMs: Date.now() }));
    }),
  };
  await waitFor('the sandbox banner', () => {
    if (proc.exitCode !== null) throw new Error(`meridian up exited with ${proc.exitCode}: ${err}`);
    return out.includes('Ctrl-C stops.');
  }, 90_000, 50);
  const field = (re: RegExp): string => {
    const m = re.exec(out);
    if (!m) throw new Error(`banner lacks ${String(re)}:\n${out}`);
    return m[1];
  };
  const emulators = Object.fromEntries(CLOUDS.map((c) => [c, new EmulatorAdmin(field(new RegExp(`${c} +emulator +(http://\\S+)`)))])) as Record<CloudId, EmulatorAdmin>;
  return { ...up, api: field(/scheduler API +(http:\/\/\S+)/), emulators, dnsAdminPort: Number(field(/admin http:\/\/[\d.]+:(\d+)/)) };
}

/** Ctrl-C as a terminal sends it: SIGINT to the process group; returns when it was sent. */
function interrupt(up: Up): number {
  process.kill(-(up.proc.pid as number), 'SIGINT');
  return Date.now();
}

/** Every instance the emulators hold for the workload, terminated ones included while visible. */
async function instances(up: Up, workload: string): Promise<Array<{ cloud: CloudId; id: string; state: string; key: string }>> {
  const out: Array<{ cloud: CloudId; id: string; state: string; key: string }> = [];
  for (const cloud of CLOUDS) {
    for (const i of await up.emulators[cloud].instances()) {
      if (i.tags[MERIDIAN_TAGS.workload] === workload) out.push({ cloud, id: i.id, state: i.state, key: i.tags[MERIDIAN_TAGS.key] });
    }
  }
  return out;
}

/** What the emulators saved at their stop, read from the sandbox's data directory. */
async function instancesAtRest(dataDir: string): Promise<Array<{ cloud: CloudId; id: string; state: string; key: string }>> {
  const out: Array<{ cloud: CloudId; id: string; state: string; key: string }> = [];
  for (const cloud of CLOUDS) {
    const snap = JSON.parse(await readFile(join(dataDir, 'emulators', `${cloud}.json`), 'utf8')) as InstanceStoreSnapshot;
    for (const i of snap.instances) if (i.tags[MERIDIAN_TAGS.workload] === 'big') out.push({ cloud, id: i.id, state: i.state, key: i.tags[MERIDIAN_TAGS.key] });
  }
  return out;
}

const live = (list: Awaited<ReturnType<typeof instances>>) => list.filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

async function api<T>(up: Up, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${up.api}${path}`, {
    method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as T };
}

/** Asserts a clean, orderly exit: status 0, no stack trace or error class on stderr, the GeoDNS process gone with it. */
async function assertCleanExit(up: Up, what: string, signalledAt: number): Promise<number> {
  const { code, signal, atMs } = await up.exited;
  const err = up.stderr();
  assert.equal(code, 0, `${what}: exit status (signal ${String(signal)}), stderr:\n${err}`);
  assert.doesNotMatch(err, /^\s+at \S/m, `${what}: a stack trace on stderr:\n${err}`);
  assert.doesNotMatch(err, /TypeError|Uncaught|not open/, `${what}: an error on stderr:\n${err}`);
  assert.match(err, /SIGINT: stopping/);
  // The GeoDNS server, in its own process group, was stopped by the sandbox and not left behind.
  const refused = await new Promise<boolean>((r) => {
    const s = connect(up.dnsAdminPort, '127.0.0.1');
    s.once('connect', () => { s.destroy(); r(false); });
    s.once('error', () => r(true));
  });
  assert.ok(refused, `${what}: the GeoDNS admin port ${up.dnsAdminPort} still answers`);
  return atMs - signalledAt;
}

describe('meridian up under SIGINT', function () {
  // Three sandbox starts on a busy 2-core machine, two orderly stops (each at most the 10 s grace
  // plus a second), a 400-instance rollout and its removal; every wait ends when its condition holds.
  this.timeout(240_000);
  let dataDir: string | undefined;
  let current: Up | undefined;

  afterEach(async () => {
    if (current && current.proc.exitCode === null && current.proc.signalCode === null) {
      process.kill(-(current.proc.pid as number), 'SIGKILL');
      await current.exited;
    }
    current = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops with status 0 and no stack trace while 400 replicas are created and again while they are deleted, and each restart finishes the work with no duplicate and no orphan', async () => {
    const started = Date.now();
    dataDir = tempDataDir('shutdown');
    const policyFile = join(dataDir, 'policy.yaml');
        // Provisioning never times out here: a loaded machine must not turn a slow listing into a re-placement.
    const policy = threeCloudPolicy('spread', 100);
    writeFileSync(policyFile, JSON.stringify({ ...policy, spec: { ...policy.spec, failover: { ...policy.spec.failover, provisionTimeoutSeconds: 3600 } } }));
    const { name, ...spec } = smallWorkload('big', REPLICAS, 'spread');
    const state = join(dataDir, 'state');

    // 1. Interrupted while creating.
    // The workload is applied once the sandbox is up, so the rollout starts under the test's eyes.
    let up = current = await startUp(state, [policyFile]);
    assert.equal((await api(up, 'PUT', '/v1/workloads/big', { name, ...spec })).status, 201);
    // Polled through the scheduler, lightly: the emulators share the sandbox's one process.
    const status = async () => (await api<{ status: { ready: number; pending: number; terminating: number } }>(up, 'GET', '/v1/workloads/big')).body.status;
    await waitFor('the rollout under way', async () => (await status()).ready >= 10, 60_000, 100);
    const createStopMs = await assertCleanExit(up, 'SIGINT during create', interrupt(up));
    const before = live(await instancesAtRest(state)).length;
    assert.ok(before < REPLICAS, `interrupted during the rollout (${before} of ${REPLICAS} created)`);

    // 2. A restart converges: exactly 400, one per idempotency key, the store and the clouds agree.
    up = current = await startUp(state, [policyFile]);
    await waitFor('400 replicas converged after the restart', async () => {
      const w = await api<{ status: { converged: boolean } }>(up, 'GET', '/v1/workloads/big');
      return w.body.status.converged && live(await instances(up, 'big')).length === REPLICAS;
    }, 120_000, 200);
    const all = await instances(up, 'big');
    const keys = all.map((i) => i.key);
    assert.equal(new Set(keys).size, keys.length, 'an idempotency key made two instances');
    assert.equal(live(all).length, REPLICAS);

    // 3. Interrupted while deleting.
    assert.equal((await api(up, 'DELETE', '/v1/workloads/big')).status, 202);
    await waitFor('the deletion under way', async () => {
      const st = await status();
      return st.ready + st.pending + st.terminating <= REPLICAS - 10;
    }, 60_000, 100);
    const deleteStopMs = await assertCleanExit(up, 'SIGINT during delete', interrupt(up));
    const left = live(await instancesAtRest(state)).length;
    assert.ok(left > 0, `interrupted during the deletion (${left} left)`);

    // 4. A restart (without the workload's file) finishes the deletion: nothing of it is left anywhere.
    up = current = await startUp(state, [policyFile]);
    await waitFor('the workload gone after the restart', async () =>
      (await api(up, 'GET', '/v1/workloads/big')).status === 404 && live(await instances(up, 'big')).length === 0, 120_000, 200);
    await assertCleanExit(up, 'SIGINT when idle', interrupt(up));
    current = undefined;

    const store = new SqliteStateStore({ dataDir: state });
    try {
      assert.deepEqual(store.listRecords('big', true), [], 'no record of the workload is left');
      assert.equal(store.listJournal('big').filter((e) => e.outcome === 'pending').length, 0, 'no journal entry pending after an idle stop');
    } finally {
      store.close();
    }
    process.stdout.write(`      shutdown test: stopped in ${createStopMs} ms during create (${before} created), ${deleteStopMs} ms during delete (${left} left), ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`);
  });
});
