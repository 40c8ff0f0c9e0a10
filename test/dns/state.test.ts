import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exampleZoneConfig, type RunningDnsServer, startDnsServer, type WorkloadEndpoints } from '../../dns/index';
import { GeoTable } from '../../dns/geoip/index';
import { messageRcode, QTYPE, RCODE } from '../../dns/wire/index';
import { previousSnapshotPath, writeSnapshot } from '../../dns/watch/snapshot';
import { waitFor } from '../tools/wait';
import { addressesOf, globalRegions, query, runClient, workload } from './fixtures';

const TOKEN = 'test-token-0123456789';
const TABLE = GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 50, lon: 8, country: 'DE' }]);

/** A scheduler stand-in whose snapshot (revision, identity, workloads) the test sets before each connection. */
class Scheduler {
  readonly server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`event: snapshot\nid: ${this.revision}\ndata: ${JSON.stringify({ revision: this.revision, stateId: this.stateId, workloads: this.workloads })}\n\n`);
    this.clients.add(res);
    this.connections++;
    res.on('close', () => this.clients.delete(res));
  });
  private readonly clients = new Set<http.ServerResponse>();
  revision = 5;
  stateId = 'aaaaaaaaaaaa';
  workloads: WorkloadEndpoints[] = [];
  connections = 0;

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Drops the stream: the GeoDNS reconnects and receives the snapshot as it is now. */
  async restart(next: { revision?: number; stateId?: string; workloads?: WorkloadEndpoints[] }): Promise<void> {
    Object.assign(this, next);
    const seen = this.connections;
    for (const c of this.clients) c.destroy();
    await waitFor('the GeoDNS to reconnect', () => this.connections > seen, 10_000);
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function admin(port: number, p: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

const names = ['web', 'api', 'shop', 'docs'];

describe('GeoDNS state it does not blindly trust', function () {
  this.timeout(30_000);
  let dir: string;
  let scheduler: Scheduler;
  let server: RunningDnsServer | undefined;
  const rcodeOf = async (name: string): Promise<number> => messageRcode(await query(server!.port, `${name}.meridian.test`, QTYPE.A));

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-state-'));
    scheduler = new Scheduler();
    scheduler.workloads = names.map((n) => workload(n, globalRegions()));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await scheduler.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(confirmAfterMs: number): Promise<RunningDnsServer> {
    const url = await scheduler.start();
    server = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: TABLE, log: () => undefined,
      watch: { url, token: TOKEN, minBackoffMs: 20, maxBackoffMs: 50 }, snapshotPath: path.join(dir, 'snap.json'),
      stateGuard: { maxRemovedShare: 0.5, confirmAfterMs } });
    await waitFor('the first state', () => server!.workloads().length === names.length);
    return server;
  }

  it('keeps answering from the previous state when the scheduler comes back empty, until the empty state has stood its time', async () => {
    const s = await start(1_500);
    await scheduler.restart({ workloads: [] });
    await waitFor('the empty state to be held', async () => (await admin(s.adminPort!, '/state')).body.pending !== null);
    const held = (await admin(s.adminPort!, '/state')).body.pending as { reason: string; removes: string[] };
    assert.match(held.reason, /removes 4 of the 4 workloads served/);
    assert.deepEqual(held.removes, [...names].sort());
    for (const n of names) assert.equal(await rcodeOf(n), RCODE.NOERROR, `${n} still served`);
    const dig = await runClient('dig', ['@127.0.0.1', '-p', String(s.port), '+short', 'web.meridian.test', 'A']);
    assert.ok(dig.trim().length > 0, 'dig still gets addresses');
    await waitFor('the held state to apply after it stood', async () => (await rcodeOf('web')) === RCODE.NXDOMAIN, 5_000);
    assert.equal((await admin(s.adminPort!, '/state')).body.pending, null);
  });

  it('holds a state of another identity or an older revision until an operator confirms it', async () => {
    const s = await start(60_000);
    await scheduler.restart({ stateId: 'bbbbbbbbbbbb', revision: 1, workloads: [workload('web', globalRegions())] });
    await waitFor('the other identity to be held', async () => (await admin(s.adminPort!, '/state')).body.pending !== null);
    assert.match(((await admin(s.adminPort!, '/state')).body.pending as { reason: string }).reason, /changed identity from aaaaaaaaaaaa to bbbbbbbbbbbb/);
    assert.equal(await rcodeOf('docs'), RCODE.NOERROR, 'still served while held');
    assert.equal((await admin(s.adminPort!, '/state/confirm', 'POST')).status, 200);
    assert.equal(await rcodeOf('docs'), RCODE.NXDOMAIN);
    assert.equal(await rcodeOf('web'), RCODE.NOERROR);
    assert.equal((await admin(s.adminPort!, '/state')).body.stateId, 'bbbbbbbbbbbb');
    assert.equal((await admin(s.adminPort!, '/state/confirm', 'POST')).status, 409, 'nothing left to confirm');

    // Same identity, revision gone back (a restore from an old backup): held too.
    await scheduler.restart({ revision: 0, workloads: [workload('web', globalRegions()), workload('api', globalRegions())] });
    await waitFor('the older revision to be held', async () => (await admin(s.adminPort!, '/state')).body.pending !== null);
    assert.match(((await admin(s.adminPort!, '/state')).body.pending as { reason: string }).reason, /revision 0 is older than the served 1/);
    assert.equal(await rcodeOf('api'), RCODE.NXDOMAIN, 'the held state is not served');
  });

  it('starts from the previous snapshot when the current one is corrupt', async () => {
    const file = path.join(dir, 'snap.json');
    await writeSnapshot(file, { revision: 3, stateId: 'aaaaaaaaaaaa', workloads: [workload('web', globalRegions())] });
    await writeSnapshot(file, { revision: 4, stateId: 'aaaaaaaaaaaa', workloads: [workload('api', globalRegions())] });
    assert.equal(JSON.parse(readFileSync(previousSnapshotPath(file), 'utf8')).revision, 3);
    writeFileSync(file, '{"revision": 4, "workl');
    const lines: string[] = [];
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, log: (l) => lines.push(l), snapshotPath: file });
    assert.equal(await rcodeOf('web'), RCODE.NOERROR);
    assert.ok(lines.some((l) => /snapshot unreadable: snapshot file .*snap\.json is not JSON/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /from the previous snapshot/.test(l)));
  });

  it('answers SERVFAIL, never NXDOMAIN, for names it cannot vouch for once every snapshot is unreadable, until the scheduler sends its state', async () => {
    const file = path.join(dir, 'snap.json');
    writeFileSync(file, 'garbage');
    writeFileSync(previousSnapshotPath(file), '{}');
    // No scheduler answers yet.
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, log: () => undefined, snapshotPath: file,
      watch: { url: 'http://127.0.0.1:9', token: TOKEN, minBackoffMs: 20, maxBackoffMs: 50 } });
    assert.equal(await rcodeOf('web'), RCODE.SERVFAIL);
    assert.equal(await rcodeOf('nothing-here'), RCODE.SERVFAIL);
    assert.equal(messageRcode(await query(server.port, 'meridian.test', QTYPE.SOA)), RCODE.NOERROR, 'static records still answer');
    await server.close();
    // Once a scheduler answers, its snapshot settles every name.
    scheduler.workloads = [workload('web', globalRegions())];
    server = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, log: () => undefined, snapshotPath: file,
      watch: { url: await scheduler.start(), token: TOKEN, minBackoffMs: 20, maxBackoffMs: 50 } });
    await waitFor('the scheduler state', () => server!.workloads().length === 1);
    assert.equal(await rcodeOf('web'), RCODE.NOERROR);
    assert.equal(await rcodeOf('nothing-here'), RCODE.NXDOMAIN);
    assert.ok(addressesOf(await query(server.port, 'web.meridian.test', QTYPE.A)).length > 0);
  });

  it('leaves no partial file behind when a snapshot write fails, and the files it had stay as they were', async () => {
    const file = path.join(dir, 'snap.json');
    // A directory where the file should be: the final rename fails.
    mkdirSync(file);
    await assert.rejects(writeSnapshot(file, { revision: 1, workloads: [] }));
    assert.deepEqual(readdirSync(dir), ['snap.json']);
    rmSync(file, { recursive: true });
    await writeSnapshot(file, { revision: 1, workloads: [] });
    assert.deepEqual(readdirSync(dir).sort(), ['snap.json']);
    await writeSnapshot(file, { revision: 2, workloads: [] });
    assert.deepEqual(readdirSync(dir).sort(), ['snap.json', 'snap.json.prev']);
    assert.ok(existsSync(previousSnapshotPath(file)));
  });
});
