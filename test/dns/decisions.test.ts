import assert from 'node:assert/strict';
import { GeoTable, GeoTableHolder } from '../../dns/geoip';
import { defaultGeoTable, exampleZoneConfig, startDnsServer } from '../../dns/index';
import { QTYPE } from '../../dns/wire/index';
import { WorkloadStore } from '../../dns/answer/store';
import { RunsBuilder, runDecision, runIndex } from '../../dns/answer/decisions';
import { decisionOf, LOCATION_VIA, locateV4, scopeOf } from '../../dns/answer/locate';
import { addressesOf, ecsOf, query, region, workload } from './fixtures';
import { waitFor } from '../tools/wait';

const LIMITS = { ttlMinSeconds: 5, ttlMaxSeconds: 300, maxAddresses: 8 };

const SETS = [
  [region('aws', 'us-east-1', ['192.0.2.1']), region('azure', 'westeurope', ['192.0.2.2']), region('aws', 'ap-northeast-1', ['192.0.2.3'])],
  [region('aws', 'eu-central-1', ['192.0.2.4']), region('azure', 'westus2', ['192.0.2.5'])],
  [region('alibaba', 'cn-hangzhou', ['192.0.2.6']), region('azure', 'australiaeast', ['192.0.2.7']), region('aws', 'us-east-1', ['192.0.2.8'])],
];

function storeOf(count: number): WorkloadStore {
  const store = new WorkloadStore(LIMITS, () => true);
  // Each workload its own addresses (instance ids differ), the region sets repeating.
  store.replaceAll(Array.from({ length: count }, (_, n) => workload(`w${n}`, SETS[n % SETS.length]!.map((r) => ({
    ...r, instances: r.instances.map((i) => ({ ...i, id: `${i.id}-${n}` })) })))));
  return store;
}

describe('GeoDNS decision structures shared by region set', () => {
  it('gives 1,000 workloads over 3 region sets 3 IPv4 structures (and one for their absent IPv6), and frees them when the workloads go', async () => {
    const store = storeOf(1000);
    // 3 region sets for A, one "no address" set for AAAA shared by all.
    assert.equal(store.decisions.size, 4);
    const answers = store.answers();
    assert.equal(answers.length, 1000);
    assert.equal(answers[0]!.sharedDecisions(4), answers[3]!.sharedDecisions(4));
    assert.notEqual(answers[0]!.sharedDecisions(4), answers[1]!.sharedDecisions(4));
    assert.equal(answers[0]!.sharedDecisions(4).refs, 334);

    const table = defaultGeoTable();
    store.decisions.prepare(table);
    await waitFor('the runs of every region set', () => store.decisions.building === 0, 60_000);
    for (const w of answers) assert.ok(w.runsFor(4, table), `${w.fqdn} has runs`);
    // Memory follows the region sets: three sets of runs, whatever the number of workloads.
    const perSet = answers.slice(0, 3).map((w) => w.sharedDecisions(4).byteLength);
    assert.equal(store.decisions.byteLength, perSet.reduce((a, b) => a + b, 0));
    assert.ok(store.decisions.byteLength < 16 * 2 ** 20, `${store.decisions.byteLength} bytes of runs`);

    // A workload replaced by one of the same region set keeps the structures (no rebuild).
    const shared = answers[0]!.sharedDecisions(4);
    store.upsert(workload('w0', SETS[0]!.map((r) => ({ ...r, instances: r.instances.map((i) => ({ ...i, id: `${i.id}-new` })) }))));
    assert.equal(store.byName('w0.meridian.test')!.sharedDecisions(4), shared);
    assert.ok(shared.runsFor(table), 'runs kept across the update');

    store.replaceAll([]);
    assert.equal(store.decisions.size, 0);
    assert.equal(store.decisions.byteLength, 0);
  });

  it('builds runs in slices after a table swap: answers meanwhile come from the new table\'s ranges with the same decisions', async () => {
    const store = storeOf(3);
    const w = store.answers()[0]!;
    const table = defaultGeoTable();
    // No run exists yet: locating does not build any on the spot, and still decides from the table.
    const probes = Array.from({ length: 2000 }, (_, k) => ((k * 2_147_483 + 16_777_216) >>> 0) & 0xffffff00);
    const direct = probes.map((ip) => locateV4(w, 4, table, ip, 24, LOCATION_VIA.ECS, undefined));
    assert.equal(w.runsFor(4, table), undefined);
    // The build runs between event-loop turns: no turn is held long.
    let longestGapMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
    }, 1);
    const started = performance.now();
    try {
      await waitFor('the runs', () => w.runsFor(4, table) !== undefined, 60_000);
    } finally {
      clearInterval(timer);
    }
    const buildMs = performance.now() - started;
    const runs = w.runsFor(4, table)!;
    probes.forEach((ip, k) => {
      const merged = locateV4(w, 4, table, ip, 24, LOCATION_VIA.ECS, undefined);
      assert.equal(decisionOf(merged), decisionOf(direct[k]!), `decision for ${ip}`);
      assert.equal(decisionOf(merged), runDecision(runs, runIndex(runs, ip)));
      // The merged run is at least as wide as the one range the direct answer was scoped to.
      assert.ok(scopeOf(merged) <= scopeOf(direct[k]!), `scope for ${ip}`);
    });
    assert.ok(table.v4Count > 20 * RunsBuilder.SLICE_RANGES, `the table has ${table.v4Count} ranges`);
    assert.ok(longestGapMs < Math.max(150, buildMs / 4), `an event-loop turn took ${longestGapMs.toFixed(0)} ms of a ${buildMs.toFixed(0)} ms build`);
  });

  it('answers across a swap at once from the new table, and with the merged scope once its runs are built', async () => {
    const paris = (range: string): { range: string; lat: number; lon: number; country: string } => ({ range, lat: 48.85, lon: 2.35, country: 'FR' });
    const holder = new GeoTableHolder(GeoTable.fromEntries([paris('10.0.0.0/17'), paris('10.0.128.0/17')]));
    const server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: holder, workloads: [workload('web', SETS[0]!)],
      log: () => undefined });
    try {
      const q = async (): Promise<{ a: string[]; scope: number | undefined }> => {
        const r = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '10.0.5.0/24' });
        return { a: addressesOf(r), scope: ecsOf(r)?.scope };
      };
      let first = await q();
      assert.deepEqual(first.a, ['192.0.2.2']);
      const deadline = Date.now() + 10_000;
      while (first.scope !== 16 && Date.now() < deadline) first = await q();
      assert.equal(first.scope, 16, 'the two /17 ranges merge into one run');
      holder.swap(GeoTable.fromEntries([{ range: '10.0.0.0/9', lat: 35.68, lon: 139.69, country: 'JP' }, { range: '10.128.0.0/9', lat: 35.68, lon: 139.69, country: 'JP' }]));
      const after = await q();
      assert.deepEqual(after.a, ['192.0.2.3'], 'the next answer already uses the new table');
      assert.ok(after.scope === 9 || after.scope === 8, `scope ${after.scope}`);
    } finally {
      await server.close();
    }
  });
});
