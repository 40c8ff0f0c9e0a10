import { strict as assert } from 'node:assert';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { didYouMean, editDistance } from '../../../scheduler/api/suggest';
import { createScheduler, startScheduler, type SchedulerService } from '../../../scheduler/service';
import { FakeCloud, waitFor } from '../fakes';
import type { CloudId } from '../../../providers';

const TOKEN = 'lifecycle-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

function config(extra: Record<string, unknown> = {}) {
  return loadSchedulerConfig({
    dataDir: ':memory:', dnsZones: ['meridian.test'],
    api: { token: TOKEN, port: 0 },
    reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2, capacityCoolDownSeconds: 300, provisionTimeoutSeconds: 300, unhealthyAfterFailures: 1 },
    ...extra,
  });
}

const policyDoc = (name = 'cost-first') => ({
  apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name },
  spec: { regions: { allow: ['aws:eu-central-1', 'azure:westeurope', 'alibaba:eu-central-1'] }, objective: 'cost' },
});

const workloadBody = (o: { replicas?: number; name?: string; policy?: string; dnsName?: string } = {}) => ({
  name: o.name ?? 'web', replicas: o.replicas ?? 3,
  size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
  image: { aws: 'ami-0123456789abcdef0', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase' },
  policy: o.policy ?? 'cost-first',
  dns: { name: o.dnsName ?? `${o.name ?? 'web'}.meridian.test`, ttl: 30 },
});

interface View {
  name: string; generation: number; deleting: boolean; placement: { usdPerHour: number } | null;
  status: {
    desired: number; ready: number; pending: number; terminating: number; converged: boolean; observedGeneration: number; placementError?: string;
    reasons: Array<{ code: string; cloud?: string; region?: string; message: string; until?: string }>;
  };
}
interface ErrorAnswer { error: string; message: string; errors: Array<{ path: string; message: string }> }

function fakeClouds() {
  const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
  return { clouds, provider: (c: CloudId) => clouds[c] };
}

describe('workload lifecycle through the API', function () {
  this.timeout(30_000);
  let svc: Awaited<ReturnType<typeof createScheduler>> | SchedulerService | undefined;

  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  /** A scheduler whose reconciler runs only when the test calls `passOnce`. */
  async function paused() {
    const { provider } = fakeClouds();
    const s = await createScheduler({ config: config(), providers: {}, provider, log: () => undefined });
    svc = s;
    return s;
  }

  /** A running scheduler listening on 127.0.0.1 and a free port. */
  async function running() {
    const fakes = fakeClouds();
    const s = await startScheduler({ config: config(), providers: {}, provider: fakes.provider, log: () => undefined });
    svc = s;
    const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${s.url}${path}`, {
        method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() as T };
    };
    return { s, clouds: fakes.clouds, call };
  }

  it('measures edit distance with adjacent transpositions as one edit, and suggests only close names', () => {
    assert.equal(editDistance('cost-frist', 'cost-first'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(didYouMean('cost-frist', ['eu-residency', 'cost-first', 'global-low-latency']), 'cost-first');
    assert.equal(didYouMean('COST-FIRST', ['cost-first']), 'cost-first');
    assert.equal(didYouMean('zzz', ['cost-first', 'eu-residency']), undefined);
  });

  it('refuses a workload naming a policy that does not exist with 400 and a did-you-mean, and accepts it with awaitPolicy=true', async () => {
    const s = await paused();
    assert.equal((await s.api.inject({ method: 'PUT', url: '/v1/policies/cost-first', headers: auth, payload: policyDoc() })).statusCode, 201);
    const refused = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody({ policy: 'cost-frist' }) });
    assert.equal(refused.statusCode, 400);
    const body = refused.json<ErrorAnswer>();
    assert.equal(body.error, 'MERIDIAN_ERR_INVALID');
    assert.equal(body.errors[0].path, '/policy');
    assert.match(body.errors[0].message, /policy 'cost-frist' does not exist; did you mean 'cost-first'\?/);
    assert.equal(await s.store.getWorkload('web'), undefined, 'nothing stored');

    const waiting = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web?awaitPolicy=true', headers: auth, payload: workloadBody({ policy: 'later' }) });
    assert.equal(waiting.statusCode, 201);
    await s.reconciler.passOnce();
    const w = (await s.api.inject({ method: 'GET', url: '/v1/workloads/web', headers: auth })).json<View>();
    assert.match(w.status.placementError ?? '', /policy 'later' does not exist/);
    assert.deepEqual(w.status.reasons.map((r) => r.code), ['unplaceable']);
    const badFlag = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web?awaitPolicy=yes', headers: auth, payload: workloadBody() });
    assert.equal(badFlag.statusCode, 400);
  });

  it('reports the generation the reconciler acted on, and neither converged nor an old placement error for a newer one', async () => {
    const s = await paused();
    await s.api.inject({ method: 'PUT', url: '/v1/policies/cost-first', headers: auth, payload: policyDoc() });
    await s.api.inject({ method: 'PUT', url: '/v1/workloads/web?awaitPolicy=true', headers: auth, payload: workloadBody({ policy: 'missing' }) });
    await s.reconciler.passOnce();
    const before = (await s.api.inject({ method: 'GET', url: '/v1/workloads/web', headers: auth })).json<View>();
    assert.deepEqual([before.generation, before.status.observedGeneration], [1, 1]);
    assert.ok(before.status.placementError);

    const fixed = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody() });
    assert.equal(fixed.statusCode, 200);
    const after = fixed.json<View>();
    assert.deepEqual([after.generation, after.status.observedGeneration, after.status.converged], [2, 1, false]);
    assert.equal(after.status.placementError, undefined, 'the error of generation 1 is not shown for generation 2');
    assert.deepEqual(after.status.reasons.map((r) => r.code), ['pending-generation']);
    await s.reconciler.passOnce();
    const acted = (await s.api.inject({ method: 'GET', url: '/v1/workloads/web', headers: auth })).json<View>();
    assert.equal(acted.status.observedGeneration, 2);
    assert.equal(acted.status.placementError, undefined);
  });

  it('gives delete one meaning: 202 then 200 while deleting, no placement or cost, re-apply refused with 409 until gone or cancelDeletion=true', async () => {
    const { s, clouds, call } = await running();
    await call('PUT', '/v1/policies/cost-first', policyDoc());
    assert.equal((await call('PUT', '/v1/workloads/web', workloadBody())).status, 201);
    await waitFor('web converged', async () => (await s.reconciler.status('web'))?.converged === true, 10_000);
    // Terminations cannot reach the clouds for now: the workload stays deleting.
    for (const c of Object.values(clouds)) for (const r of ['eu-central-1', 'westeurope']) c.outages.add(r);

    const first = await call<View>('DELETE', '/v1/workloads/web');
    assert.equal(first.status, 202);
    const again = await call<View>('DELETE', '/v1/workloads/web');
    assert.equal(again.status, 200, 'a second delete reports the deletion under way');
    assert.equal(again.body.deleting, true);
    await waitFor('three instances terminating', async () => (await s.reconciler.status('web'))?.terminating === 3, 10_000);
    const w = (await call<View>('GET', '/v1/workloads/web')).body;
    assert.deepEqual([w.deleting, w.placement, w.status.desired, w.status.terminating], [true, null, 0, 3]);
    assert.deepEqual(w.status.reasons.map((r) => r.code), ['deleting']);

    const revive = await call<ErrorAnswer>('PUT', '/v1/workloads/web', workloadBody());
    assert.equal(revive.status, 409);
    assert.equal(revive.body.error, 'MERIDIAN_ERR_CONFLICT');
    assert.match(revive.body.message, /workload 'web' is being deleted \(3 instances terminating, 0 not yet\).*cancelDeletion=true/);

    const kept = await call<View>('PUT', '/v1/workloads/web?cancelDeletion=true', workloadBody({ replicas: 2 }));
    assert.equal(kept.status, 200);
    assert.equal(kept.body.deleting, false);
    for (const c of Object.values(clouds)) c.outages.clear();
    await waitFor('web converged at 2 replicas', async () => (await s.reconciler.status('web'))?.converged === true && (await s.reconciler.status('web'))?.ready === 2, 10_000);

    assert.equal((await call('DELETE', '/v1/workloads/web')).status, 202);
    await waitFor('web gone', async () => (await call('GET', '/v1/workloads/web')).status === 404, 10_000);
    const fresh = await call<View>('PUT', '/v1/workloads/web', workloadBody());
    assert.deepEqual([fresh.status, fresh.body.generation], [201, 1]);
  });

  it('refuses a DNS name outside the zones served, or one another workload serves, naming that workload', async () => {
    const s = await paused();
    await s.api.inject({ method: 'PUT', url: '/v1/policies/cost-first', headers: auth, payload: policyDoc() });
    const outside = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody({ dnsName: 'web.example.com' }) });
    assert.equal(outside.statusCode, 400);
    const o = outside.json<ErrorAnswer>();
    assert.deepEqual(o.errors.map((e) => e.path), ['/dns/name']);
    assert.match(o.errors[0].message, /'web\.example\.com' is outside the zones the GeoDNS serves \(meridian\.test\)/);
    // A suffix that is not a label boundary is outside too.
    const lookalike = await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody({ dnsName: 'webmeridian.test' }) });
    assert.equal(lookalike.statusCode, 400);

    assert.equal((await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody() })).statusCode, 201);
    const taken = await s.api.inject({ method: 'PUT', url: '/v1/workloads/shop', headers: auth, payload: workloadBody({ name: 'shop', dnsName: 'web.meridian.test' }) });
    assert.equal(taken.statusCode, 409);
    assert.match(taken.json<ErrorAnswer>().message, /dns\.name 'web\.meridian\.test' is already served for workload 'web'/);
    // The same workload may keep its own name; once it is deleted, the name is free.
    assert.equal((await s.api.inject({ method: 'PUT', url: '/v1/workloads/web', headers: auth, payload: workloadBody({ replicas: 4 }) })).statusCode, 200);
    assert.equal((await s.api.inject({ method: 'DELETE', url: '/v1/workloads/web', headers: auth })).statusCode, 202);
    const freed = await s.api.inject({ method: 'PUT', url: '/v1/workloads/shop', headers: auth, payload: workloadBody({ name: 'shop', dnsName: 'web.meridian.test' }) });
    assert.equal(freed.statusCode, 201);
  });

  it('says per region why a workload is not converged: capacity cool-down with its end, quota, region unavailable, instances starting', async () => {
    const { s, clouds, call } = await running();
    await call('PUT', '/v1/policies/cost-first', policyDoc());
    const first = await call<View>('PUT', '/v1/workloads/web', workloadBody({ replicas: 2 }));
    assert.equal(first.status, 201);
    const reasonsOf = async () => (await call<View>('GET', '/v1/workloads/web')).body.status.reasons;
    await waitFor('web converged', async () => (await s.reconciler.status('web'))?.converged === true, 10_000);
    assert.deepEqual(await reasonsOf(), []);

    const placed = (await s.store.getWorkload('web'))?.applied?.assignments ?? [];
    const [a] = placed;
    // The region it runs in goes down; the replacements elsewhere stay pending.
    for (const c of Object.values(clouds)) for (const r of ['eu-central-1', 'westeurope']) c.stuck.add(r);
    clouds[a.cloud].outages.add(a.region);
    let reasons: Awaited<ReturnType<typeof reasonsOf>> = [];
    await waitFor('the outage explained', async () => (reasons = await reasonsOf()).some((r) => r.code === 'region-unavailable'), 10_000);
    const down = reasons.find((r) => r.code === 'region-unavailable');
    assert.deepEqual([down?.cloud, down?.region], [a.cloud, a.region]);
    assert.match(down?.message ?? '', /region API failing \(ServiceUnavailable\)/);
    await waitFor('the replacements explained', async () => (reasons = await reasonsOf()).some((r) => r.code === 'waiting-for-instances'), 10_000);

    // Capacity and quota refusals: the regions are skipped until a time the status gives.
    clouds[a.cloud].outages.clear();
    for (const c of Object.values(clouds)) { c.stuck.clear(); c.noCapacity.add('eu-central-1'); c.noQuota.add('westeurope'); }
    await call('PUT', '/v1/workloads/web', workloadBody({ replicas: 9 }));
    await waitFor('capacity and quota explained', async () => {
      reasons = await reasonsOf();
      return reasons.some((r) => r.code === 'capacity-cool-down') || reasons.some((r) => r.code === 'quota');
    }, 10_000);
    const limited = reasons.find((r) => r.code === 'capacity-cool-down' || r.code === 'quota');
    assert.ok(limited?.until && Date.parse(limited.until) > Date.now(), `a future end: ${JSON.stringify(limited)}`);
    assert.match(limited?.message ?? '', /cool-down until \d{4}-\d\d-\d\dT/);
  });
});
