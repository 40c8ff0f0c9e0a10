import { strict as assert } from 'node:assert';
import type { ClientRequest } from 'node:http';
import { loadSchedulerConfig } from '../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../scheduler/service';
import { PromisedStateStore, SqliteStateStore } from '../../scheduler/store';
import { encodeSse, WatchHub, type WorkloadEndpoints } from '../../scheduler/watch';
import { openEventStream, type SseFrame } from '../tools/sse';
import { FakeCloud, waitFor } from './fakes';

const TOKEN = 'watch-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

const policyDoc = {
  apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'eu' },
  spec: { regions: { allow: ['aws:eu-central-1', 'azure:westeurope'] }, objective: 'cost' },
};

const workloadBody = (name: string, ttl = 30) => ({
  name, replicas: 0,
  size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
  image: { aws: 'ami-0123456789abcdef0', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase' },
  policy: 'eu', dns: { name: `${name}.meridian.test`, ttl },
});

type Frame = SseFrame;

/** A watcher over a real HTTP stream, collecting its events. */
function watch(url: string, query = '', headers: Record<string, string> = {}): { frames: Frame[]; req: ClientRequest } {
  const frames: Frame[] = [];
  const req = openEventStream(`${url}/v1/watch${query}`, { ...auth, ...headers }, (f) => { if (f.comment === undefined) frames.push(f); });
  return { frames, req };
}

async function put(url: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(`${url}${path}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(r.status === 200 || r.status === 201, `PUT ${path}: ${r.status} ${await r.text()}`);
}

async function del(url: string, path: string): Promise<void> {
  const r = await fetch(`${url}${path}`, { method: 'DELETE', headers: auth });
  assert.equal(r.status, 202, `DELETE ${path}`);
}

const names = (ws: unknown): string[] => (ws as WorkloadEndpoints[]).map((w) => w.name).sort();

describe('watch stream over HTTP', function () {
  this.timeout(30_000);
  let svc: SchedulerService | undefined;
  const open: ClientRequest[] = [];

  async function start(watchLogEvents?: number): Promise<SchedulerService> {
    const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    const config = loadSchedulerConfig({
      dataDir: ':memory:', api: { token: TOKEN, port: 0, host: '127.0.0.1', ...(watchLogEvents !== undefined ? { watchLogEvents } : {}) },
      reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.2 },
    });
    svc = await startScheduler({ config, providers: {}, provider: (c) => clouds[c], log: () => undefined });
    await put(svc.url, '/v1/policies/eu', policyDoc);
    return svc;
  }

  function watcher(s: SchedulerService, query = '', headers: Record<string, string> = {}): Frame[] {
    const w = watch(s.url, query, headers);
    open.push(w.req);
    return w.frames;
  }

  afterEach(async () => {
    for (const r of open.splice(0)) r.destroy();
    await svc?.stop();
    svc = undefined;
  });

  it('sends exactly the workloads a write changed, each once, with consecutive revisions', async () => {
    const s = await start();
    for (let i = 0; i < 20; i++) await put(s.url, `/v1/workloads/w${i}`, workloadBody(`w${i}`));
    await waitFor('20 workloads published', () => s.watch.snapshot().workloads.length === 20);
    const frames = watcher(s);
    await waitFor('snapshot', () => frames.length === 1);
    assert.equal(frames[0].event, 'snapshot');
    assert.deepEqual(names(frames[0].data.workloads), Array.from({ length: 20 }, (_, i) => `w${i}`).sort());
    const base = frames[0].data.revision as number;

    // Three changed, one rewritten as it was, one deleted.
    await put(s.url, '/v1/workloads/w3', workloadBody('w3', 60));
    await put(s.url, '/v1/workloads/w7', workloadBody('w7', 60));
    await put(s.url, '/v1/workloads/w11', workloadBody('w11', 60));
    await put(s.url, '/v1/workloads/w12', workloadBody('w12'));
    await del(s.url, '/v1/workloads/w15');
    await waitFor('four events', () => frames.length >= 5);
    // A later change marks the end: anything else published for the writes above would come before it.
    await put(s.url, '/v1/workloads/sentinel', workloadBody('sentinel'));
    await waitFor('the sentinel', () => frames.some((f) => (f.data.workload as WorkloadEndpoints | undefined)?.name === 'sentinel'));

    const events = frames.slice(1).map((f) => `${f.event} ${String(f.event === 'delete' ? f.data.name : (f.data.workload as WorkloadEndpoints).name)}`);
    // Within one batch events come by name; batches come in the order of the writes.
    assert.deepEqual(events.slice(0, 4).sort(), ['delete w15', 'upsert w11', 'upsert w3', 'upsert w7'], `events: ${events.join(', ')}`);
    assert.deepEqual(events.slice(4), ['upsert sentinel'], `events: ${events.join(', ')}`);
    for (const f of frames.slice(1, 5)) if (f.event === 'upsert') assert.equal((f.data.workload as WorkloadEndpoints).dns?.ttl, 60);
    assert.deepEqual(frames.slice(1).map((f) => f.data.revision), [1, 2, 3, 4, 5].map((k) => base + k));
    assert.deepEqual(frames.slice(1).map((f) => Number(f.id)), [1, 2, 3, 4, 5].map((k) => base + k));
  });

  it('gives a watcher that comes back only what it missed while the log holds it, and a correct full state once it does not', async () => {
    const s = await start(2);
    for (let i = 0; i < 5; i++) await put(s.url, `/v1/workloads/w${i}`, workloadBody(`w${i}`));
    await waitFor('5 workloads published', () => s.watch.snapshot().workloads.length === 5);
    const first = watcher(s);
    await waitFor('snapshot', () => first.length === 1);
    const { revision, stateId } = first[0].data as { revision: number; stateId: string };
    open.splice(0).forEach((r) => r.destroy());

    // Missed while away: more events than the log keeps.
    for (let i = 0; i < 5; i++) await put(s.url, `/v1/workloads/w${i}`, workloadBody(`w${i}`, 100 + i));
    await put(s.url, '/v1/workloads/w9', workloadBody('w9'));
    await del(s.url, '/v1/workloads/w1');
    const ttls = () => s.watch.snapshot().workloads.map((w) => [w.name, w.dns?.ttl]).sort();
    const expected = [['w0', 100], ['w2', 102], ['w3', 103], ['w4', 104], ['w9', 30]];
    await waitFor('changes published', () => JSON.stringify(ttls()) === JSON.stringify(expected));
    const now = await s.store.currentRevision();
    assert.ok(now - revision >= 5, `${now - revision} events missed`);

    const back = watcher(s, `?stateId=${stateId}&since=${revision}`);
    await waitFor('a full state', () => back.length === 1);
    assert.equal(back[0].event, 'snapshot');
    assert.equal(back[0].data.revision, now);
    const state = back[0].data.workloads as WorkloadEndpoints[];
    assert.deepEqual(state.map((w) => [w.name, w.dns?.ttl]).sort(), expected);
    assert.deepEqual(state, s.watch.snapshot().workloads);

    // One event behind, within the log: that event alone, then live ones.
    await waitFor('the first watcher gone', () => s.watch.subscribers() === 1);
    const resumed = watcher(s, `?stateId=${stateId}`, { 'last-event-id': String(now - 1) });
    await waitFor('connected', () => s.watch.subscribers() === 2);
    await put(s.url, '/v1/workloads/w0', workloadBody('w0', 7));
    await waitFor('the missed event and the live one', () => resumed.length >= 2);
    assert.deepEqual(resumed.map((f) => f.data.revision), [now, now + 1]);
    assert.equal((resumed[1].data.workload as WorkloadEndpoints).dns?.ttl, 7);

    // Another state's revision is no base to resume from.
    const stranger = watcher(s, `?stateId=0000000000ff&since=${now + 1}`);
    await waitFor('a full state for a stranger', () => stranger.length === 1);
    assert.equal(stranger[0].event, 'snapshot');
    assert.equal(stranger[0].data.revision, now + 1);
  });
});

describe('WatchHub snapshots', () => {
  it('streams a snapshot in chunks that join into exactly the snapshot event', async () => {
    const store = new SqliteStateStore({ dataDir: ':memory:' });
    const current = new Map<string, WorkloadEndpoints>();
    for (let i = 0; i < 2000; i++) {
      const name = `w${String(i).padStart(4, '0')}`;
      store.putWorkload({ name, replicas: 0, size: { vcpu: 1, memoryGiB: 1 }, image: {}, policy: 'p' } as never);
      current.set(name, { name, dns: { name: `${name}.meridian.test`, ttl: 30 }, residency: null, regions: [] });
    }
    const hub = await new WatchHub(new PromisedStateStore(store), (n) => current.get(n), { debounceMs: 10_000 }).load();
    const live: Buffer[] = [];
    const stream = hub.open((frame) => live.push(frame));
    const other: Buffer[] = [];
    const otherStream = hub.open((frame) => other.push(frame));
    // A change after the stream opened is not in its snapshot: it comes live, after it.
    current.set('w0001', { ...current.get('w0001')!, dns: { name: 'w0001.meridian.test', ttl: 5 } });
    hub.invalidate('w0001');
    await hub.flush();
    const chunks = [...stream.initial];
    assert.equal(stream.kind, 'snapshot');
    assert.ok(chunks.length > 1, `${chunks.length} chunk(s)`);
    const expected = { type: 'snapshot' as const, revision: 0, stateId: store.stateId(), workloads: [...current.values()].map((w) => (w.name === 'w0001' ? { ...w, dns: { name: 'w0001.meridian.test', ttl: 30 } } : w)) };
    assert.equal(chunks.join(''), encodeSse(expected));
    assert.equal(live.length, 1);
    assert.match(live[0].toString('utf8'), /^event: upsert\nid: 1\ndata: \{"revision":1,"workload":\{"name":"w0001".*"ttl":5/);
    // Encoded once for every watcher: the very same bytes go to each socket.
    assert.equal(other.length, 1);
    assert.equal(other[0], live[0]);
    otherStream.unsubscribe();
    stream.unsubscribe();
    hub.close();
    store.close();
  });
});
