import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exampleZoneConfig, type RunningDnsServer, startDnsServer, type WorkloadEndpoints } from '../../dns/index';
import { GeoTable } from '../../dns/geoip/index';
import { WatchClient, WatchStreamDecoder } from '../../dns/watch/client';
import type { WatchEvent } from '../../dns/watch/protocol';
import { loadSchedulerConfig } from '../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../scheduler/service';
import { FakeCloud } from '../scheduler/fakes';
import { waitFor } from '../tools/wait';
import { globalRegions, workload } from './fixtures';

const TOKEN = 'watch-client-token-0123456789';
const TABLE = GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 50, lon: 8, country: 'DE' }]);

/** Decodes `chunks` in order; every event decoded. */
function decode(chunks: readonly string[]): WatchEvent[] {
  const events: WatchEvent[] = [];
  const decoder = new WatchStreamDecoder((e) => events.push(e));
  for (const c of chunks) decoder.feed(c);
  return events;
}

const upsertFrame = (revision: number, w: WorkloadEndpoints, eol = '\n'): string =>
  [`event: upsert`, `id: ${revision}`, `data: ${JSON.stringify({ revision, workload: w })}`, '', ''].join(eol);

describe('GeoDNS watch stream decoding', () => {
  it('takes a CRLF split across two chunks as one line ending, not as an empty line that ends the event', () => {
    const w = workload('web', globalRegions());
    const text = upsertFrame(7, w, '\r\n');
    const cut = text.indexOf('\r\n') + 1;
    const events = decode([text.slice(0, cut), text.slice(cut)]);
    assert.deepEqual(events, [{ type: 'upsert', revision: 7, workload: w }]);
  });

  it('decodes the same events wherever a CRLF-framed stream is split in two', () => {
    const text = [upsertFrame(1, workload('web', globalRegions()), '\r\n'), ': ping\r\n\r\n',
      `event: delete\r\nid: 2\r\ndata: ${JSON.stringify({ revision: 2, name: 'api' })}\r\n\r\n`].join('');
    const whole = decode([text]);
    assert.deepEqual(whole.map((e) => `${e.type} ${e.revision}`), ['upsert 1', 'delete 2']);
    for (let i = 1; i < text.length; i++) assert.deepEqual(decode([text.slice(0, i), text.slice(i)]), whole, `split at ${i}`);
  });

  it('decodes a 10,000-workload snapshot fed in 1 KiB chunks', () => {
    const workloads = Array.from({ length: 10_000 }, (_, k) => workload(`w${k}`, globalRegions().slice(0, 2)));
    const text = `event: snapshot\nid: 9\ndata: ${JSON.stringify({ revision: 9, stateId: '00000000000a', workloads })}\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 1024) chunks.push(text.slice(i, i + 1024));
    const events = decode(chunks);
    assert.equal(events.length, 1);
    const snap = events[0] as Extract<WatchEvent, { type: 'snapshot' }>;
    assert.equal(snap.workloads.length, 10_000);
    assert.equal(snap.workloads[9_999]!.name, 'w9999');
  });

  it('rejects a snapshot whose instance address is not IPv4, naming where', () => {
    const w = workload('web', globalRegions());
    const bad = { ...w, regions: [{ ...w.regions[0]!, instances: [{ id: 'i-1', ipv4: '10.0.0.256', healthy: true }] }] };
    const text = `event: snapshot\ndata: ${JSON.stringify({ revision: 3, workloads: [w, bad] })}\n\n`;
    assert.throws(() => decode([text]), (e: Error & { code?: string }) => e.code === 'DNS_ERR_WATCH_PROTOCOL'
      && /\/workloads\/1\/regions\/0\/instances\/0\/ipv4/.test(e.message));
  });

  it('throws a protocol error for an event whose data is not JSON', () => {
    assert.throws(() => decode(['event: upsert\ndata: {"revision":\n\n']), { code: 'DNS_ERR_WATCH_PROTOCOL' });
  });
});

describe('GeoDNS watch client reconnection', function () {
  this.timeout(30_000);
  let server: http.Server | undefined;
  let client: WatchClient | undefined;

  afterEach(async () => {
    client?.stop();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    server = undefined;
  });

  it('reconnects for a full snapshot, naming no position, when the stream skips a revision', async () => {
    const requests: Array<{ url: string; lastEventId?: string }> = [];
    server = http.createServer((req, res) => {
      requests.push({ url: req.url ?? '', lastEventId: req.headers['last-event-id'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: snapshot\nid: 4\ndata: ${JSON.stringify({ revision: 4, stateId: '0000000000bb', workloads: [] })}\n\n`);
      // Revision 5 never comes.
      if (requests.length === 1) res.write(upsertFrame(6, workload('web', globalRegions())));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const events: WatchEvent[] = [];
    client = new WatchClient({ url, token: TOKEN, minBackoffMs: 10, maxBackoffMs: 20,
      resumeFrom: { stateId: '0000000000bb', revision: 3 } }, (e) => events.push(e));
    client.start();
    await waitFor('a second connection', () => requests.length >= 2 && client!.getStatus().snapshots >= 2);
    assert.deepEqual(requests[0], { url: '/v1/watch?stateId=0000000000bb', lastEventId: '3' });
    assert.deepEqual(requests[1], { url: '/v1/watch', lastEventId: undefined });
    assert.deepEqual(events.map((e) => `${e.type} ${e.revision}`), ['snapshot 4', 'snapshot 4']);
    assert.match(client.getStatus().lastError ?? '', /skipped from revision 4 to 6/);
  });
});

/** A TCP relay in front of the scheduler: one address across its restarts, and a way to cut every connection. */
class Relay {
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;
  /** The scheduler's port. */
  target = 0;
  /** While true every connection is refused (the network between them is down). */
  down = false;

  constructor() {
    this.server = net.createServer((client) => {
      if (this.down) { client.destroy(); return; }
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => { this.sockets.delete(s); (s === client ? upstream : client).destroy(); });
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Cuts every connection in both directions. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function send(url: string, method: 'PUT' | 'DELETE', p: string, body?: unknown): Promise<void> {
  const r = await fetch(`${url}${p}`, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined });
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${await r.text()}`);
}

const policyDoc = {
  apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'eu' },
  spec: { regions: { allow: ['aws:eu-central-1', 'azure:westeurope'] }, objective: 'cost' },
};

const workloadBody = (name: string) => ({
  name, replicas: 0,
  size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
  image: { aws: 'ami-0123456789abcdef0', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase' },
  policy: 'eu', dns: { name: `${name}.meridian.test`, ttl: 30 },
});

const byName = (list: readonly WorkloadEndpoints[]): string => JSON.stringify([...list].sort((a, b) => a.name.localeCompare(b.name)));

describe('GeoDNS following a real scheduler across disconnections', function () {
  this.timeout(60_000);
  let dir: string;
  let relay: Relay;
  let relayUrl: string;
  const schedulers: SchedulerService[] = [];
  const servers: RunningDnsServer[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-watch-client-'));
    relay = new Relay();
    relayUrl = await relay.start();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await relay.stop();
    for (const s of schedulers.splice(0)) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function scheduler(dataDir: string, watchLogEvents?: number): Promise<SchedulerService> {
    const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    const config = loadSchedulerConfig({
      dataDir, api: { token: TOKEN, port: 0, host: '127.0.0.1', ...(watchLogEvents !== undefined ? { watchLogEvents } : {}) },
      reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.2 },
    });
    const svc = await startScheduler({ config, providers: {}, provider: (c) => clouds[c], log: () => undefined });
    schedulers.push(svc);
    relay.target = Number(new URL(svc.url).port);
    return svc;
  }

  async function dns(snapshotPath?: string): Promise<RunningDnsServer> {
    const s = await startDnsServer({ port: 0, adminPort: false, zones: exampleZoneConfig(), geo: TABLE, log: () => undefined,
      watch: { url: relayUrl, token: TOKEN, minBackoffMs: 20, maxBackoffMs: 200 }, snapshotPath });
    servers.push(s);
    return s;
  }

  /** Waits until the scheduler publishes `count` workloads and the GeoDNS holds exactly those, at the same revision. */
  async function inStep(svc: SchedulerService, s: RunningDnsServer, count: number): Promise<void> {
    await waitFor(`the GeoDNS to hold the scheduler's ${count} workloads`, () => {
      const snap = svc.watch.snapshot();
      return snap.workloads.length === count && s.watchStatus()?.revision === snap.revision
        && byName(s.workloads()) === byName(snap.workloads as WorkloadEndpoints[]);
    }, 20_000);
  }

  async function putAll(url: string, names: readonly string[]): Promise<void> {
    for (const n of names) await send(url, 'PUT', `/v1/workloads/${n}`, workloadBody(n));
  }

  const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, k) => `w${String(from + k).padStart(3, '0')}`);

  it('resumes from its last revision after the connection drops mid-stream, with no second snapshot', async () => {
    const svc = await scheduler(':memory:');
    await send(svc.url, 'PUT', '/v1/policies/eu', policyDoc);
    await putAll(svc.url, range(0, 20));
    const s = await dns();
    await inStep(svc, s, 20);
    const writes = putAll(svc.url, range(20, 60));
    await waitFor('events after the snapshot', () => s.workloads().length > 25, 20_000);
    relay.cut();
    await writes;
    await send(svc.url, 'DELETE', '/v1/workloads/w003');
    await inStep(svc, s, 59);
    assert.equal(s.workloads().length, 59);
    assert.ok((s.watchStatus()?.reconnects ?? 0) >= 1, 'it reconnected');
    assert.equal(svc.watch.streamsOpened().snapshot, 1, 'one snapshot, on the first connection');
    assert.ok(svc.watch.streamsOpened().resume >= 1, 'the scheduler resumed the stream');
    assert.equal(s.watchStatus()?.snapshots, 1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(metrics, /^meridian_watch_streams_total\{start="snapshot"\} 1$/m);
    assert.match(metrics, /^meridian_watch_streams_total\{start="resume"\} [1-9]\d*$/m);
  });

  it('takes a snapshot when the scheduler no longer keeps the events it missed', async () => {
    const svc = await scheduler(':memory:', 4);
    await send(svc.url, 'PUT', '/v1/policies/eu', policyDoc);
    await putAll(svc.url, range(0, 5));
    const s = await dns();
    await inStep(svc, s, 5);
    const before = svc.watch.snapshot().revision;
    relay.down = true;
    relay.cut();
    await putAll(svc.url, range(5, 25));
    await waitFor('20 more revisions published', () => svc.watch.snapshot().revision >= before + 20);
    relay.down = false;
    await inStep(svc, s, 25);
    assert.deepEqual(svc.watch.streamsOpened(), { snapshot: 2, resume: 0 });
    assert.equal(s.watchStatus()?.snapshots, 2);
  });

  it('ends with a restarted scheduler\'s workloads, from the snapshot it sends since it cannot resume an earlier process\'s stream', async () => {
    const dataDir = path.join(dir, 'scheduler');
    const first = await scheduler(dataDir);
    await send(first.url, 'PUT', '/v1/policies/eu', policyDoc);
    await putAll(first.url, range(0, 10));
    const s = await dns();
    await inStep(first, s, 10);
    await first.stop();
    schedulers.splice(schedulers.indexOf(first), 1);
    const second = await scheduler(dataDir);
    await putAll(second.url, range(10, 15));
    await send(second.url, 'DELETE', '/v1/workloads/w000');
    await inStep(second, s, 14);
    assert.equal(s.workloads().length, 14);
    assert.deepEqual(second.watch.streamsOpened(), { snapshot: 1, resume: 0 });
    assert.equal(s.watchStatus()?.snapshots, 2);
  });

  it('resumes from its snapshot file after a restart of its own, with no snapshot from the scheduler', async () => {
    const file = path.join(dir, 'dns', 'snapshot.json');
    const svc = await scheduler(':memory:');
    await send(svc.url, 'PUT', '/v1/policies/eu', policyDoc);
    await putAll(svc.url, range(0, 10));
    const first = await dns(file);
    await inStep(svc, first, 10);
    // A change the file holds, so that the position it resumes from is past the snapshot's.
    await putAll(svc.url, range(10, 12));
    await inStep(svc, first, 12);
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    await putAll(svc.url, range(12, 20));
    const second = await dns(file);
    await inStep(svc, second, 20);
    assert.deepEqual(svc.watch.streamsOpened(), { snapshot: 1, resume: 1 });
    assert.equal(second.watchStatus()?.snapshots, 0);
  });
});
