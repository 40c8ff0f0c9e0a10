import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { MERIDIAN_TAGS, type CloudId } from '../../../providers';
import { startEmulators, type RunningEmulators } from '../../../providers/emulator';
import { startPostgres, type TestPostgres } from '../../tools/postgres';
import { seededRandom } from '../../tools/random';
import { waitFor, waitForValue } from '../../tools/wait';
import { FAST_RESILIENCE, launchServe, liveInstances, smallWorkload, tempDataDir, threeCloudPolicy, type ServeProcess } from './helpers';

const TOKEN = 'ha-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
/** A short lease, so that takeovers happen within the test: a follower must lead within LEASE_S + 1 s of a leader's death. */
const LEASE_S = 3;
const LEASE = { durationSeconds: LEASE_S, renewDeadlineSeconds: 2, renewIntervalSeconds: 0.25 };
const CLOUDS: readonly CloudId[] = ['aws', 'azure', 'alibaba'];

/**
 * A TCP relay in front of one emulator for one scheduler: the test tells each scheduler's cloud
 * calls apart, and sees when a request starts (a chunk from the client that opens with a method).
 */
interface Relay { readonly url: string; readonly requestsAt: number[]; close(): Promise<void> }

async function relay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target);
  const requestsAt: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (/^(GET|POST|PUT|PATCH|DELETE|HEAD) \//.test(chunk.subarray(0, 8).toString('latin1'))) requestsAt.push(Date.now());
    });
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requestsAt,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** One `meridian serve` process on the shared store, with its own relays to the emulators. */
interface Replica extends ServeProcess {
  readonly relays: Record<CloudId, Relay>;
  /** Its start in progress, if any. */
  starting?: Promise<void>;
}

interface LeaseBody { role: 'leader' | 'follower'; holder?: string; token?: number }

describe('several schedulers on one PostgreSQL', function () {
  // Bounded by its own waits: each takeover within the lease + 5 s, each restart within 60 s (starts take tens of
  // seconds on a loaded machine), convergence within 60 s; the hook starts PostgreSQL, three emulators, three schedulers.
  this.timeout(420_000);
  let db: TestPostgres | undefined;
  let emus: RunningEmulators | undefined;
  let dir: string | undefined;
  const replicas: Replica[] = [];

  const configOf = (r: Replica): string => {
    const file = join(dir as string, `${r.name}.json`);
    const providers = structuredClone((emus as RunningEmulators).providersConfig) as unknown as Record<string, unknown> & Record<CloudId, { endpoint: string }>;
    for (const c of CLOUDS) providers[c] = { ...providers[c], endpoint: r.relays[c].url };
    writeFileSync(file, JSON.stringify({
      scheduler: {
        dataDir: join(dir as string, r.name),
        api: { token: TOKEN, port: 0 },
        reconciler: { intervalMs: 100, refreshIntervalSeconds: 0.5, concurrencyPerRegion: 4, capacityCoolDownSeconds: 2 },
        store: { url: `postgres://postgres@127.0.0.1:${(db as TestPostgres).port}/postgres`, lease: LEASE },
        shutdownGraceSeconds: 1,
      },
      providers,
    }));
    return file;
  };

  const start = (r: Replica): Promise<void> => {
    const p = r.starting = launch(r);
    return p.finally(() => { if (r.starting === p) r.starting = undefined; });
  };
  /** Every replica started (none in the middle of a start). */
  const allUp = async (): Promise<void> => { await Promise.all(replicas.map((r) => r.starting)); };

  const launch = async (r: Replica): Promise<void> => {
    await launchServe(r, configOf(r));
  };

  const kill = async (r: Replica, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (r.proc && r.proc.exitCode === null && r.proc.signalCode === null) {
      r.proc.kill(signal);
      await r.exited;
    }
  };

  const leaseOf = async (r: Replica): Promise<LeaseBody | undefined> => {
    if (!r.url || r.proc?.exitCode !== null || r.proc.signalCode !== null) return undefined;
    try {
      const res = await fetch(`${r.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      return (await res.json() as { lease?: LeaseBody }).lease;
    } catch {
      return undefined;
    }
  };

  /** The one replica that says it leads, once exactly one does. */
  const leader = (among: readonly Replica[] = replicas, timeoutMs = 15_000, intervalMs = 25): Promise<Replica> => waitForValue('exactly one leader', async () => {
    const roles = await Promise.all(among.map((r) => leaseOf(r)));
    const leading = among.filter((_r, i) => roles[i]?.role === 'leader');
    return leading.length === 1 ? leading[0] : undefined;
  }, timeoutMs, intervalMs);

  const api = async (r: Replica, method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${r.url as string}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} on ${r.name}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  };

  /** The replica PostgreSQL says holds an unexpired lease now, if any (its holder names the process id). */
  const holder = async (): Promise<Replica | undefined> => {
    const c = new pg.Client({ ...(db as TestPostgres).connection, connectionTimeoutMillis: 2_000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const row = (await c.query<{ holder: string }>("SELECT holder FROM meridian_lease WHERE name = 'meridian-scheduler' AND expires_at > now()")).rows[0];
      const pid = row ? Number(row.holder.split(':')[1]) : undefined;
      return replicas.find((r) => r.proc !== undefined && r.proc.pid === pid && r.proc.exitCode === null && r.proc.signalCode === null);
    } catch {
      return undefined;
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  /** The emulators hold exactly the desired instances of `name`: no duplicate key, none the leader does not know of. */
  const exactly = async (name: string, count: number, timeoutMs: number): Promise<void> => {
    let last = '';
    await waitFor(`exactly ${count} instances of ${name}`, async () => {
      const lead = await leader(replicas, 10_000);
      const w = await api(lead, 'GET', `/v1/workloads/${name}`) as { status: { converged: boolean } };
      const live = await liveInstances(emus as RunningEmulators, name);
      const keys = live.map((i) => i.tags[MERIDIAN_TAGS.key]);
      const known = new Set((await api(lead, 'GET', `/v1/workloads/${name}/instances`) as { items: Array<{ key: string; id: string | null }> }).items.map((i) => i.key));
      last = `converged ${w.status.converged}, ${live.length} live, ${new Set(keys).size} keys, unknown ${keys.filter((k) => !known.has(k)).length}`;
      return w.status.converged && live.length === count && new Set(keys).size === count && keys.every((k) => known.has(k));
    }, timeoutMs, 200).catch((err: Error) => { throw new Error(`${err.message} (${last})`); });
  };

  before(async () => {
    dir = tempDataDir('ha');
    db = await startPostgres();
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 100, resilience: FAST_RESILIENCE });
    for (const name of ['a', 'b', 'c']) {
      const relays = Object.fromEntries(await Promise.all(CLOUDS.map(async (c) => [c, await relay((emus as RunningEmulators)[c].url)] as const))) as Record<CloudId, Relay>;
      replicas.push({ name, relays, err: '' });
    }
    await Promise.all(replicas.map((r) => start(r)));
  });

  after(async () => {
    await Promise.all(replicas.map((r) => kill(r)));
    for (const r of replicas) for (const x of Object.values(r.relays)) await x.close();
    await emus?.stop();
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps one leader among three, which a follower replaces within the lease + 1 s each of ten SIGKILLs during rollouts, ending with exactly the desired instances', async () => {
    const random = seededRandom(Date.now() % 1_000_000);
    const first = await leader();
    // Every replica serves the API: the documents go in through a follower.
    const follower = replicas.find((r) => r !== first) as Replica;
    await api(follower, 'PUT', '/v1/policies/ha', threeCloudPolicy('ha', 6));
    let image = 'v1';
    await api(follower, 'PUT', '/v1/workloads/ha', smallWorkload('ha', 12, 'ha', image));
    const takeovers: number[] = [];
    const restarting = new Map<Replica, Promise<void>>();
    const t0 = Date.now();
    for (let round = 0; round < 10; round++) {
      // Killed schedulers come back meanwhile; at least two run when a leader is killed.
      while (replicas.length - restarting.size < 2) await Promise.race(restarting.values());
      const lead = await waitForValue('the lease holder, serving', async () => {
        const h = await holder();
        return h && !restarting.has(h) ? h : undefined;
      }, 60_000, 25);
      const others = replicas.filter((r) => r !== lead && !restarting.has(r));
      // A new rollout (every replica replaced, make-before-break), applied through a follower, then the leader dies mid-way.
      image = image === 'v1' ? 'v2' : 'v1';
      await api(others[0], 'PUT', '/v1/workloads/ha', smallWorkload('ha', 12, 'ha', image));
      await new Promise((r) => setTimeout(r, 200 + random() * 1_200));
      await kill(lead);
      const killedAt = Date.now();
      // The database says who holds the lease: a scheduler still starting may be the one that takes it.
      const next = await waitForValue('a new lease holder', async () => {
        const h = await holder();
        return h && h !== lead ? h : undefined;
      }, (LEASE_S + 5) * 1000, 10);
      takeovers.push((Date.now() - killedAt) / 1000);
      process.stdout.write(`      round ${round + 1} at ${((Date.now() - t0) / 1000).toFixed(1)} s: ${lead.name} killed, ${next.name} leads after ${takeovers[round].toFixed(2)} s\n`);
      restarting.set(lead, start(lead).then(() => { restarting.delete(lead); }));
    }
    await Promise.all(restarting.values());
    process.stdout.write(`      takeovers after SIGKILL (s): ${takeovers.map((t) => t.toFixed(2)).join(' ')}\n`);
    for (const t of takeovers) assert.ok(t <= LEASE_S + 1, `a follower took over ${t.toFixed(2)} s after the leader died (lease ${LEASE_S} s)`);
    await exactly('ha', 12, 60_000);
  });

  it('lets a leader stopped for longer than its lease make no cloud call once it continues, and it steps down', async () => {
    await allUp();
    const lead = await leader();
    await api(lead, 'PUT', '/v1/policies/ha', threeCloudPolicy('ha', 6));
    await api(lead, 'PUT', '/v1/workloads/paused', smallWorkload('paused', 6, 'ha'));
    // Busy when stopped: creates under way and a listing of each region every half second.
    await new Promise((r) => setTimeout(r, 800));
    (lead.proc as ChildProcess).kill('SIGSTOP');
    try {
      const next = await waitForValue('a new lease holder', async () => {
        const h = await holder();
        return h && h !== lead ? h : undefined;
      }, (LEASE_S + 5) * 1000, 20);
      // The new leader carries on, with more replicas, while the old one is still stopped.
      await api(next, 'PUT', '/v1/workloads/paused', smallWorkload('paused', 9, 'ha'));
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      (lead.proc as ChildProcess).kill('SIGCONT');
    }
    const continuedAt = Date.now();
    // Its timers fire at once on waking: a pass, a renewal, listings due long ago.
    await waitFor('the old leader answering as a follower', async () => (await leaseOf(lead))?.role === 'follower', 10_000, 50);
    await new Promise((r) => setTimeout(r, 2_000));
    const late = CLOUDS.flatMap((c) => lead.relays[c].requestsAt.filter((t) => t >= continuedAt));
    assert.deepEqual(late, [], `the deposed leader sent ${late.length} cloud requests after it continued`);
    await exactly('paused', 9, 60_000);
    assert.ok(!/reconcile pass failed|operation .* failed/.test(lead.err), lead.err);
  });

  it('rides out a PostgreSQL restart: one leader again, reconciling resumes and no state is lost', async () => {
    await allUp();
    const first = await leader();
    await api(first, 'PUT', '/v1/policies/ha', threeCloudPolicy('ha', 6));
    await api(first, 'PUT', '/v1/workloads/restart', smallWorkload('restart', 3, 'ha'));
    await exactly('restart', 3, 60_000);
    const before = await api(first, 'GET', '/v1/workloads') as { items: Array<{ name: string; spec: { replicas: number; image: { aws: string } } }> };
    await (db as TestPostgres).shutdown();
    await new Promise((r) => setTimeout(r, 1_500));
    await (db as TestPostgres).restart();
    const lead = await leader(replicas, 30_000);
    const after = await api(lead, 'GET', '/v1/workloads') as typeof before;
    assert.deepEqual(after.items.map((w) => [w.name, w.spec]), before.items.map((w) => [w.name, w.spec]));
    // Reconciling resumes: a change applied now reaches the clouds.
    await api(lead, 'PUT', '/v1/workloads/restart', smallWorkload('restart', 5, 'ha'));
    await exactly('restart', 5, 60_000);
    // Every replica serves again, and the watch revision went on from where it was.
    for (const r of replicas) assert.ok(await leaseOf(r), `${r.name} answers /healthz`);
  });
});
