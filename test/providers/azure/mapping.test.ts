import { strict as assert } from 'node:assert';
import { parseImage, stateOf, tagValueFor, toInstance, vmNameFor } from '../../../providers/azure/mapping';

describe('providers/azure mapping', () => {
  it('derives the same valid VM name from the same idempotency key, and different names from different keys', () => {
    const a = vmNameFor('workload/web/replica-0');
    assert.equal(a, vmNameFor('workload/web/replica-0'));
    assert.notEqual(a, vmNameFor('workload/web/replica-1'));
    assert.match(a, /^mer-[0-9a-f]{24}$/);
    assert.ok(vmNameFor('ключ-🙂'.repeat(100)).length <= 64);
  });

  it('keeps short tag values and shortens long ones deterministically to 256 characters', () => {
    assert.equal(tagValueFor('short'), 'short');
    const long = 'x'.repeat(1000);
    assert.equal(tagValueFor(long).length, 256);
    assert.equal(tagValueFor(long), tagValueFor(long));
    assert.notEqual(tagValueFor(long), tagValueFor(`${long}y`));
  });

  it('parses image URNs and image resource ids and rejects anything else', () => {
    assert.deepEqual(parseImage('Canonical:ubuntu-24_04-lts:server:latest'),
      { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' });
    const id = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/golden';
    assert.deepEqual(parseImage(id), { id });
    assert.equal(parseImage('ubuntu'), undefined);
    assert.equal(parseImage('a::c:d'), undefined);
  });

  it('derives the state from provisioning state and the instance view power state', () => {
    assert.equal(stateOf({ location: 'eastus', provisioningState: 'Creating' }), 'pending');
    assert.equal(stateOf({ location: 'eastus', provisioningState: 'Deleting' }), 'terminating');
    assert.equal(stateOf({ location: 'eastus', provisioningState: 'Succeeded' }), 'running');
    const withPower = (code: string) => stateOf({ location: 'eastus', provisioningState: 'Succeeded', instanceView: { statuses: [{ code }] } });
    assert.equal(withPower('PowerState/starting'), 'pending');
    assert.equal(withPower('PowerState/deallocated'), 'stopped');
    assert.equal(withPower('PowerState/stopping'), 'stopping');
  });

  it('maps a VM to an instance with a normalized region', () => {
    const i = toInstance({
      name: 'mer-1', location: 'East US', provisioningState: 'Succeeded', hardwareProfile: { vmSize: 'Standard_B1s' },
      tags: { a: 'b' }, timeCreated: new Date('2026-01-01T00:00:00Z'),
    }, { privateIp: '10.0.0.4' });
    assert.deepEqual(i, {
      cloud: 'azure', region: 'eastus', id: 'mer-1', state: 'running', size: 'Standard_B1s', privateIp: '10.0.0.4',
      tags: { a: 'b' }, launchedAt: '2026-01-01T00:00:00.000Z',
    });
  });
});
