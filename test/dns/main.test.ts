import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DnsConfigError } from '../../dns/index';
import { dnsConfigFromArgs, DnsUsageError } from '../../dns/main';
import { addressesOf, query, QTYPE, workload, region } from './fixtures';

const ENTRY = path.join(__dirname, '..', '..', 'dns', 'main.js');

/** Process ids of the direct children of `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
    .filter((x) => x !== '').map(Number);
}

/** Starts `meridian-dns --json ...` and resolves with the process and its ready line. */
function startEntry(args: readonly string[]): Promise<{ child: ChildProcess; ready: { port: number; adminPort: number | null } }> {
  const child = spawn(process.execPath, [ENTRY, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no ready line in 30 s: ${err}`)); }, 30_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, ready: JSON.parse(line) as { port: number; adminPort: number | null } });
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${String(code)} before ready: ${err}`)); });
  });
}

/** SIGTERM, then the exit code. */
function terminate(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) { resolve(child.exitCode); return; }
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('meridian-dns settings from file and flags', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-dns-main-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the example zone on the defaults when given nothing', () => {
    const { config, workers } = dnsConfigFromArgs([], {});
    assert.equal(config.address, '127.0.0.1');
    assert.equal(config.port, 5300);
    assert.equal(config.admin.port, 8053);
    assert.deepEqual(config.zones.map((z) => z.origin), ['meridian.test']);
    assert.equal(workers, 1);
    assert.equal(config.udpTransport, undefined, 'the server picks the batched transport where it is built');
    assert.ok(Object.isFrozen(config));
  });

  it('takes the UDP transport from --udp or the file, and rejects any other', () => {
    assert.equal(dnsConfigFromArgs(['--udp', 'dgram'], {}).config.udpTransport, 'dgram');
    const file = path.join(dir, 'udp.json');
    writeFileSync(file, JSON.stringify({ udpTransport: 'batched' }));
    assert.equal(dnsConfigFromArgs(['--config', file], {}).config.udpTransport, 'batched');
    assert.throws(() => dnsConfigFromArgs(['--udp', 'epoll'], {}), (e: Error) => e instanceof DnsUsageError && /--udp must be batched or dgram/.test(e.message));
    writeFileSync(file, JSON.stringify({ udpTransport: 'fast' }));
    assert.throws(() => dnsConfigFromArgs(['--config', file], {}), (e: Error) => e instanceof DnsConfigError && /\/udpTransport/.test(e.message));
  });

  it('reads a YAML file and lets flags override it, taking the watch token from the environment', () => {
    const file = path.join(dir, 'dns.yaml');
    writeFileSync(file, 'port: 5400\nadmin: { port: 9053 }\nzones:\n  - origin: example.test\n    soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 7 }\n    ns: [{ name: ns1.example.test, ipv4: 127.0.0.1 }]\n');
    const { config } = dnsConfigFromArgs(['--config', file, '--port', '5401', '--admin-port', 'off', '--watch', 'http://127.0.0.1:8080'],
      { MERIDIAN_API_TOKEN: 'tok-from-env' });
    assert.equal(config.port, 5401);
    assert.equal(config.admin.enabled, false);
    assert.deepEqual(config.zones.map((z) => z.origin), ['example.test']);
    assert.deepEqual({ url: config.watch?.url, token: config.watch?.token }, { url: 'http://127.0.0.1:8080', token: 'tok-from-env' });
  });

  it('names the flag or the key path of every bad setting', () => {
    assert.throws(() => dnsConfigFromArgs(['--port', '70000'], {}), (e: Error) => e instanceof DnsUsageError && /--port/.test(e.message));
    assert.throws(() => dnsConfigFromArgs(['--workers', 'two'], {}), (e: Error) => e instanceof DnsUsageError && /--workers/.test(e.message));
    assert.throws(() => dnsConfigFromArgs(['--watch', 'http://127.0.0.1:1'], {}), (e: Error) => e instanceof DnsUsageError && /token/.test(e.message));
    assert.throws(() => dnsConfigFromArgs(['--no-such-flag'], {}), DnsUsageError);
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ maxAddresses: 0, rrl: { slip: -1 } }));
    assert.throws(() => dnsConfigFromArgs(['--config', file], {}), (e: Error) =>
      e instanceof DnsConfigError && /\/maxAddresses/.test(e.message) && /\/rrl\/slip/.test(e.message));
    writeFileSync(file, '{ not json');
    assert.throws(() => dnsConfigFromArgs(['--config', file], {}), (e: Error) => e instanceof DnsUsageError && e.message.includes(file));
  });

  it('refuses to start on a catalog.file that is not a catalog, naming the file and the problem', async function () {
    this.timeout(60_000);
    const catalog = path.join(dir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify({ format: 'meridian-catalog', version: 9 }));
    const config = path.join(dir, 'dns.json');
    writeFileSync(config, JSON.stringify({ catalog: { file: catalog } }));
    assert.equal(dnsConfigFromArgs(['--config', config], {}).config.catalog.file, catalog);
    const child = spawn(process.execPath, [ENTRY, '--port', '0', '--admin-port', 'off', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(err, new RegExp(`catalog file ${catalog.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not usable: /version: version 9 is not supported`));
  });

  it('serves the workloads of a snapshot file as a process, and stops cleanly on SIGTERM', async function () {
    this.timeout(60_000);
    const snapshot = path.join(dir, 'snapshot.json');
    const web = workload('web', [region('azure', 'westeurope', ['192.0.2.10'])]);
    writeFileSync(snapshot, JSON.stringify({ revision: 3, savedAt: new Date().toISOString(), workloads: [web] }));
    const { child, ready } = await startEntry(['--port', '0', '--admin-port', '0', '--snapshot', snapshot]);
    try {
      assert.deepEqual(addressesOf(await query(ready.port, 'web.meridian.test', QTYPE.A)), ['192.0.2.10']);
      const health = await fetch(`http://127.0.0.1:${String(ready.adminPort)}/healthz`);
      assert.equal(((await health.json()) as { workloads: number }).workloads, 1);
    } finally {
      assert.equal(await terminate(child), 0);
    }
  });

  it('runs two worker processes on one port with --workers 2, reporting the port they got for --port 0', async function () {
    this.timeout(60_000);
    const { child, ready } = await startEntry(['--port', '0', '--admin-port', 'off', '--workers', '2']);
    let workers: number[] = [];
    try {
      assert.ok(ready.port > 0, `reported port ${ready.port}`);
      assert.equal(ready.adminPort, null);
      workers = childrenOf(child.pid!);
      assert.equal(workers.length, 2, `worker processes ${workers.join(', ')}`);
      for (let i = 0; i < 20; i++) {
        const soa = await query(ready.port, 'meridian.test', QTYPE.SOA, { tcp: i % 2 === 1 });
        assert.equal(soa.answers.length, 1);
      }
    } finally {
      assert.equal(await terminate(child), 0);
    }
    assert.ok(workers.every((pid) => !existsSync(`/proc/${pid}`)), 'the workers stopped with the primary');
  });
});
