import assert from 'node:assert/strict';
import { GeoTable, GeoTableHolder, makeLocation } from '../../dns/geoip';
import { exampleZoneConfig, startDnsServer } from '../../dns/index';
import { QTYPE } from '../../dns/wire/index';
import { FAIL_OPEN, chooseRegion } from '../../dns/answer/select';
import { WorkloadAnswer } from '../../dns/answer/workload';
import { runDecision, runEnd, runIndex, runStart } from '../../dns/answer/decisions';
import { addressesOf, ecsOf, haversineKm, query, region, workload } from './fixtures';

const LIMITS = { ttlMinSeconds: 5, ttlMaxSeconds: 300, maxAddresses: 8 };

/** A small table: 10.0.0.0/16 as two Paris ranges, 10.1.0.0/24 Tokyo, a gap, 10.2.0.0/16 Paris, 10.3.0.0/22 New York. */
function smallTable(): GeoTable {
  return GeoTable.fromEntries([
    { range: '10.0.0.0/17', lat: 48.85, lon: 2.35, country: 'FR' },
    { range: '10.0.128.0/17', lat: 48.85, lon: 2.35, country: 'FR' },
    { range: '10.1.0.0/24', lat: 35.68, lon: 139.69, country: 'JP' },
    { range: '10.2.0.0/16', lat: 48.85, lon: 2.35, country: 'FR' },
    { range: '10.3.0.0/22', lat: 40.71, lon: -74.0, country: 'US' },
  ]);
}

describe('GeoDNS answer selection', () => {
  const regions = [region('aws', 'us-east-1', ['192.0.2.1']), region('azure', 'westeurope', ['192.0.2.2']), region('aws', 'ap-northeast-1', ['192.0.2.3'])];

  it('picks the nearest healthy region, then the next, and fails open when none is healthy', () => {
    const w = workload('web', regions);
    const paris = makeLocation(48.85, 2.35, 'FR');
    const nearest = regions.map((r, i) => [haversineKm(48.85, 2.35, r.lat, r.lon), i] as const).sort((a, b) => a[0] - b[0]);
    assert.equal(chooseRegion(w, 4, paris), nearest[0]![1]);
    const sick = workload('web', regions.map((r, i) => (i === nearest[0]![1] ? { ...r, healthy: false } : r)));
    assert.equal(chooseRegion(sick, 4, paris), nearest[1]![1]);
    const dead = workload('web', regions.map((r) => ({ ...r, instances: r.instances.map((x) => ({ ...x, healthy: false })) })));
    assert.equal(chooseRegion(dead, 4, paris), FAIL_OPEN);
    assert.equal(chooseRegion(w, 4, undefined), 0, 'unknown location: first region in order');
  });

  it('prefers regions allowed by residency even when others are nearer', () => {
    const w = workload('web', regions, { residency: { countries: ['JP'] } });
    assert.equal(chooseRegion(w, 4, makeLocation(48.85, 2.35, 'FR')), 2);
  });

  it('merges adjacent table ranges with the same decision into one ECS scope, and never across a different decision', () => {
    const table = smallTable();
    const w = new WorkloadAnswer(workload('web', regions), LIMITS);
    const runs = w.runs(4, table);
    // Brute force over 10.0.0.0-10.3.255.255 in /24 steps: every address of a run has its decision.
    for (let a = (10 << 24) >>> 0; a < ((10 << 24) >>> 0) + 4 * 65536; a += 256) {
      const r = runIndex(runs, a);
      assert.ok(runStart(runs, r) <= a && a <= runEnd(runs, r));
      const i = table.findV4(a);
      const want = i < 0 ? w.unknownDecision(4) : chooseRegion(w.endpoints, 4, table.locationOfV4(i));
      assert.equal(runDecision(runs, r), want, `decision at ${a}`);
    }
    // 10.0.0.0/16 is two Paris ranges: merged into one run, so a client there gets scope 16 or wider.
    const r0 = runIndex(runs, ((10 << 24) >>> 0) + 5);
    assert.ok(runStart(runs, r0) <= ((10 << 24) >>> 0) && runEnd(runs, r0) >= ((10 << 24) >>> 0) + 65535);
  });

  it('follows a GeoIP table swap: the next answers use the new table', async () => {
    const holder = new GeoTableHolder(smallTable());
    const server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: holder, workloads: [workload('web', regions)], log: () => undefined });
    try {
      const before = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '10.0.5.0/24' });
      assert.deepEqual(addressesOf(before), ['192.0.2.2'], 'Paris goes to westeurope');
      assert.equal(ecsOf(before)?.scope, 16, 'the two Paris halves merge into 10.0.0.0/16; 10.1.0.0/24 is Tokyo, so /15 would be too wide');
      holder.swap(GeoTable.fromEntries([{ range: '10.0.0.0/8', lat: 35.68, lon: 139.69, country: 'JP' }]));
      const after = await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '10.0.5.0/24' });
      assert.deepEqual(addressesOf(after), ['192.0.2.3'], 'now Tokyo');
      assert.equal(ecsOf(after)?.scope, 8);
    } finally {
      await server.close();
    }
  });
});
