import { strict as assert } from 'node:assert';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { createScheduler, startScheduler, type SchedulerService } from '../../../scheduler/service';
import { openEventStream } from '../../tools/sse';
import { FakeCloud, waitFor } from '../fakes';
import type { CloudId } from '../../../providers';

const TOKEN = 'api-test-token-0123456789';

function config(port = 0) {
  return loadSchedulerConfig({
    dataDir: ':memory:',
    api: { token: TOKEN, port, watchPingSeconds: 0.2 },
    reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2, capacityCoolDownSeconds: 1, provisionTimeoutSeconds: 10 },
  });
}

const policyDoc = (name = 'test-eu') => ({
  apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name },
  spec: { regions: { allow: ['aws:eu-central-1', 'azure:westeurope', 'alibaba:eu-central-1'] }, objective: 'cost' },
});

const workloadBody = (replicas = 3, name = 'web') => ({
  name, replicas,
  size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
  image: { aws: 'ami-0123456789abcdef0', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase' },
  policy: 'test-eu',
  dns: { name: `${name}.meridian.test`, ttl: 30 },
});

const auth = { authorization: `Bearer ${TOKEN}` };

function fakeClouds() {
  const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
  return { clouds, provider: (c: CloudId) => clouds[c] };
}

describe('scheduler HTTP API', () => {
  let svc: Awaited<ReturnType<typeof createScheduler>> | SchedulerService | undefined;

  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  async function inProcess() {
    const { provider } = fakeClouds();
    const s = await createScheduler({ config: config(), providers: {}, provider, log: () => undefined });
    svc = s;
    return s;
  }

  it('answers 401 without a token or with a wrong one, and serves /healthz and /metrics without one', async () => {
    const s = await inProcess();
    const none = await s.api.inject({ method: 'GET', url: '/v1/workloads' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json<{ error: string }>().error, 'MERIDIAN_ERR_UNAUTHORIZED');
    const wrong = await s.api.inject({ method: 'GET', url: '/v1/workloads', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal((await s.api.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const metrics = await s.api.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.headers['content-type'] as string, /text\/plain/);
    assert.equal((await s.api.inject({ method: 'GET', url: '/v1/workloads', headers: auth })).statusCode, 200);
  });

  it('rejects an invalid workload with 400 naming the path of every error', async () => {
    const s = await inProcess();
    const body = { ...workloadBody(), replicas: -1, colour: 'blue', image: { aws: '' } };
    const res = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: body });
    assert.equal(res.statusCode, 400);
    const paths = res.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path);
    assert.ok(paths.includes('/replicas'), `paths: ${paths.join(', ')}`);
    assert.ok(paths.includes('/colour'), `paths: ${paths.join(', ')}`);
    assert.ok(paths.some((p) => p.startsWith('/image')), `paths: ${paths.join(', ')}`);
  });

  it('rejects malformed JSON and a name that differs from the URL with 400', async () => {
    const s = await inProcess();
    const bad = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name": ' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: string }>().error, 'MERIDIAN_ERR_MALFORMED');
    const mismatch = await s.api.inject({ method: 'PUT', url: '/v1/workloads/other', headers: auth, payload: workloadBody() });
    assert.equal(mismatch.statusCode, 400);
    assert.deepEqual(mismatch.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path), ['/name']);
  });

  it('rejects an invalid policy with every error path and stores a valid one', async () => {
    const s = await inProcess();
    const bad = { ...policyDoc(), spec: { spread: { maxPerRegion: '140%', minClouds: 0 } } };
    const res = await s.api.inject({ method: 'PUT', url: '/v1/policies/test-eu', headers: auth, payload: bad });
    assert.equal(res.statusCode, 400);
    const paths = res.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path);
    assert.ok(paths.some((p) => p.startsWith('/spec/spread')), `paths: ${paths.join(', ')}`);
    const ok = await s.api.inject({ method: 'PUT', url: '/v1/policies/test-eu', headers: auth, payload: policyDoc() });
    assert.equal(ok.statusCode, 201);
    const got = await s.api.inject({ method: 'GET', url: '/v1/policies/test-eu', headers: auth });
    assert.equal(got.json<{ name: string }>().name, 'test-eu');
  });

  it('answers 404 for unknown workloads and policies', async () => {
    const s = await inProcess();
    for (const [method, url] of [['GET', '/v1/workloads/nope'], ['DELETE', '/v1/workloads/nope'], ['GET', '/v1/policies/nope']] as const) {
      const res = await s.api.inject({ method, url, headers: auth });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal(res.json<{ error: string }>().error, 'MERIDIAN_ERR_NOT_FOUND');
    }
  });

  it('creates a workload with 201, answers 200 to the same apply, and bumps the generation on a change', async () => {
    const s = await inProcess();
    await s.api.inject({ method: 'PUT', url: '/v1/policies/test-eu', headers: auth, payload: policyDoc() });
    const first = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody(3) });
    assert.equal(first.statusCode, 201);
    const same = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody(3) });
    assert.equal(same.statusCode, 200);
    assert.equal(same.json<{ generation: number }>().generation, 1);
    const changed = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody(4) });
    assert.equal(changed.json<{ generation: number }>().generation, 2);
    const list = await s.api.inject({ method: 'GET', url: '/v1/workloads', headers: auth });
    assert.deepEqual(list.json<{ items: Array<{ name: string }> }>().items.map((w) => w.name), ['web']);
  });

  it('plans a dry run with cost per hour and a reason for every region left out', async () => {
    const s = await inProcess();
    const res = await s.api.inject({ method: 'POST', url: '/v1/plan', headers: auth, payload: { workload: workloadBody(3), policy: policyDoc() } });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ ok: boolean; usdPerHour: number; regions: Array<{ region: string }>; rejected: Array<{ region: string; rule: string; reason: string }> }>();
    assert.equal(body.ok, true);
    assert.ok(body.usdPerHour > 0);
    assert.ok(body.regions.length >= 1);
    assert.ok(body.rejected.some((r) => r.region === 'us-east-1' && r.reason.length > 0));
    const missing = await s.api.inject({ method: 'POST', url: '/v1/plan', headers: auth, payload: { workload: workloadBody(3) } });
    assert.equal(missing.statusCode, 404, 'the stored policy it names does not exist');
  });

  it('plans only in regions the configured accounts can use, and says why each other one was left out', async () => {
    const { provider } = fakeClouds();
    const base = config();
    const s = await createScheduler({
      config: loadSchedulerConfig({ ...base, regions: { enabled: ['aws:af-south-1'] } }), providers: {}, provider, log: () => undefined,
    });
    svc = s;
    const policy = { ...policyDoc('aws-mix'), spec: { regions: { allow: ['aws:af-south-1', 'aws:ap-east-1', 'aws:us-gov-west-1', 'aws:eu-west-1'] }, spread: { minRegions: 2 } } };
    const res = await s.api.inject({ method: 'POST', url: '/v1/plan', headers: auth, payload: { workload: { ...workloadBody(2), policy: 'aws-mix' }, policy } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ ok: boolean; regions: Array<{ cloud: string; region: string }>; rejected: Array<{ cloud: string; region: string; rule: string; reason: string }> }>();
    assert.equal(body.ok, true);
    assert.deepEqual(body.regions.map((r) => `${r.cloud}:${r.region}`).sort(), ['aws:af-south-1', 'aws:eu-west-1']);
    const why = (region: string) => body.rejected.filter((r) => r.region === region && r.rule === 'account').map((r) => r.reason);
    assert.deepEqual(why('ap-east-1'), ['aws:ap-east-1: opt-in region not enabled']);
    assert.deepEqual(why('us-gov-west-1'), ["aws:us-gov-west-1: partition aws-us-gov is not the account's partition (aws)"]);
    assert.deepEqual(why('af-south-1'), []);
    const regions = await s.api.inject({ method: 'GET', url: '/v1/regions?cloud=aws', headers: auth });
    const items = regions.json<{ items: Array<{ id: string; partition: string; access: string; usable: boolean; unusableReason?: string }> }>().items;
    const row = (id: string) => items.find((r) => r.id === id);
    assert.deepEqual([row('af-south-1')?.usable, row('af-south-1')?.access], [true, 'opt-in']);
    assert.deepEqual([row('ap-east-1')?.usable, row('ap-east-1')?.unusableReason], [false, 'opt-in region not enabled']);
    assert.deepEqual([row('us-gov-west-1')?.partition, row('us-gov-west-1')?.usable], ['aws-us-gov', false]);
  });

  it('also uses the opt-in regions a cloud reports as enabled when told to ask, and plans without one that cannot answer', async () => {
    const { clouds, provider } = fakeClouds();
    clouds.aws.reportedRegions = ['us-east-1', 'eu-west-1', 'af-south-1', 'us-gov-west-1'];
    const logged: string[] = [];
    const s = await createScheduler({
      config: loadSchedulerConfig({ ...config(), regions: { fromClouds: true } }), providers: {}, provider, log: (m) => logged.push(m),
    });
    svc = s;
    const policy = { ...policyDoc('aws-mix'), spec: { regions: { allow: ['aws:af-south-1', 'aws:ap-east-1', 'aws:us-gov-west-1', 'aws:eu-west-1'] }, spread: { minRegions: 2 } } };
    const res = await s.api.inject({ method: 'POST', url: '/v1/plan', headers: auth, payload: { workload: { ...workloadBody(2), policy: 'aws-mix' }, policy } });
    const body = res.json<{ ok: boolean; regions: Array<{ cloud: string; region: string }>; rejected: Array<{ region: string; rule: string; reason: string }> }>();
    assert.equal(body.ok, true, res.body);
    assert.deepEqual(body.regions.map((r) => `${r.cloud}:${r.region}`).sort(), ['aws:af-south-1', 'aws:eu-west-1']);
    assert.deepEqual(body.rejected.filter((r) => r.region === 'us-gov-west-1' && r.rule === 'account').map((r) => r.reason),
      ["aws:us-gov-west-1: partition aws-us-gov is not the account's partition (aws)"], 'a reported region of another partition adds nothing');
    assert.ok(logged.some((m) => /^azure: cannot list the account's enabled regions/.test(m)), logged.join(' | '));
  });

  it('lists the catalog regions with health and breaker state', async () => {
    const s = await inProcess();
    const res = await s.api.inject({ method: 'GET', url: '/v1/regions?cloud=azure', headers: auth });
    assert.equal(res.statusCode, 200);
    const items = res.json<{ items: Array<{ cloud: string; id: string; healthy: boolean; breaker: string }> }>().items;
    assert.ok(items.length > 5);
    assert.ok(items.every((r) => r.cloud === 'azure' && r.healthy && r.breaker === 'closed'));
    const bad = await s.api.inject({ method: 'GET', url: '/v1/regions?cloud=gcp', headers: auth });
    assert.equal(bad.statusCode, 400);
  });

  it('publishes its OpenAPI document at /docs', async () => {
    const s = await inProcess();
    const res = await s.api.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/v1/workloads/{name}', '/v1/policies/{name}', '/v1/plan', '/v1/regions', '/v1/watch']) assert.ok(p in doc.paths, p);
  });

  it('applies the same workload concurrently without error, one creation, and a consistent result', async () => {
    const { provider } = fakeClouds();
    const s = await startScheduler({ config: config(), providers: {}, provider, log: () => undefined });
    svc = s;
    await fetch(`${s.url}/v1/policies/test-eu`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(policyDoc()) });
    const bodies = Array.from({ length: 16 }, (_, i) => workloadBody(1 + (i % 4)));
    const answers = await Promise.all(bodies.map(async (b) => {
      const r = await fetch(`${s.url}/v1/workloads/web`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(b) });
      return { status: r.status, body: await r.json() as { generation: number; spec: { replicas: number } } };
    }));
    assert.deepEqual([...new Set(answers.map((a) => a.status))].sort(), [200, 201]);
    assert.equal(answers.filter((a) => a.status === 201).length, 1);
    const final = await (await fetch(`${s.url}/v1/workloads/web`, { headers: auth })).json() as { generation: number; spec: { replicas: number } };
    assert.equal(final.generation, Math.max(...answers.map((a) => a.body.generation)));
    const last = answers.find((a) => a.body.generation === final.generation);
    assert.equal(final.spec.replicas, last?.body.spec.replicas);
  });

  it('streams a snapshot first, then the workload with its healthy addresses within a second of a change', async () => {
    const { provider } = fakeClouds();
    const s = await startScheduler({ config: config(), providers: {}, provider, log: () => undefined });
    svc = s;
    await fetch(`${s.url}/v1/policies/test-eu`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(policyDoc()) });
    const events: Array<{ event: string; data: Record<string, unknown> }> = [];
    let pings = 0;
    let contentType: string | undefined;
    const req = openEventStream(`${s.url}/v1/watch`, auth, (f) => {
      if (f.comment === 'ping') pings++;
      else if (f.comment === undefined) events.push({ event: f.event, data: f.data });
    }, (res) => { contentType = res.headers['content-type']; });
    try {
      await waitFor('snapshot', () => events.length > 0);
      assert.equal(contentType, 'text/event-stream');
      assert.equal(events[0].event, 'snapshot');
      await fetch(`${s.url}/v1/workloads/web`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(workloadBody(2)) });
      const healthy = () => events.some((e) => {
        const w = e.data.workload as { regions?: Array<{ instances: Array<{ healthy: boolean; ipv4?: string }> }> } | undefined;
        return e.event === 'upsert' && (w?.regions ?? []).flatMap((r) => r.instances).filter((x) => x.healthy && x.ipv4).length === 2;
      });
      // The change: the API reports both replicas ready. The stream must carry it within a second.
      await waitFor('both replicas ready in the API', async () => {
        const w = (await (await fetch(`${s.url}/v1/workloads/web`, { headers: auth })).json()) as { status?: { ready?: number } };
        return w.status?.ready === 2;
      }, 10_000);
      const changedAt = Date.now();
      await waitFor('two healthy instances on the stream', healthy, 1000);
      assert.ok(Date.now() - changedAt <= 1000, `on the stream ${Date.now() - changedAt} ms after the API showed it`);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /meridian_cloud_calls_total\{cloud="(aws|azure|alibaba)",region="[^"]+",operation="create",outcome="ok"\} \d+/);
      assert.match(metrics, /meridian_reconcile_passes_total \d+/);
      const revisions = events.map((e) => e.data.revision as number);
      assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b), 'revisions increase');
      await waitFor('a ping', () => pings > 0, 2000);
      const del = await fetch(`${s.url}/v1/workloads/web`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 202);
      await waitFor('delete event', () => events.some((e) => e.event === 'delete' && e.data.name === 'web'), 2000);
    } finally {
      req.destroy();
    }
  });
});
