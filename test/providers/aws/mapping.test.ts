import { strict as assert } from 'node:assert';
import { clientTokenFor, instanceTags, keyTagValue, toInstance, toInstanceState } from '../../../providers/aws/mapping';
import { CloudError } from '../../../providers/errors';
import { MERIDIAN_TAGS } from '../../../providers/types';

describe('providers/aws mapping', () => {
  it('maps every EC2 state name, and the state code when the name is missing', () => {
    assert.deepEqual(
      ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'].map((s) => toInstanceState(s)),
      ['pending', 'running', 'terminating', 'terminated', 'stopping', 'stopped'],
    );
    // The high byte of the code is EC2-internal and ignored.
    assert.equal(toInstanceState(undefined, 256 + 16), 'running');
    assert.throws(() => toInstanceState('hibernating', 999), (e: unknown) => e instanceof CloudError && e.code === 'UnknownInstanceState');
  });

  it('keeps short ASCII keys as the ClientToken and hashes others deterministically', () => {
    assert.equal(clientTokenFor('web-0'), 'web-0');
    const long = 'k'.repeat(65);
    assert.equal(clientTokenFor(long), clientTokenFor(long));
    assert.notEqual(clientTokenFor(long), clientTokenFor(`${long}x`));
    assert.ok(clientTokenFor(long).length <= 64);
    assert.ok(clientTokenFor('clé').length <= 64 && /^[\x21-\x7e]+$/.test(clientTokenFor('clé')));
    assert.notEqual(clientTokenFor('with space'), 'with space');
    assert.match(keyTagValue('x'.repeat(300)), /^sha256:[0-9a-f]{64}$/);
  });

  it("adds Meridian's tags and sorts all tags by key so retries send identical requests", () => {
    const tags = instanceTags({ workload: 'web', cloud: 'aws', region: 'us-east-1', size: 't3.micro', image: 'ami-1', tags: { z: '1', a: '2' }, idempotencyKey: 'k' });
    assert.deepEqual(tags.map((t) => t.Key), ['a', MERIDIAN_TAGS.key, MERIDIAN_TAGS.workload, 'z']);
  });

  it('turns an SDK instance into an Instance with tags, addresses and an ISO launch time', () => {
    const i = toInstance('eu-central-1', {
      InstanceId: 'i-0123456789abcdef0', InstanceType: 'm6i.large', State: { Name: 'running', Code: 16 },
      PublicIpAddress: '3.1.2.3', PrivateIpAddress: '10.0.0.1', Tags: [{ Key: 'team', Value: 'blue' }], LaunchTime: new Date(Date.UTC(2026, 0, 2)),
    });
    assert.deepEqual(i, {
      cloud: 'aws', region: 'eu-central-1', id: 'i-0123456789abcdef0', state: 'running', size: 'm6i.large',
      publicIp: '3.1.2.3', privateIp: '10.0.0.1', tags: { team: 'blue' }, launchedAt: '2026-01-02T00:00:00.000Z',
    });
  });
});
