import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromisedStateStore, SqliteStateStore } from '../../scheduler/store';
import { encodeSse, WatchHub, type WatchEvent, type WorkloadEndpoints } from '../../scheduler/watch';

const endpoints = (name: string, ip: string): WorkloadEndpoints => ({
  name, dns: { name: `${name}.meridian.test`, ttl: 30 }, residency: null,
  regions: [{ cloud: 'aws', region: 'us-east-1', lat: 38.9, lon: -77.4, country: 'US', continent: 'NA', healthy: true, instances: [{ id: 'i-1', ipv4: ip, healthy: true }] }],
});

describe('WatchHub', () => {
  it('publishes a change once, with the next revision, and nothing when the endpoints did not change', async () => {
    const store = new SqliteStateStore({ dataDir: ':memory:' });
    const current = new Map<string, WorkloadEndpoints>();
    const hub = await new WatchHub(new PromisedStateStore(store), (n) => current.get(n), { debounceMs: 10_000 }).load();
    const events: WatchEvent[] = [];
    const { snapshot, unsubscribe } = hub.subscribe((e) => events.push(e));
    assert.deepEqual(snapshot, { type: 'snapshot', revision: 0, stateId: store.stateId(), workloads: [] });
    current.set('web', endpoints('web', '192.0.2.1'));
    hub.invalidate('web');
    hub.invalidate('web');
    await hub.flush();
    hub.invalidate('web');
    await hub.flush();
    assert.deepEqual(events.map((e) => [e.type, e.revision]), [['upsert', 1]]);
    current.set('web', endpoints('web', '192.0.2.2'));
    hub.invalidate('web');
    await hub.flush();
    current.delete('web');
    hub.invalidate('web');
    await hub.flush();
    assert.deepEqual(events.map((e) => [e.type, e.revision]), [['upsert', 1], ['upsert', 2], ['delete', 3]]);
    unsubscribe();
    hub.close();
    store.close();
  });

  it('recomputes, when a region\'s health changes, only the workloads published in that region', async () => {
    const store = new SqliteStateStore({ dataDir: ':memory:' });
    const current = new Map<string, WorkloadEndpoints>([['web', endpoints('web', '192.0.2.1')], ['api', endpoints('api', '192.0.2.2')]]);
    const eu = endpoints('eu', '192.0.2.3');
    current.set('eu', { ...eu, regions: [{ ...eu.regions[0], region: 'eu-central-1' }] });
    const computed: string[] = [];
    const hub = await new WatchHub(new PromisedStateStore(store), (n) => { computed.push(n); return current.get(n); }, { debounceMs: 10_000 }).load();
    for (const n of ['web', 'api', 'eu']) hub.invalidate(n);
    await hub.flush();
    computed.length = 0;
    hub.invalidateRegion('aws', 'us-east-1');
    await hub.flush();
    assert.deepEqual(computed, ['api', 'web']);
    hub.invalidateRegion('azure', 'us-east-1');
    await hub.flush();
    assert.deepEqual(computed, ['api', 'web']);
    hub.close();
    store.close();
  });

  it('names the state in its snapshots: the same across restarts of one store, another for a new store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-state-id-'));
    try {
      const first = new SqliteStateStore({ dataDir: dir });
      const id = first.stateId();
      first.close();
      const reopened = new SqliteStateStore({ dataDir: dir });
      assert.match(id, /^[0-9a-f]{12}$/);
      assert.equal(reopened.stateId(), id);
      reopened.close();
      const other = new SqliteStateStore({ dataDir: ':memory:' });
      assert.notEqual(other.stateId(), id);
      other.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ignores changes after it is closed, so a late reconcile pass never reads a closed store', async () => {
    const store = new SqliteStateStore({ dataDir: ':memory:' });
    let computed = 0;
    const hub = await new WatchHub(new PromisedStateStore(store), () => { computed++; return endpoints('web', '192.0.2.1'); }, { debounceMs: 1 }).load();
    hub.close();
    store.close();
    hub.invalidate('web');
    // Timers fire in order of expiry: a flush due after 1 ms would have run (and thrown) before this one.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(computed, 0);
  });

  it('encodes an event as one Server-Sent Events frame with a single line of JSON', () => {
    const frame = encodeSse({ type: 'delete', revision: 44, name: 'web' });
    assert.equal(frame, 'event: delete\nid: 44\ndata: {"revision":44,"name":"web"}\n\n');
  });
});
