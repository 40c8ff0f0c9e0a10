import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { API_ERRORS } from '../../../common';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { createScheduler } from '../../../scheduler/service';
import { FakeCloud, waitFor } from '../fakes';

const TOKEN = 'resources-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

const policyDoc = (name: string) => ({
  apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name },
  spec: { regions: { allow: ['aws:eu-central-1', 'azure:westeurope', 'alibaba:eu-central-1'] }, objective: 'cost' },
});

const spec = (policy: string, replicas = 2) => ({
  replicas,
  size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
  image: { aws: 'ami-0123456789abcdef0', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase' },
  policy,
});

const workloadDoc = (name: string, policy: string, replicas = 2) => ({ apiVersion: 'meridian/v1', kind: 'Workload', metadata: { name }, spec: spec(policy, replicas) });

interface ErrorAnswer { error: string; message: string; errors: Array<{ path: string; message: string }> }

describe('scheduler API resources, documents and readiness', function () {
  this.timeout(20_000);
  let s: Awaited<ReturnType<typeof createScheduler>>;

  before(async () => {
    const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    s = await createScheduler({
      config: loadSchedulerConfig({
        dataDir: ':memory:', api: { token: TOKEN, port: 0 },
        reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2, provisionTimeoutSeconds: 10 },
      }),
      providers: {}, provider: (c) => clouds[c], log: () => undefined,
    });
  });
  after(async () => s?.stop());

  const put = (url: string, payload: unknown) => s.api.inject({ method: 'PUT', url, headers: auth, payload: payload as object });

  it('answers /readyz 503 with the error shape until the reconciler runs, then 200, both without a token', async () => {
    const before = await s.api.inject({ method: 'GET', url: '/readyz' });
    assert.equal(before.statusCode, 503);
    const body = before.json<ErrorAnswer>();
    assert.equal(body.error, 'MERIDIAN_ERR_NOT_READY');
    assert.match(body.errors[0]!.message, /reconciler is not running/);
    await s.reconciler.start();
    const after = await s.api.inject({ method: 'GET', url: '/readyz' });
    assert.equal(after.statusCode, 200);
    assert.equal(after.json<{ ready: boolean }>().ready, true);
  });

  it('accepts a workload as a Workload document, the same form as the YAML files, and still the flat form', async () => {
    assert.equal((await put('/v1/policies/docs-eu', policyDoc('docs-eu'))).statusCode, 201);
    const doc = await put('/v1/workloads/docs-web', workloadDoc('docs-web', 'docs-eu'));
    assert.equal(doc.statusCode, 201, doc.body);
    const stored = doc.json<{ name: string; spec: { name: string; replicas: number; policy: string } }>();
    assert.deepEqual([stored.name, stored.spec.name, stored.spec.replicas, stored.spec.policy], ['docs-web', 'docs-web', 2, 'docs-eu']);
    const flat = await put('/v1/workloads/docs-flat', { name: 'docs-flat', ...spec('docs-eu', 1) });
    assert.equal(flat.statusCode, 201, flat.body);
  });

  it('reports the errors of a Workload document at their paths in the document', async () => {
    const bad = workloadDoc('docs-bad', 'docs-eu');
    const res = await put('/v1/workloads/docs-bad', { ...bad, spec: { ...bad.spec, replicas: -1, colour: 'blue' } });
    assert.equal(res.statusCode, 400);
    const paths = res.json<ErrorAnswer>().errors.map((e) => e.path);
    assert.ok(paths.includes('/spec/replicas'), paths.join(', '));
    assert.ok(paths.includes('/spec/colour'), paths.join(', '));
    assert.ok(!paths.includes('/name') && !paths.includes('/replicas'), `errors of the flat form: ${paths.join(', ')}`);
    const renamed = await put('/v1/workloads/other', workloadDoc('docs-web', 'docs-eu'));
    assert.equal(renamed.statusCode, 400);
    assert.equal(renamed.json<ErrorAnswer>().errors[0]!.path, '/metadata/name');
  });

  it('lists every instance of a workload with cloud, region, id, state, addresses and age', async () => {
    type Item = { cloud: string; region: string; id: string | null; state: string; addresses: { public: string | null; private: string | null }; ageSeconds: number; createdAt: string };
    let items: Item[] = [];
    await waitFor('two running instances of docs-web', async () => {
      items = (await s.api.inject({ method: 'GET', url: '/v1/workloads/docs-web/instances', headers: auth })).json<{ items: Item[] }>().items;
      return items.length === 2 && items.every((i) => i.state === 'running');
    }, 10_000);
    for (const i of items) {
      assert.ok(['aws', 'azure', 'alibaba'].includes(i.cloud));
      assert.ok(i.region.length > 0 && i.id !== null && i.id.length > 0);
      assert.ok(i.ageSeconds >= 0 && !Number.isNaN(Date.parse(i.createdAt)));
      assert.ok('public' in i.addresses && 'private' in i.addresses);
    }
    const missing = await s.api.inject({ method: 'GET', url: '/v1/workloads/nope/instances', headers: auth });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<ErrorAnswer>().error, 'MERIDIAN_ERR_NOT_FOUND');
  });

  it('refuses to delete a policy that workloads use, naming them, and deletes it once none does', async () => {
    const refused = await s.api.inject({ method: 'DELETE', url: '/v1/policies/docs-eu', headers: auth });
    assert.equal(refused.statusCode, 409);
    const body = refused.json<ErrorAnswer>();
    assert.equal(body.error, 'MERIDIAN_ERR_CONFLICT');
    assert.match(body.message, /'docs-flat', 'docs-web'/);
    assert.equal(body.errors.length, 2);
    assert.equal((await put('/v1/policies/unused', policyDoc('unused'))).statusCode, 201);
    const deleted = await s.api.inject({ method: 'DELETE', url: '/v1/policies/unused', headers: auth });
    assert.equal(deleted.statusCode, 200);
    assert.equal(deleted.json<{ name: string }>().name, 'unused');
    assert.equal((await s.api.inject({ method: 'GET', url: '/v1/policies/unused', headers: auth })).statusCode, 404);
    assert.equal((await s.api.inject({ method: 'DELETE', url: '/v1/policies/unused', headers: auth })).statusCode, 404);
  });

  it('serves an OpenAPI document that validates, with an operationId on every operation', async () => {
    const res = await s.api.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>> }>();
    await SwaggerParser.validate(structuredClone(doc) as unknown as SwaggerParser['api']);
    const ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ where: `${m} ${p}`, id: op.operationId })));
    assert.deepEqual(ops.filter((o) => !o.id).map((o) => o.where), []);
    const ids = ops.map((o) => o.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate operationIds: ${ids.join(', ')}`);
    for (const id of ['listWorkloadInstances', 'deletePolicy', 'getReadiness']) assert.ok(ids.includes(id), id);
  });

  it('documents every error code of the catalogue in the README with its status', () => {
    const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
    for (const [code, status] of Object.entries(API_ERRORS)) assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), code);
  });
});
