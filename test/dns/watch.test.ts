import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { defaultGeoTable, exampleZoneConfig, type RunningDnsServer, startDnsServer, type WorkloadEndpoints } from '../../dns/index';
import { messageRcode, QTYPE, RCODE } from '../../dns/wire/index';
import { expectedRegion, regionAddresses } from './geo-reference';
import { addressesOf, globalRegions, query, workload } from './fixtures';

const TOKEN = 'test-token-0123456789';

/** A tiny scheduler stand-in that speaks the watch protocol. */
class FakeWatchServer {
  readonly server: http.Server;
  private readonly clients = new Set<http.ServerResponse>();
  revision = 1;
  workloads: WorkloadEndpoints[] = [];
  connections = 0;
  rejected = 0;
  /** While true the scheduler is down: every connection is cut before any answer (counted in `refused`). */
  down = false;
  refused = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      if (this.down) { this.refused++; req.socket.destroy(); return; }
      if (req.url !== '/v1/watch') { res.writeHead(404).end(); return; }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) { this.rejected++; res.writeHead(401).end(); return; }
      this.connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: snapshot\nid: ${this.revision}\ndata: ${JSON.stringify({ revision: this.revision, workloads: this.workloads })}\n\n`);
      res.write(': ping\n\n');
      this.clients.add(res);
      res.on('close', () => this.clients.delete(res));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  upsert(w: WorkloadEndpoints): void {
    this.revision++;
    this.workloads = [...this.workloads.filter((x) => x.name !== w.name), w];
    for (const c of this.clients) c.write(`event: upsert\nid: ${this.revision}\ndata: ${JSON.stringify({ revision: this.revision, workload: w })}\n\n`);
  }

  remove(name: string): void {
    this.revision++;
    this.workloads = this.workloads.filter((x) => x.name !== name);
    for (const c of this.clients) c.write(`event: delete\nid: ${this.revision}\ndata: ${JSON.stringify({ revision: this.revision, name })}\n\n`);
  }

  dropAll(): void {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await fn()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('GeoDNS workloads from the scheduler watch stream', function () {
  this.timeout(30_000);
  let fake: FakeWatchServer;
  let url: string;
  let dir: string;
  const servers: RunningDnsServer[] = [];

  before(() => { defaultGeoTable(); });
  beforeEach(async () => {
    fake = new FakeWatchServer();
    fake.workloads = [workload('web', globalRegions())];
    url = await fake.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meridian-dns-watch-'));
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await fake.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function start(extra: Partial<Parameters<typeof startDnsServer>[0]> = {}): Promise<RunningDnsServer> {
    const s = await startDnsServer({
      port: 0, adminPort: false, zones: exampleZoneConfig(), geo: defaultGeoTable(), log: () => undefined,
      watch: { url, token: TOKEN, minBackoffMs: 20, maxBackoffMs: 200 }, ...extra,
    });
    servers.push(s);
    return s;
  }

  it('serves the snapshot, then moves answers within a second of a health change in the stream', async () => {
    const s = await start();
    const w = fake.workloads[0]!;
    const nearest = expectedRegion(w, '81.2.69.1');
    await until('snapshot answers', async () =>
      JSON.stringify(addressesOf(await query(s.port, 'web.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' }))) === JSON.stringify(regionAddresses(w, nearest)));
    const sick = { ...w, regions: w.regions.map((r, i) => (i === nearest ? { ...r, healthy: false } : r)) };
    const want = regionAddresses(sick, expectedRegion(sick, '81.2.69.1'));
    fake.upsert(sick);
    const took = await until('the answer to move', async () =>
      JSON.stringify(addressesOf(await query(s.port, 'web.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' }))) === JSON.stringify(want), 1000);
    assert.ok(took < 1000, `moved after ${took} ms`);
    fake.remove('web');
    await until('NXDOMAIN after delete', async () => messageRcode(await query(s.port, 'web.meridian.test', QTYPE.A)) === RCODE.NXDOMAIN, 1000);
  });

  it('reconnects with backoff after the stream drops and applies the new snapshot', async () => {
    // The new snapshot replaces the only workload: trusted at once here (a state dropping most names waits by default, see state.test).
    const s = await start({ stateGuard: { maxRemovedShare: 1 } });
    await until('first connection', async () => fake.connections === 1 && s.workloads().length === 1);
    fake.dropAll();
    fake.workloads = [workload('api', globalRegions())];
    await until('reconnect', async () => fake.connections >= 2 && s.workloads().some((w) => w.name === 'api'));
    assert.ok((s.watchStatus()?.reconnects ?? 0) >= 1);
    assert.equal(messageRcode(await query(s.port, 'web.meridian.test', QTYPE.A)), RCODE.NXDOMAIN);
    assert.equal(addressesOf(await query(s.port, 'api.meridian.test', QTYPE.A)).length, 2);
  });

  it('keeps retrying with backoff when the token is rejected', async () => {
    const s = await startDnsServer({
      port: 0, adminPort: false, zones: exampleZoneConfig(), geo: defaultGeoTable(), log: () => undefined,
      watch: { url, token: 'wrong-token-0123456789', minBackoffMs: 20, maxBackoffMs: 100 },
    });
    servers.push(s);
    await until('several rejected attempts', async () => fake.rejected >= 3);
    assert.match(s.watchStatus()?.lastError ?? '', /401/);
  });

  it('answers from the snapshot file after a restart while the scheduler is down', async () => {
    const file = path.join(dir, 'state', 'snapshot.json');
    const first = await start({ snapshotPath: file });
    await until('snapshot applied', async () => first.workloads().length === 1);
    const w = fake.workloads[0]!;
    await first.close();
    servers.length = 0;
    // Down, yet still holding its port: a closed port could be taken by another process meanwhile.
    fake.down = true;
    fake.dropAll();
    const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { revision: number; workloads: WorkloadEndpoints[] };
    assert.equal(saved.workloads[0]?.name, 'web');
    assert.deepEqual((await fs.readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp')), [], 'no temp files left behind');
    const second = await start({ snapshotPath: file });
    const res = await query(second.port, 'web.meridian.test', QTYPE.A, { ecs: '1.0.16.0/24' });
    assert.deepEqual(addressesOf(res), regionAddresses(w, expectedRegion(w, '1.0.16.1')));
    await until('the restarted server to find the scheduler down', async () => fake.refused >= 1);
    assert.notEqual(second.watchStatus()?.state, 'streaming');
    assert.deepEqual(addressesOf(await query(second.port, 'web.meridian.test', QTYPE.A, { ecs: '1.0.16.0/24' })), regionAddresses(w, expectedRegion(w, '1.0.16.1')));
  });
});
