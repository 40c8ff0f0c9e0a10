import { strict as assert } from 'node:assert';
import { RegionHealth, type RegionHealthState } from '../../../scheduler/reconciler';

const brief = (s: RegionHealthState): string => `${s.cloud}/${s.region} ${s.healthy ? 'healthy' : 'unhealthy'} ${s.lastError ?? '-'}`;

describe('RegionHealth', () => {
  it('tells update listeners of flips and of a new error only: not of each failing call, nor of the breaker refusing between failures', () => {
    const h = new RegionHealth(2, () => 1_000);
    const updates: string[] = [];
    const flips: string[] = [];
    h.onUpdate((s) => updates.push(brief(s)));
    h.onChange((s) => flips.push(brief(s)));
    h.record('aws', 'us-east-1', 'unavailable', 'ServiceUnavailable');
    assert.deepEqual(updates, []);
    for (const code of ['ServiceUnavailable', 'CircuitOpen', 'ServiceUnavailable', 'CircuitOpen', 'ServiceUnavailable']) h.record('aws', 'us-east-1', 'unavailable', code);
    h.record('aws', 'us-east-1', 'throttled', 'Throttling');
    assert.deepEqual(updates, ['aws/us-east-1 unhealthy ServiceUnavailable']);
    h.record('aws', 'us-east-1', 'unavailable', 'InternalError');
    h.record('aws', 'us-east-1', 'ok');
    h.record('aws', 'us-east-1', 'ok');
    assert.deepEqual(updates, ['aws/us-east-1 unhealthy ServiceUnavailable', 'aws/us-east-1 unhealthy InternalError', 'aws/us-east-1 healthy -']);
    assert.deepEqual(flips, ['aws/us-east-1 unhealthy ServiceUnavailable', 'aws/us-east-1 healthy -']);
  });

  it('adopts stored states, telling change listeners of the regions that flipped and update listeners of nothing', () => {
    const h = new RegionHealth(3, () => 5_000);
    const updates: string[] = [];
    const flips: string[] = [];
    h.onUpdate((s) => updates.push(brief(s)));
    h.onChange((s) => flips.push(brief(s)));
    const down: RegionHealthState = { cloud: 'azure', region: 'westeurope', healthy: false, breaker: 'open', consecutiveFailures: 3, lastError: 'ServiceUnavailable', sinceMs: 2_000 };
    h.adopt([down, { ...down, region: 'eastus', healthy: true, breaker: 'closed', consecutiveFailures: 0 }]);
    assert.equal(h.isHealthy('azure', 'westeurope'), false);
    assert.deepEqual(h.state('azure', 'westeurope'), down);
    h.adopt([down]);
    assert.deepEqual(flips, ['azure/westeurope unhealthy ServiceUnavailable']);
    // The same error as stored is no news; a success is.
    h.record('azure', 'westeurope', 'unavailable', 'ServiceUnavailable');
    assert.deepEqual(updates, []);
    h.adopt([]);
    assert.equal(h.isHealthy('azure', 'westeurope'), true);
    assert.deepEqual(flips, ['azure/westeurope unhealthy ServiceUnavailable', 'azure/westeurope healthy -']);
    assert.deepEqual(updates, []);
  });
});
