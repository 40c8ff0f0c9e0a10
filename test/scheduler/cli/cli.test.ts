import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, UsageError } from '../../../scheduler/cli/args';
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

/** A context whose output is collected in strings. */
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

describe('meridian CLI', function () {
  this.timeout(30_000);
  let svc: SchedulerService | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
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
    assert.equal(svc?.store.getWorkload('shop'), undefined, 'a plan applies nothing');
  });

  it('deletes a workload and waits until its instances are gone', async () => {
    const { url, file } = await start();
    assert.equal(await applyCommand(capture(['-f', file, '--timeout', '20'], url)), 0);
    const del = capture(['workload', 'shop', '--wait', '--timeout', '20'], url);
    assert.equal(await deleteCommand(del), 0, del.err());
    assert.match(del.out(), /workload\/shop deleting/);
    assert.match(del.out(), /shop +deleted/);
  });

  it('reports an unknown option and a bad output format as usage problems', () => {
    assert.throws(() => parseArgs(['--colour', 'red'], ['-o']), (e: unknown) => e instanceof UsageError && /--colour/.test(e.message));
    assert.throws(() => parseArgs(['-o'], ['-o']), /-o needs a value/);
  });

  it('aligns table columns to the widest cell', () => {
    assert.equal(table(['A', 'BB'], [['xxx', 'y'], ['z', 'wwww']]), 'A    BB\nxxx  y\nz    wwww\n');
  });
});
