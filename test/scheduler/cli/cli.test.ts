import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, UsageError } from '../../../scheduler/cli/args';
import { ApiCallError } from '../../../scheduler/cli/client';
import { applyCommand } from '../../../scheduler/cli/commands/apply';
import type { CommandContext } from '../../../scheduler/cli/commands/context';
import { deleteCommand } from '../../../scheduler/cli/commands/delete';
import { getCommand } from '../../../scheduler/cli/commands/get';
import { planCommand } from '../../../scheduler/cli/commands/plan';
import { table } from '../../../scheduler/cli/output';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../../scheduler/service';
import { FakeCloud } from '../fakes';

const TOKEN = 'cli-test-token-0123456789';
const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');

/** Runs the real `meridian` entry point with only the given environment; resolves with its exit code and output. */
function runCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [MAIN, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const YAML = `apiVersion: meridian/v1
kind: RegionPolicy
metadata: { name: two-regions }
spec:
  regions: { allow: ["aws:us-east-1", "azure:westeurope"] }
  spread: { minRegions: 2 }
  objective: cost
---
apiVersion: meridian/v1
kind: Workload
metadata: { name: shop }
spec:
  replicas: 4
  size: { aws: t3.micro, azure: Standard_B1s }
  image: { aws: ami-0123456789abcdef0, azure: "Canonical:ubuntu:22_04-lts:latest" }
  policy: two-regions
  dns: { name: shop.meridian.test, ttl: 30 }
`;

/** A context whose output is collected in strings; the server and token come from its environment. */
function capture(argv: string[], server: string, env: Record<string, string | undefined> = { MERIDIAN_SERVER: server, MERIDIAN_API_TOKEN: TOKEN }):
  CommandContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    argv, env,
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    out: () => out, err: () => err,
  };
}

describe('meridian CLI', function () {
  this.timeout(30_000);
  let svc: SchedulerService | undefined;
  let dir: string | undefined;
  let decoy: Server | undefined;

  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
    decoy?.closeAllConnections();
    if (decoy) await new Promise((r) => decoy!.close(r));
    decoy = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function start(): Promise<{ url: string; file: string }> {
    const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    const config = loadSchedulerConfig({
      dataDir: ':memory:', api: { token: TOKEN, port: 0 },
      reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2 },
    });
    svc = await startScheduler({ config, providers: {}, provider: (c) => clouds[c], log: () => undefined });
    dir = mkdtempSync(join(tmpdir(), 'meridian-cli-'));
    const file = join(dir, 'shop.yaml');
    writeFileSync(file, YAML);
    return { url: svc.url, file };
  }

  it('applies a multi-document file, shows progress until converged, and lists the workload as a table and as JSON', async () => {
    const { url, file } = await start();
    const apply = capture(['-f', file, '--timeout', '20'], url);
    assert.equal(await applyCommand(apply), 0, apply.err());
    assert.match(apply.out(), /regionpolicy\/two-regions applied/);
    assert.match(apply.out(), /workload\/shop applied \(generation 1\)/);
    assert.match(apply.out(), /shop +\[#{20}\] 4\/4 ready/);

    const get = capture(['workloads'], url);
    assert.equal(await getCommand(get), 0);
    const [header, row] = get.out().trim().split('\n');
    assert.match(header, /^NAME +POLICY +READY +PENDING +STATUS/);
    assert.match(row, /^shop +two-regions +4\/4 +0 +converged/);

    const json = capture(['workloads', 'shop', '-o', 'json'], url);
    assert.equal(await getCommand(json), 0);
    const w = JSON.parse(json.out()) as { name: string; status: { ready: number } };
    assert.deepEqual([w.name, w.status.ready], ['shop', 4]);
  });

  it('plans from a file without applying it, with the cost and the regions left out', async () => {
    const { url, file } = await start();
    const plan = capture(['-f', file], url);
    assert.equal(await planCommand(plan), 0, plan.err());
    assert.match(plan.out(), /workload shop: \$\d+\.\d{4} per hour/);
    assert.match(plan.out(), /us-east-1/);
    assert.match(plan.out(), /left out: \d+ regions/);
    assert.equal(await svc?.store.getWorkload('shop'), undefined, 'a plan applies nothing');
  });

  it('explains in a plan each region the accounts cannot use: another partition, or an opt-in region not enabled', async () => {
    const { url, file } = await start();
    const plan = capture(['-f', file, '--all-reasons'], url);
    assert.equal(await planCommand(plan), 0, plan.err());
    const line = (region: string) => plan.out().split('\n').find((l) => l.startsWith(`${region} `)) ?? '';
    assert.match(line('aws/us-gov-east-1'), /account: aws:us-gov-east-1: partition aws-us-gov is not the account's partition \(aws\)/);
    assert.match(line('azure/chinanorth3'), /account: azure:chinanorth3: partition azure-china is not the account's partition \(azure\)/);
    assert.match(line('aws/af-south-1'), /account: aws:af-south-1: opt-in region not enabled/);
    assert.match(line('azure/norwaywest'), /account: azure:norwaywest: access-restricted region not enabled/);
  });

  it('deletes a workload and waits until its instances are gone', async () => {
    const { url, file } = await start();
    assert.equal(await applyCommand(capture(['-f', file, '--timeout', '20'], url)), 0);
    const del = capture(['workload', 'shop', '--wait', '--timeout', '20'], url);
    assert.equal(await deleteCommand(del), 0, del.err());
    assert.match(del.out(), /workload\/shop deleting/);
    assert.match(del.out(), /shop +deleted/);
  });

  it('lists the region catalog with partition, access, usability, health and breaker state, filtered by --cloud, as a table and as JSON', async () => {
    const { url } = await start();
    const all = capture(['regions'], url);
    assert.equal(await getCommand(all), 0, all.err());
    const [header, ...rows] = all.out().trim().split('\n');
    assert.match(header, /^CLOUD +REGION +NAME +COUNTRY +PARTITION +ACCESS +USABLE +HEALTH +BREAKER +CONSTRAINED$/);
    assert.ok(rows.some((r) => /^aws +us-east-1 +.+ US\/NA +aws +default +yes +healthy +closed +-$/.test(r)), rows.slice(0, 5).join('\n'));
    assert.ok(rows.some((r) => /^aws +us-gov-west-1 +.+ US\/NA +aws-us-gov +default +no +healthy/.test(r)), 'GovCloud is listed but not usable');
    assert.ok(rows.some((r) => /^aws +af-south-1 +.+ ZA\/AF +aws +opt-in +no +healthy/.test(r)), 'an opt-in region is listed but not usable');
    assert.deepEqual(new Set(rows.map((r) => r.split(/ +/)[0])), new Set(['aws', 'azure', 'alibaba']));

    const azure = capture(['regions', '--cloud', 'azure', '-o', 'json'], url);
    assert.equal(await getCommand(azure), 0, azure.err());
    const { items } = JSON.parse(azure.out()) as { items: Array<{ cloud: string; id: string; healthy: boolean }> };
    assert.ok(items.length > 10, `${items.length} Azure regions`);
    assert.ok(items.every((r) => r.cloud === 'azure'));
    assert.ok(items.some((r) => r.id === 'westeurope' && r.healthy));
  });

  it('lists applied policies with their objective, and shows one as JSON', async () => {
    const { url, file } = await start();
    const none = capture(['policies'], url);
    assert.equal(await getCommand(none), 0, none.err());
    assert.doesNotMatch(none.out(), /two-regions/);
    assert.equal(await applyCommand(capture(['-f', file, '--timeout', '20'], url)), 0);
    const list = capture(['policies'], url);
    assert.equal(await getCommand(list), 0, list.err());
    const [header, row] = list.out().trim().split('\n');
    assert.match(header, /^NAME +OBJECTIVE +UPDATED$/);
    assert.match(row, /^two-regions +cost +\d{4}-\d\d-\d\dT/);
    const one = capture(['policy', 'two-regions', '-o', 'json'], url);
    assert.equal(await getCommand(one), 0, one.err());
    const p = JSON.parse(one.out()) as { name: string; document: { spec: { spread: { minRegions: number } } } };
    assert.deepEqual([p.name, p.document.spec.spread.minRegions], ['two-regions', 2]);
  });

  it('takes --server and --token over $MERIDIAN_SERVER and $MERIDIAN_API_TOKEN', async () => {
    const { url } = await start();
    // The environment names another server, which must never be asked.
    let decoyHits = 0;
    decoy = createServer((_req, res) => { decoyHits++; res.writeHead(500).end(); });
    await new Promise<void>((r) => decoy!.listen(0, '127.0.0.1', r));
    const elsewhere = `http://127.0.0.1:${(decoy.address() as AddressInfo).port}`;
    const env = { MERIDIAN_SERVER: elsewhere, MERIDIAN_API_TOKEN: 'wrong-token-0123456789' };
    const flags = capture(['regions', '-o', 'json', '--server', url, '--token', TOKEN], url, env);
    assert.equal(await getCommand(flags), 0, flags.err());
    assert.ok((JSON.parse(flags.out()) as { items: unknown[] }).items.length > 0);
    assert.equal(decoyHits, 0);
    // And the environment alone reaches the server it names.
    await assert.rejects(getCommand(capture(['regions'], url, env)), (e: ApiCallError) => e.status === 500);
    assert.equal(decoyHits, 1);
  });

  it('runs as a process with only --server and --token, and exits 1 naming the token when it is refused', async function () {
    this.timeout(90_000);
    const { url, file } = await start();
    assert.equal(await applyCommand(capture(['-f', file, '--timeout', '20'], url)), 0);
    const ok = await runCli(['get', 'policies', '--server', url, '--token', TOKEN], {});
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^two-regions +cost /m);
    const refused = await runCli(['get', 'regions', '--server', url, '--token', 'wrong-token-0123456789'], {});
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /--token/);
    await assert.rejects(getCommand(capture(['regions', '--server', url], url, {})),
      (e: ApiCallError) => e.status === 401 && /MERIDIAN_API_TOKEN or pass --token/.test(e.message));
  });

  it('reports an unknown option and a bad output format as usage problems', () => {
    assert.throws(() => parseArgs(['--colour', 'red'], ['-o']), (e: unknown) => e instanceof UsageError && /--colour/.test(e.message));
    assert.throws(() => parseArgs(['-o'], ['-o']), /-o needs a value/);
  });

  it('aligns table columns to the widest cell', () => {
    assert.equal(table(['A', 'BB'], [['xxx', 'y'], ['z', 'wwww']]), 'A    BB\nxxx  y\nz    wwww\n');
  });
});
