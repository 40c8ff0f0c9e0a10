import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { TEST_CREDENTIALS } from '../../../providers/emulator';
import { SqliteStateStore } from '../../../scheduler/store';
import { waitFor } from '../fakes';
import { tempDataDir } from './helpers';

const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');
const TOKEN = 'signals-token-0123456789';

describe('meridian serve under two signals', function () {
  // One scheduler start on a busy machine, then two signals a moment apart.
  this.timeout(90_000);
  let proc: ChildProcess | undefined;
  let hole: Server | undefined;
  const sockets = new Set<Socket>();
  let dataDir: string | undefined;

  afterEach(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const p = proc;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
    for (const s of sockets) s.destroy();
    if (hole) await new Promise((r) => hole?.close(r));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits at once on a second SIGINT while cloud calls hang, with one line and no stack trace, leaving the calls to be replayed', async () => {
    // An EC2 endpoint that accepts connections and never answers: every create stays in flight.
    hole = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => hole?.listen(0, '127.0.0.1', r));
    const holePort = (hole.address() as { port: number }).port;
    dataDir = tempDataDir('signals');
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({
      scheduler: { dataDir: join(dataDir, 'state'), shutdownGraceSeconds: 60, api: { token: TOKEN, port: 0 }, reconciler: { intervalMs: 50 } },
      providers: {
        aws: { endpoint: `http://127.0.0.1:${holePort}`, credentials: { ...TEST_CREDENTIALS.aws } },
        resilience: { attemptTimeoutMs: 120_000, retry: { maxAttempts: 1 } },
      },
    }));
    const p = proc = spawn(process.execPath, [MAIN, 'serve', '--config', configFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise<{ code: number | null; at: number }>((r) => p.once('exit', (code) => r({ code, at: Date.now() })));
    await waitFor('the scheduler listening', () => out.includes('\n'), 60_000, 50);
    const { url } = JSON.parse(out.split('\n')[0]) as { url: string };
    const put = async (path: string, body: unknown) => {
      const res = await fetch(`${url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.ok(res.ok, `PUT ${path}: ${res.status} ${await res.text()}`);
    };
    await put('/v1/policies/one', { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'one' }, spec: { regions: { allow: ['aws:us-east-1'] } } });
    await put('/v1/workloads/hang', { name: 'hang', replicas: 2, policy: 'one', size: { aws: 't3.micro' }, image: { aws: 'ami-0123456789abcdef0' } });
    await waitFor('creates reaching the endpoint', () => sockets.size >= 2, 30_000, 20);

    p.kill('SIGINT');
    await waitFor('the orderly stop under way', () => err.includes('SIGINT: stopping'), 10_000, 10);
    const second = Date.now();
    p.kill('SIGINT');
    const { code, at } = await exited;
    assert.equal(code, 130, err);
    assert.ok(at - second < 5_000, `exited ${at - second} ms after the second signal`);
    assert.match(err, /SIGINT: exiting without waiting for calls in flight/);
    assert.doesNotMatch(err, /^\s+at \S/m, `a stack trace:\n${err}`);

    // The calls cut short are still on record, to be replayed under the same keys at the next start.
    const store = new SqliteStateStore({ dataDir: join(dataDir, 'state') });
    try {
      assert.equal(store.listRecords('hang').filter((r) => r.state === 'creating').length, 2);
      assert.equal(store.listJournal('hang').filter((e) => e.outcome === 'pending').length, 2);
    } finally {
      store.close();
    }
  });

  it('stops meridian emulators on SIGINT with status 0 and a line saying so', async () => {
    const p = proc = spawn(process.execPath, [MAIN, 'emulators', '--aws-port', '0', '--azure-port', '0', '--alibaba-port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    await waitFor('the emulators listening', () => out.includes('\n'), 60_000, 50);
    const { aws } = JSON.parse(out.split('\n')[0]) as { aws: { admin: string } };
    assert.equal((await fetch(`${aws.admin}instances`)).status, 200);
    p.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const lines = err.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { level: string; msg: string; signal?: string });
    assert.ok(lines.some((l) => l.level === 'info' && /^SIGINT: stopping/.test(l.msg) && l.signal === 'SIGINT'), err);
    assert.doesNotMatch(err, /^\s+at \S/m);
  });
});
