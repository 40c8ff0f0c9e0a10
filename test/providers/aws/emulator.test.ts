import { strict as assert } from 'node:assert';
import {
  DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { SignatureV4 } from '@smithy/signature-v4';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { createHash, createHmac } from 'node:crypto';
import { classifyAwsError } from '../../../providers/aws/classify';
import { AwsEmulator } from '../../../providers/emulator/aws';
import { EmulatorAdmin, TEST_CREDENTIALS } from '../../../providers/emulator/core';
import { waitForValue } from '../../tools/wait';

/** What a failed SDK call carries that these tests look at. */
interface SdkFailure { name: string; $fault?: string; $metadata: { httpStatusCode?: number; requestId?: string }; $response?: { headers: Record<string, string> } }

async function failure(p: Promise<unknown>): Promise<SdkFailure> {
  try {
    await p;
  } catch (err) {
    return err as SdkFailure;
  }
  return assert.fail('expected the call to fail');
}

const run = (overrides: Partial<RunInstancesCommandInput> = {}) => new RunInstancesCommand({
  ImageId: 'ami-0abcdef1234567890', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, ...overrides,
});

describe('providers/emulator/aws (EC2 Query API)', () => {
  let emu: AwsEmulator;
  let clients: EC2Client[] = [];
  const client = (region = 'us-east-1', credentials: { accessKeyId: string; secretAccessKey: string } = { ...TEST_CREDENTIALS.aws }) => {
    const c = new EC2Client({ region, endpoint: emu.url, credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };

  beforeEach(async () => { emu = await new AwsEmulator({ pendingMs: 50, maxPageSize: 7 }).start(); });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    clients = [];
    await emu.stop();
  });

  it('answers RunInstances, DescribeInstances and TerminateInstances to the unchanged SDK', async () => {
    const ec2 = client();
    const out = await ec2.send(run({
      ClientToken: 'tok-1',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'blue' }] }, { ResourceType: 'volume', Tags: [{ Key: 'x', Value: 'y' }] }],
    }));
    assert.match(out.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(out.ReservationId ?? '', /^r-[0-9a-f]{17}$/);
    const inst = out.Instances?.[0];
    assert.equal(inst?.State?.Name, 'pending');
    assert.equal(inst?.State?.Code, 0);
    assert.deepEqual(inst?.Tags, [{ Key: 'team', Value: 'blue' }]);
    assert.equal(inst?.ClientToken, 'tok-1');
    assert.ok(inst?.LaunchTime instanceof Date);

    // pending -> running once pendingMs (50) has passed.
    const now = await waitForValue('the instance to leave pending', async () => {
      const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst?.InstanceId ?? ''] }));
      const i = described.Reservations?.[0]?.Instances?.[0];
      return i?.State?.Name === 'pending' ? undefined : i;
    }, 5_000, 10);
    assert.equal(now?.State?.Name, 'running');
    assert.equal(now?.State?.Code, 16);
    assert.ok(now?.PublicIpAddress);
    assert.ok(now?.PublicDnsName?.endsWith('.amazonaws.com'));

    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [inst?.InstanceId ?? ''] }));
    assert.equal(term.TerminatingInstances?.[0]?.CurrentState?.Name, 'shutting-down');
    assert.equal(term.TerminatingInstances?.[0]?.PreviousState?.Name, 'running');
    const again = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [inst?.InstanceId ?? ''] }));
    assert.equal(again.TerminatingInstances?.[0]?.CurrentState?.Name, 'terminated');
  });

  it('pages DescribeInstances with MaxResults and NextToken and applies tag and state filters', async () => {
    const ec2 = client();
    for (let n = 0; n < 12; n++) {
      await ec2.send(run({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: n % 3 === 0 ? 'red' : 'blue' }] }] }));
    }
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token, Filters: [{ Name: 'tag:team', Values: ['blue'] }] }));
      ids.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId ?? ''));
      token = page.NextToken;
      pages++;
    } while (token);
    assert.equal(ids.length, 8);
    assert.equal(pages, 2);
    // The emulator's maxPageSize (7) caps a larger MaxResults.
    const capped = await ec2.send(new DescribeInstancesCommand({ MaxResults: 1000 }));
    assert.equal(capped.Reservations?.length, 7);
    assert.ok(capped.NextToken);
    const wild = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:team', Values: ['r*'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
    assert.equal(wild.Reservations?.length, 4);
  });

  it('returns the instance again for a reused ClientToken and IdempotentParameterMismatch when parameters differ', async () => {
    const ec2 = client();
    const a = await ec2.send(run({ ClientToken: 'same' }));
    const b = await ec2.send(run({ ClientToken: 'same' }));
    assert.equal(a.Instances?.[0]?.InstanceId, b.Instances?.[0]?.InstanceId);
    const err = await failure(ec2.send(run({ ClientToken: 'same', InstanceType: 'm6i.large' })));
    assert.equal(err.name, 'IdempotentParameterMismatch');
    assert.equal(err.$metadata.httpStatusCode, 400);
    // The same token in another region is another request.
    const c = await client('eu-central-1').send(run({ ClientToken: 'same' }));
    assert.notEqual(c.Instances?.[0]?.InstanceId, a.Instances?.[0]?.InstanceId);
    assert.equal(emu.store.all().length, 2);
  });

  it("answers faults with EC2's codes and HTTP statuses, which the SDK and the driver classify as intended", async () => {
    const ec2 = client();
    const cases: Array<{ faults: Parameters<AwsEmulator['patchFaults']>[0]; code: string; status: number; kind: string; sdk: 'throttling' | 'transient' | 'client' }> = [
      { faults: { capacity: { 'us-east-1/t3.micro': 0 } }, code: 'InsufficientInstanceCapacity', status: 500, kind: 'capacity', sdk: 'transient' },
      { faults: { quota: { 'us-east-1': 0 } }, code: 'InstanceLimitExceeded', status: 400, kind: 'quota', sdk: 'client' },
      { faults: { throttleShare: 1, retryAfterSeconds: 2 }, code: 'RequestLimitExceeded', status: 503, kind: 'throttled', sdk: 'throttling' },
      { faults: { errorShare: 1 }, code: 'InternalError', status: 500, kind: 'unavailable', sdk: 'transient' },
      { faults: { outages: ['us-east-1'] }, code: 'Unavailable', status: 503, kind: 'unavailable', sdk: 'transient' },
    ];
    for (const c of cases) {
      emu.reset();
      emu.patchFaults(c.faults);
      const err = await failure(ec2.send(run()));
      assert.equal(err.name, c.code);
      assert.equal(err.$metadata.httpStatusCode, c.status, c.code);
      assert.equal(err.$fault, c.status >= 500 ? 'server' : 'client', c.code);
      assert.match(err.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/, c.code);
      // The SDK's own view: throttling by code, transient by 5xx status.
      const sdkFailure = err as unknown as Parameters<typeof isThrottlingError>[0];
      assert.equal(isThrottlingError(sdkFailure), c.sdk === 'throttling', `${c.code} throttling`);
      if (c.sdk !== 'throttling') assert.equal(isTransientError(sdkFailure) || isServerError(sdkFailure), c.sdk === 'transient', `${c.code} transient`);
      const mine = classifyAwsError(err, { region: 'us-east-1', apiClass: 'write', operation: 'RunInstances' });
      assert.equal(mine.kind, c.kind, c.code);
      if (c.code === 'RequestLimitExceeded') assert.equal(mine.retryAfterMs, 2000);
    }
  });

  it('rejects unknown instance ids with InvalidInstanceID.NotFound and bad ones with InvalidInstanceID.Malformed', async () => {
    const ec2 = client();
    const notFound = await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    assert.equal(notFound.name, 'InvalidInstanceID.NotFound');
    assert.equal(notFound.$metadata.httpStatusCode, 400);
    const malformed = await failure(ec2.send(new TerminateInstancesCommand({ InstanceIds: ['xyz'] })));
    assert.equal(malformed.name, 'InvalidInstanceID.Malformed');
    const combo = await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'], MaxResults: 5 })));
    assert.equal(combo.name, 'InvalidParameterCombination');
    const range = await failure(ec2.send(new DescribeInstancesCommand({ MaxResults: 3 })));
    assert.equal(range.name, 'InvalidParameterValue');
    const filter = await failure(ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })));
    assert.equal(filter.name, 'InvalidParameterValue');
  });

  it('validates RunInstances parameters the way EC2 does', async () => {
    const ec2 = client();
    assert.equal((await failure(ec2.send(run({ ImageId: 'img-1' })))).name, 'InvalidAMIID.Malformed');
    assert.equal((await failure(ec2.send(run({ InstanceType: 'z9.impossible' as 't3.micro' })))).name, 'InvalidParameterValue');
    assert.equal((await failure(ec2.send(run({ UserData: 'not base64!' })))).name, 'InvalidParameterValue');
    assert.equal((await failure(ec2.send(run({ ClientToken: 'x'.repeat(65) })))).name, 'InvalidParameterValue');
    assert.equal((await failure(ec2.send(run({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'aws:x', Value: '1' }] }] })))).name, 'InvalidParameterValue');
    assert.equal(emu.store.all().length, 0);
  });

  it('rejects a wrong secret with SignatureDoesNotMatch (403) and an unknown key with AuthFailure (401)', async () => {
    const wrongSecret = await failure(client('us-east-1', { accessKeyId: TEST_CREDENTIALS.aws.accessKeyId, secretAccessKey: 'nope' }).send(run()));
    assert.equal(wrongSecret.name, 'SignatureDoesNotMatch');
    assert.equal(wrongSecret.$metadata.httpStatusCode, 403);
    const unknownKey = await failure(client('us-east-1', { accessKeyId: 'AKIAOTHER', secretAccessKey: 'nope' }).send(run()));
    assert.equal(unknownKey.name, 'AuthFailure');
    assert.equal(unknownKey.$metadata.httpStatusCode, 401);
    const badRegion = await failure(client('moon-1').send(run()));
    assert.equal(badRegion.name, 'AuthFailure');
    assert.equal(emu.store.all().length, 0);
    assert.deepEqual(emu.callStats().RunInstances, { SignatureDoesNotMatch: 1, AuthFailure: 2 });
  });

  it('rejects unsigned, tampered and stale requests over raw HTTP', async () => {
    const body = 'Action=DescribeInstances&Version=2016-11-15';
    const unsigned = await fetch(`${emu.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(unsigned.status, 401);
    assert.match(await unsigned.text(), /<Code>AuthFailure<\/Code>.*<RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/s);

    const host = new URL(emu.url).host;
    const signer = new SignatureV4({ credentials: { ...TEST_CREDENTIALS.aws }, region: 'us-east-1', service: 'ec2', sha256: Sha256 });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: Number(new URL(emu.url).port), path: '/', query: {},
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const ok = await fetch(`${emu.url}/`, { method: 'POST', headers: signed.headers, body });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DescribeInstancesResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>/);

    const tampered = await fetch(`${emu.url}/`, { method: 'POST', headers: signed.headers, body: body.replace('Describe', 'Terminate') });
    assert.equal(tampered.status, 403);

    const stale = await new SignatureV4({ credentials: { ...TEST_CREDENTIALS.aws }, region: 'us-east-1', service: 'ec2', sha256: Sha256 })
      .sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers: { host, 'content-type': 'application/x-www-form-urlencoded' }, body },
        { signingDate: new Date(Date.now() - 20 * 60 * 1000) });
    const expired = await fetch(`${emu.url}/`, { method: 'POST', headers: stale.headers, body });
    assert.equal(expired.status, 400);
    assert.match(await expired.text(), /<Code>RequestExpired<\/Code>/);
  });

  it('serves its admin API: faults, instances, stats and reset', async () => {
    const admin = new EmulatorAdmin(emu.url);
    await admin.setFaults({ latencyMs: 1 });
    await client().send(run());
    assert.equal((await admin.instances()).length, 1);
    assert.deepEqual((await admin.stats()).RunInstances, { ok: 1 });
    await admin.reset();
    assert.equal((await admin.instances()).length, 0);
  });
});

/** A SHA-256 hash constructor in the shape `@smithy/signature-v4` expects (the SDK ships its own). */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = typeof secret === 'string' ? secret : secret === undefined ? undefined : Buffer.from(secret instanceof ArrayBuffer ? new Uint8Array(secret) : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength));
    this.hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}
