import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { CloudId } from '../../../providers';
import { startSandbox, type Sandbox } from '../../../scheduler/sandbox';
import { statusPage } from '../../../scheduler/ui';
import { admins, FAST_RESILIENCE, tempDataDir } from '../e2e/helpers';

const TOKEN = 'status-page-token-0123456789';
/** Debian's Chromium (`apt-get install chromium`; test/tools/ensure-debian-tools.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of each step, kept after the run (the directory is ignored by git). */
const ARTIFACTS = resolve('test-artifacts', 'status-page');

/** Waits until `expression` is truthy in the page, naming what it waited for when it times out. */
async function until(page: Page, what: string, expression: string, timeoutMs = 60_000): Promise<void> {
  try {
    await page.waitForFunction(expression, { timeout: timeoutMs, polling: 100 });
  } catch (err) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for the page to show ${what}`, { cause: err });
  }
}

/** A page expression for the replicas the map shows in a region (0 when it shows none there). */
const replicasIn = (key: string) => `Number(document.querySelector('#markers [data-region=${JSON.stringify(key)}]')?.dataset.replicas ?? 0)`;
/** A page expression for the health the map shows for a region. */
const healthOf = (key: string) => `document.querySelector('#markers [data-region=${JSON.stringify(key)}]')?.dataset.health`;
/** A page expression for a workload row's attribute. */
const row = (name: string, attr: string) => `document.querySelector('#workloads tr[data-workload=${JSON.stringify(name)}]')?.dataset.${attr}`;

describe('status page in a browser', function () {
  // Deadlines sized for a busy 2-core machine: each wait below ends as soon as its condition holds.
  this.timeout(240_000);
  let sandbox: Sandbox | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = tempDataDir('ui');
    [sandbox, browser] = await Promise.all([
      startSandbox({
        port: 0, dataDir, token: TOKEN, emulatorPorts: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 50, dns: { port: 0, adminPort: 0 },
        reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.3, unhealthyAfterFailures: 2, capacityCoolDownSeconds: 1.5 },
        resilience: FAST_RESILIENCE, log: () => undefined,
      }),
      puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }),
    ]);
  });

  after(async () => {
    await browser?.close();
    await sandbox?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    process.stdout.write(`\n    status page screenshots: ${ARTIFACTS}\n`);
  });

  it('logs in with the token, places the demo workloads on the map, and shows a region outage and its recovery without a reload', async () => {
    const s = sandbox as Sandbox;
    const page = await (browser as Browser).newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const urls: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => { urls.push(r.url()); });
    page.on('pageerror', (e) => { errors.push(String(e)); });
    // The probe without a token and the refused token answer 401, which the browser logs; anything else is a fault.
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text()); });
    const shot = async (name: string) => { await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }); };

    await page.goto(`${s.scheduler.url}/ui/`);
    await until(page, 'the login form', `!document.getElementById('login').hidden`, 15_000);
    await page.type('#token', 'not-the-token-0123456789');
    await page.click('#login-form button[type=submit]');
    await until(page, 'the token refused', `document.getElementById('login-error').textContent.includes('did not accept')`, 15_000);
    await page.type('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await until(page, 'the status view, live', `!document.getElementById('main').hidden && document.getElementById('conn').dataset.state === 'live'`, 15_000);

    // Every demo workload converged, each region it uses on the map with its replicas.
    const names = [...s.applied.workloads].sort();
    await until(page, 'every demo workload converged with all its replicas ready',
      names.map((n) => `${row(n, 'converged')} === 'true' && ${row(n, 'ready')} === ${row(n, 'desired')}`).join(' && ') +
      ` && document.getElementById('map').dataset.land === 'drawn'`, 120_000);
    const placed = await page.evaluate(`Object.fromEntries([...document.querySelectorAll('#markers [data-in-use=true]')]
      .map((m) => [m.dataset.region, Number(m.dataset.replicas)]))`) as Record<string, number>;
    let total = 0;
    for (const w of names) total += (await s.scheduler.store.getWorkload(w))?.spec.replicas ?? 0;
    assert.equal(Object.values(placed).reduce((a, b) => a + b, 0), total, `the map holds every replica: ${JSON.stringify(placed)}`);
    const catalogDots = await page.evaluate(`document.querySelectorAll('#markers [data-in-use=false]').length`) as number;
    assert.ok(catalogDots > 50, `every catalog region is on the map (${catalogDots} idle)`);
    await until(page, "the sandbox's GeoDNS server with its driving channel", `document.querySelector('[data-geodns]')?.dataset.driving === 'static'`, 30_000);
    await shot('1-converged');

    // An outage of the busiest region of `web` that no other workload uses, injected in its emulator.
    const stored = new Map((await s.scheduler.store.listWorkloads()).map((w) => [w.name, w]));
    const others = new Set(names.filter((n) => n !== 'web')
      .flatMap((n) => (stored.get(n)?.applied?.assignments ?? []).map((a) => `${a.cloud}/${a.region}`)));
    const web = (stored.get('web')?.applied?.assignments ?? [])
      .filter((a) => !others.has(`${a.cloud}/${a.region}`)).sort((a, b) => b.replicas - a.replicas)[0];
    assert.ok(web, 'web uses a region of its own');
    const victim = `${web.cloud}/${web.region}`;
    await admins(s.emulators)[web.cloud as CloudId].setFaults({ outages: [web.region] });
    try {
      await until(page, `${victim} unhealthy`, `${healthOf(victim)} === 'unhealthy'`, 60_000);
      await shot('2-outage');
      await until(page, `web's replicas moved out of ${victim}, all ready elsewhere`,
        `${replicasIn(victim)} === 0 && ${row('web', 'ready')} === ${row('web', 'desired')}`, 90_000);
      await shot('3-moved');
    } finally {
      await admins(s.emulators)[web.cloud as CloudId].setFaults({ outages: [] });
    }

    // Cleared: the region turns healthy and its replicas come back.
    await until(page, `${victim} healthy with web's replicas back`,
      `${healthOf(victim)} === 'healthy' && ${replicasIn(victim)} > 0 && ${row('web', 'converged')} === 'true' && ${row('web', 'ready')} === ${row('web', 'desired')}`, 90_000);
    await shot('4-recovered');

    assert.deepEqual(errors, [], 'no script errors');
    assert.ok(urls.every((u) => !u.includes(TOKEN)), 'the token never appears in a URL');
    assert.ok(urls.every((u) => u.startsWith(s.scheduler.url)), `every request goes to the scheduler: ${urls.filter((u) => !u.startsWith(s.scheduler.url)).join(', ')}`);
  });

  it('shows the status without a login form when the API answers without a token', async () => {
    // A stand-in API with no token: one workload in one region, as the scheduler's routes shape them.
    const app = Fastify({ forceCloseConnections: true });
    await app.register(statusPage, { geoDnsAdminUrls: () => [] });
    const region = { cloud: 'aws', id: 'eu-west-1', name: 'Europe (Ireland)', country: 'IE', continent: 'EU', lat: 53.3, lon: -6.3, healthy: true, breaker: 'closed', constrained: [] };
    const workload = { name: 'solo', dns: null, residency: null, regions: [{ cloud: 'aws', region: 'eu-west-1', lat: 53.3, lon: -6.3, country: 'IE', continent: 'EU', healthy: true,
      instances: [{ id: 'i-1', ipv4: '192.0.2.1', healthy: true }] }] };
    app.get('/v1/workloads', async () => ({ items: [{ name: 'solo', spec: { policy: 'anywhere' }, deleting: false, placement: null,
      status: { desired: 1, ready: 1, pending: 0, terminating: 0, converged: true, observedGeneration: 1, reasons: [] } }] }));
    app.get('/v1/regions', async () => ({ items: [region] }));
    app.get('/v1/watch', async (_req, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
      reply.raw.write(`event: snapshot\nid: 1\ndata: ${JSON.stringify({ revision: 1, stateId: 's', workloads: [workload] })}\n\n`);
    });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const page = await (browser as Browser).newPage();
      await page.goto(`${url}/ui/`);
      await until(page, 'the status view without a login', `!document.getElementById('main').hidden && document.getElementById('conn').dataset.state === 'live' && ` +
        `${row('solo', 'ready')} === '1' && ${replicasIn('aws/eu-west-1')} === 1`, 15_000);
      const [login, logout] = await page.evaluate(`[document.getElementById('login').hidden, document.getElementById('logout').hidden]`) as boolean[];
      assert.deepEqual([login, logout], [true, true], 'neither a login form nor a log-out button');
      await page.close();
    } finally {
      await app.close();
    }
  });
});
