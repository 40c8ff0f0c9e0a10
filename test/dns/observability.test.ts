import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DnsConfigError } from '../../dns/index';
import { dnsConfigFromArgs, DnsUsageError } from '../../dns/main';
import { promtoolCheck } from '../tools/promtool';
import { query, QTYPE } from './fixtures';

const ENTRY = path.join(__dirname, '..', '..', 'dns', 'main.js');
const MERIDIAN = path.join(__dirname, '..', '..', 'scheduler', 'cli', 'main.js');

function run(main: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...argv], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}


describe('meridian-dns logs and metrics', () => {
  let child: ChildProcess | undefined;
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-dns-obs-')); });
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes JSON lines, one per admin request, and serves /metrics that promtool accepts', async () => {
    const c = spawn(process.execPath, [ENTRY, '--json', '--port', '0', '--admin-port', '0', '--log-level', 'debug',
      '--snapshot', path.join(dir, 'snapshot.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const lines: string[] = [];
    createInterface({ input: c.stderr! }).on('line', (l) => lines.push(l));
    const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    const ready = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
      createInterface({ input: c.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { port: number; adminPort: number }));
      c.once('exit', (code) => reject(new Error(`exited with ${String(code)} before ready:\n${lines.join('\n')}`)));
    });
    const admin = `http://127.0.0.1:${ready.adminPort}`;
    // A query, so that the query counters have series too.
    await query(ready.port, 'meridian.test', QTYPE.SOA);
    assert.equal((await fetch(`${admin}/healthz`, { headers: { 'x-request-id': 'dns-req-1' } })).status, 200);
    assert.equal((await fetch(`${admin}/geo/channels/nope/pause`, { method: 'POST' })).status, 404);
    const metrics = await fetch(`${admin}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    assert.match(text, /^# TYPE meridian_dns_queries_total counter$/m);
    const lint = await promtoolCheck(text);
    assert.equal(lint.code, 0, `promtool check metrics:\n${lint.out}`);

    c.kill('SIGTERM');
    assert.equal(await exited, 0);
    const json = lines.map((l) => {
      const v = JSON.parse(l) as Record<string, unknown>;
      assert.equal(v.name, 'meridian-dns', l);
      assert.ok(typeof v.level === 'string' && typeof v.time === 'string' && typeof v.msg === 'string', l);
      return v;
    });
    const health = json.find((l) => l.msg === 'request' && l.requestId === 'dns-req-1');
    assert.ok(health, `no line for the request:\n${lines.join('\n')}`);
    assert.deepEqual([health.level, health.method, health.route, health.status], ['info', 'GET', '/healthz', 200]);
    assert.equal(typeof health.latencyMs, 'number');
    const action = json.find((l) => l.msg === 'request' && l.method === 'POST');
    assert.deepEqual([action?.route, action?.url, action?.status], ['/geo/channels/:name/:action', '/geo/channels/nope/pause', 404]);
    assert.match(String(action?.requestId), /^admin-\d+$/);
    assert.ok(json.some((l) => l.msg === 'request' && l.route === '/metrics'));
    assert.ok(json.some((l) => /SIGTERM: stopping/.test(String(l.msg)) && l.signal === 'SIGTERM'));
  });

  it('logs nothing at --log-level silent', async () => {
    const c = spawn(process.execPath, [ENTRY, '--json', '--port', '0', '--admin-port', '0', '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let err = '';
    c.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    const ready = await new Promise<{ adminPort: number }>((resolve) => {
      createInterface({ input: c.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { adminPort: number }));
    });
    assert.equal((await fetch(`http://127.0.0.1:${ready.adminPort}/healthz`)).status, 200);
    c.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(err, '');
  });

  it('takes logLevel from the file, --log-level over it, and names the key or flag of a bad one', () => {
    const file = path.join(dir, 'dns.json');
    writeFileSync(file, JSON.stringify({ logLevel: 'warn' }));
    assert.equal(dnsConfigFromArgs([], {}).config.logLevel, 'info');
    assert.equal(dnsConfigFromArgs(['--config', file], {}).config.logLevel, 'warn');
    assert.equal(dnsConfigFromArgs(['--config', file, '--log-level', 'trace'], {}).config.logLevel, 'trace');
    assert.throws(() => dnsConfigFromArgs(['--log-level', 'loud'], {}), (e: Error) => e instanceof DnsUsageError && /--log-level/.test(e.message));
    writeFileSync(file, JSON.stringify({ logLevel: 'loud' }));
    assert.throws(() => dnsConfigFromArgs(['--config', file], {}), (e: Error) =>
      e instanceof DnsConfigError && e.issues.some((i) => i.path === '/logLevel' && /must be one of trace, debug/.test(i.message)));
  });

  it('exits 2 naming --log-level and the levels when either binary gets a bad level', async () => {
    for (const [main, argv] of [[ENTRY, ['--log-level', 'loud']], [MERIDIAN, ['serve', '--log-level', 'loud']], [MERIDIAN, ['up', '--log-level', 'loud']]] as const) {
      const r = await run(main, argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /--log-level must be one of trace, debug, info, warn, error, fatal, silent, got 'loud'/);
    }
  });
});
