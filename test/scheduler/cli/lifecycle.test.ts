import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyCommand } from '../../../scheduler/cli/commands/apply';
import type { CommandContext } from '../../../scheduler/cli/commands/context';
import { deleteCommand } from '../../../scheduler/cli/commands/delete';
import { getCommand } from '../../../scheduler/cli/commands/get';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../../scheduler/service';
import { FakeCloud, waitFor } from '../fakes';
import type { CloudId } from '../../../providers';

const TOKEN = 'cli-lifecycle-token-0123456789';
const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');

const POLICY = `apiVersion: meridian/v1
kind: RegionPolicy
metadata: { name: two-regions }
spec:
  regions: { allow: ["aws:us-east-1", "azure:westeurope"] }
  spread: { minRegions: 2 }
  objective: cost
`;

const workload = (o: { replicas?: number; policy?: string; name?: string; dnsName?: string } = {}) => `apiVersion: meridian/v1
kind: Workload
metadata: { name: ${o.name ?? 'shop'} }
spec:
  replicas: ${o.replicas ?? 4}
  size: { aws: t3.micro, azure: Standard_B1s }
  image: { aws: ami-0123456789abcdef0, azure: "Canonical:ubuntu:22_04-lts:latest" }
  policy: ${o.policy ?? 'two-regions'}
  dns: { name: ${o.dnsName ?? `${o.name ?? 'shop'}.meridian.test`}, ttl: 30 }
`;

/** Runs the real `meridian` entry point; resolves with its exit code and output. */
function runCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [MAIN, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function capture(argv: string[], server: string): CommandContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    argv, env: { MERIDIAN_SERVER: server, MERIDIAN_API_TOKEN: TOKEN },
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    out: () => out, err: () => err,
  };
}

describe('meridian CLI over the workload lifecycle', function () {
  this.timeout(60_000);
  let svc: SchedulerService | undefined;
  let dir: string | undefined;
  let clouds: Record<CloudId, FakeCloud>;

  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function start(): Promise<{ url: string; file: (name: string, text: string) => string }> {
    clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    const config = loadSchedulerConfig({
      dataDir: ':memory:', dnsZones: ['meridian.test'], api: { token: TOKEN, port: 0 },
      reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2, unhealthyAfterFailures: 1 },
    });
    svc = await startScheduler({ config, providers: {}, provider: (c) => clouds[c], log: () => undefined });
    const d = dir = mkdtempSync(join(tmpdir(), 'meridian-cli-lifecycle-'));
    return { url: svc.url, file: (name, text) => { const f = join(d, name); writeFileSync(f, text); return f; } };
  }

  it('exits 1 at once for a misspelled policy, naming it with a did-you-mean, and stores nothing', async () => {
    const { url, file } = await start();
    assert.equal(await applyCommand(capture(['-f', file('policy.yaml', POLICY), '--no-wait'], url)), 0);
    const started = Date.now();
    const r = await runCli(['apply', '-f', file('shop.yaml', workload({ policy: 'two-regoins' })), '--timeout', '20'], { MERIDIAN_SERVER: url, MERIDIAN_API_TOKEN: TOKEN });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\/policy: policy 'two-regoins' does not exist; did you mean 'two-regions'\?/);
    assert.ok(Date.now() - started < 15_000, 'fails fast, not at the timeout');
    assert.equal(await svc?.store.getWorkload('shop'), undefined);
  });

  it('shows progress only for the generation it applied, never the counts of the one before', async () => {
    const { url, file } = await start();
    const first = capture(['-f', file('all.yaml', `${POLICY}---\n${workload()}`), '--timeout', '20'], url);
    assert.equal(await applyCommand(first), 0, first.err());
    assert.match(first.out(), /shop +\[#{20}\] 4\/4 ready/);

    const second = capture(['-f', file('shop6.yaml', workload({ replicas: 6 })), '--timeout', '20'], url);
    assert.equal(await applyCommand(second), 0, second.err());
    assert.match(second.out(), /workload\/shop applied \(generation 2\)/);
    const progress = second.out().split('\n').filter((l) => /ready/.test(l));
    assert.ok(progress.length > 0);
    assert.ok(progress.every((l) => /\/6 ready/.test(l)), `a line of generation 1: ${progress.join(' | ')}`);
    assert.match(second.out(), /shop +\[#{20}\] 6\/6 ready/);
  });

  it('says a workload is already deleting, waits counting terminating instances, and refuses to revive it unless told', async () => {
    const { url, file } = await start();
    const shop = file('all.yaml', `${POLICY}---\n${workload()}`);
    assert.equal(await applyCommand(capture(['-f', shop, '--timeout', '20'], url)), 0);
    for (const c of Object.values(clouds)) { c.outages.add('us-east-1'); c.outages.add('westeurope'); }

    const first = capture(['workload', 'shop'], url);
    assert.equal(await deleteCommand(first), 0, first.err());
    assert.match(first.out(), /^workload\/shop deleting$/m);
    const second = capture(['shop'], url);
    assert.equal(await deleteCommand(second), 0, second.err());
    assert.match(second.out(), /^workload\/shop already deleting$/m);

    await waitFor('instances terminating', async () => (await svc?.reconciler.status('shop'))?.terminating === 4, 10_000);
    const get = capture(['workloads'], url);
    assert.equal(await getCommand(get), 0);
    assert.match(get.out(), /^shop +two-regions +4 terminating +0 +deleting +- /m);
    assert.match(get.out(), /^shop: deleting: 4 instances still to terminate$/m);

    const revive = capture(['-f', shop, '--no-wait'], url);
    assert.equal(await applyCommand(revive).catch((e: Error) => { revive.stderr.write(e.message); return 1; }), 1);
    assert.match(revive.err(), /workload 'shop' is being deleted \(4 instances terminating, 0 not yet\)/);

    // The clouds answer again: --wait follows the terminations to the end.
    setTimeout(() => { for (const c of Object.values(clouds)) c.outages.clear(); }, 300);
    const wait = capture(['shop', '--wait', '--timeout', '20'], url);
    assert.equal(await deleteCommand(wait), 0, wait.err());
    assert.match(wait.out(), /shop +deleting: 4 terminating, 0 not yet/);
    assert.match(wait.out(), /shop +deleted/);
    assert.doesNotMatch(wait.out(), /\/0 ready/);
  });

  it('keeps a deleting workload with --cancel-deletion', async () => {
    const { url, file } = await start();
    const shop = file('all.yaml', `${POLICY}---\n${workload()}`);
    assert.equal(await applyCommand(capture(['-f', shop, '--timeout', '20'], url)), 0);
    for (const c of Object.values(clouds)) { c.outages.add('us-east-1'); c.outages.add('westeurope'); }
    assert.equal(await deleteCommand(capture(['shop'], url)), 0);
    const kept = capture(['-f', shop, '--cancel-deletion', '--no-wait'], url);
    assert.equal(await applyCommand(kept), 0, kept.err());
    assert.equal((await svc?.store.getWorkload('shop'))?.deletedAt, undefined);
  });

  it('refuses a DNS name outside the zones and one taken by another workload, naming it', async () => {
    const { url, file } = await start();
    assert.equal(await applyCommand(capture(['-f', file('all.yaml', `${POLICY}---\n${workload()}`), '--no-wait'], url)), 0);
    const env = { MERIDIAN_SERVER: url, MERIDIAN_API_TOKEN: TOKEN };
    const outside = await runCli(['apply', '-f', file('o.yaml', workload({ name: 'blog', dnsName: 'blog.example.org' })), '--no-wait'], env);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /\/dns\/name: 'blog\.example\.org' is outside the zones the GeoDNS serves \(meridian\.test\)/);
    const taken = await runCli(['apply', '-f', file('t.yaml', workload({ name: 'blog', dnsName: 'shop.meridian.test' })), '--no-wait'], env);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /dns\.name 'shop\.meridian\.test' is already served for workload 'shop'/);
  });

  it('explains in get why a workload is not converged, region by region', async () => {
    const { url, file } = await start();
    assert.equal(await applyCommand(capture(['-f', file('all.yaml', `${POLICY}---\n${workload()}`), '--timeout', '20'], url)), 0);
    clouds.azure.outages.add('westeurope');
    clouds.aws.stuck.add('us-east-1');
    let out = '';
    await waitFor('the outage in get', async () => {
      const get = capture(['workloads'], url);
      await getCommand(get);
      out = get.out();
      return /^shop: azure\/westeurope: region-unavailable: region API failing \(ServiceUnavailable\)/m.test(out);
    }, 10_000, 100);
    assert.match(out, /^shop +two-regions +\d\/4 +\d+ +(converging|unplaceable)/m);
  });
});
