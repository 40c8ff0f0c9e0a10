import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { createScheduler } from '../../../scheduler/service';
import { CLIENT_JS } from '../../../scheduler/ui/client';
import { tempDataDir } from '../e2e/helpers';

const TOKEN = 'ui-test-token-0123456789';

/** A GeoDNS admin API stand-in answering `GET /geo/channels`. */
async function fakeGeoDnsAdmin(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/geo/channels') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      driving: 'mrt',
      channels: [
        { name: 'bgp', kind: 'bgp', state: 'down', driving: false, lastDataAt: null, prefixes: 0, lastError: 'hold timer expired' },
        { name: 'ris', kind: 'mrt', state: 'up', driving: true, lastDataAt: 1_700_000_000_000, prefixes: 950_000, lastError: null },
      ],
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('status page plugin', () => {
  let svc: Awaited<ReturnType<typeof createScheduler>>;
  let dataDir: string;
  let admin: Server;
  let closedUrl: string;

  before(async () => {
    admin = await fakeGeoDnsAdmin();
    // A port that was just free and now has no listener: connections to it are refused.
    const gone = await fakeGeoDnsAdmin();
    closedUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((r) => gone.close(r));
    dataDir = tempDataDir('ui');
    const config = loadSchedulerConfig({
      dataDir, api: { token: TOKEN, port: 0 },
      ui: { geoDnsAdminUrls: [`http://127.0.0.1:${(admin.address() as AddressInfo).port}`] },
    });
    svc = await createScheduler({
      config, providers: {}, log: () => undefined, geoDnsAdminUrls: () => [closedUrl],
      provider: () => { throw new Error('no cloud is called in these tests'); },
    });
  });

  after(async () => {
    await svc?.stop();
    await new Promise((r) => admin?.close(r));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the page without a token, allowing only scripts and connections to its own origin', async () => {
    const res = await svc.api.inject({ method: 'GET', url: '/ui/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(String(res.headers['content-security-policy']), /script-src 'self';.*connect-src 'self'/);
    assert.match(res.body, /<form id="login-form">/);
    const redirect = await svc.api.inject({ method: 'GET', url: '/ui' });
    assert.deepEqual([redirect.statusCode, redirect.headers.location], [308, '/ui/']);
  });

  it('serves the map libraries and country shapes from the installed packages, and nothing else under assets', async () => {
    for (const [file, type] of [['d3-array.min.js', /javascript/], ['d3-geo.min.js', /javascript/], ['topojson-client.min.js', /javascript/],
      ['app.js', /javascript/], ['app.css', /text\/css/], ['countries-110m.json', /application\/json/]] as const) {
      const res = await svc.api.inject({ method: 'GET', url: `/ui/assets/${file}` });
      assert.equal(res.statusCode, 200, file);
      assert.match(String(res.headers['content-type']), type, file);
      assert.ok(res.rawPayload.length > 1000, `${file} has content`);
    }
    const atlas = JSON.parse((await svc.api.inject({ method: 'GET', url: '/ui/assets/countries-110m.json' })).body) as { type: string; objects: Record<string, unknown> };
    assert.deepEqual([atlas.type, 'countries' in atlas.objects], ['Topology', true]);
    assert.equal((await svc.api.inject({ method: 'GET', url: '/ui/assets/package.json' })).statusCode, 404);
    assert.equal((await svc.api.inject({ method: 'GET', url: '/ui/assets/..%2Fpackage.json' })).statusCode, 400);
  });

  it('keeps the API behind the token while the page is open', async () => {
    assert.equal((await svc.api.inject({ method: 'GET', url: '/v1/workloads' })).statusCode, 401);
    assert.equal((await svc.api.inject({ method: 'GET', url: '/ui/api/geodns' })).statusCode, 401);
  });

  it('reports each configured GeoDNS server\'s channels, and a server that does not answer as unreachable', async () => {
    const res = await svc.api.inject({ method: 'GET', url: '/ui/api/geodns', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    const { items } = res.json() as { items: Array<{ url: string; reachable: boolean; driving?: string; channels?: Array<{ name: string; state: string }>; error?: string }> };
    assert.equal(items.length, 2);
    assert.deepEqual([items[0].reachable, items[0].driving, items[0].channels?.map((c) => `${c.name}:${c.state}`)], [true, 'mrt', ['bgp:down', 'ris:up']]);
    assert.deepEqual([items[1].url, items[1].reachable], [closedUrl, false]);
    assert.match(items[1].error ?? '', /ECONNREFUSED/);
  });

  it('ships a page script that parses as plain JavaScript', () => {
    assert.doesNotThrow(() => new Script(CLIENT_JS, { filename: 'app.js' }));
  });
});

describe('status page settings', () => {
  it('lists no GeoDNS server by default and rejects an admin address that is not a base URL', () => {
    assert.deepEqual(loadSchedulerConfig({ api: { token: TOKEN } }).ui.geoDnsAdminUrls, []);
    assert.throws(() => loadSchedulerConfig({ api: { token: TOKEN }, ui: { geoDnsAdminUrls: ['http://127.0.0.1:8053/geo/channels', 'ftp://x'] } }),
      (err: Error & { issues?: Array<{ path: string }> }) => (err.issues ?? []).some((i) => i.path === '/ui/geoDnsAdminUrls/0') &&
        (err.issues ?? []).some((i) => i.path === '/ui/geoDnsAdminUrls/1'));
  });
});
