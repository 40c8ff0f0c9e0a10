import { strict as assert } from 'node:assert';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { flagsOfUsage, parseArgs, UsageError } from '../../../common';
import { COMMANDS, COMPLETION_WORDS } from '../../../scheduler/cli/main';
import { loadSchedulerConfig } from '../../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../../scheduler/service';
import { FakeCloud, waitFor } from '../fakes';

const TOKEN = 'operator-test-token-0123456789';
const MERIDIAN = resolve(__dirname, '../../../scheduler/cli/main.js');
const MERIDIAN_DNS = resolve(__dirname, '../../../dns/main.js');
const VERSION = (JSON.parse(readFileSync(resolve(__dirname, '../../../../package.json'), 'utf8')) as { version: string }).version;

/** Runs a built entry point with only the given environment; resolves with its exit code and output. */
function run(main: string, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [main, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const POLICY = `apiVersion: meridian/v1
kind: RegionPolicy
metadata: { name: ops-eu }
spec:
  regions: { allow: ["aws:eu-central-1", "azure:westeurope"] }
  objective: cost
`;

const WORKLOAD = (name: string) => `apiVersion: meridian/v1
kind: Workload
metadata: { name: ${name} }
spec:
  replicas: 2
  size: { aws: t3.micro, azure: Standard_B1s }
  image: { aws: ami-0123456789abcdef0, azure: "Canonical:ubuntu:22_04-lts:latest" }
  policy: ops-eu
`;

describe('meridian and meridian-dns as operators type them', function () {
  this.timeout(60_000);
  let svc: SchedulerService;
  let dir: string;
  let env: Record<string, string>;
  const meridian = (...argv: string[]) => run(MERIDIAN, argv, env);

  before(async () => {
    const clouds = { aws: new FakeCloud('aws'), azure: new FakeCloud('azure'), alibaba: new FakeCloud('alibaba') };
    svc = await startScheduler({
      config: loadSchedulerConfig({ dataDir: ':memory:', api: { host: '127.0.0.1', token: TOKEN, port: 0 }, reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2 } }),
      providers: {}, provider: (c) => clouds[c], log: () => undefined,
    });
    env = { MERIDIAN_SERVER: svc.url, MERIDIAN_API_TOKEN: TOKEN };
    dir = mkdtempSync(join(tmpdir(), 'meridian-ops-'));
  });
  after(async () => {
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the version of both binaries with --version', async () => {
    const [m, d] = await Promise.all([meridian('--version'), run(MERIDIAN_DNS, ['--version'])]);
    assert.deepEqual([m.code, m.stdout], [0, `meridian ${VERSION}\n`]);
    assert.deepEqual([d.code, d.stdout], [0, `meridian-dns ${VERSION}\n`]);
  });

  it('applies every YAML file of a directory, policies before workloads whatever the file order', async () => {
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    // Sorted by name the workload comes first: it is applied after the policy all the same.
    writeFileSync(join(docs, '10-web.yaml'), WORKLOAD('ops-web'));
    writeFileSync(join(docs, '20-policy.yml'), POLICY);
    writeFileSync(join(docs, 'notes.txt'), 'not a document');
    const res = await meridian('apply', '-f', docs, '--no-wait', '-ojson');
    assert.equal(res.code, 0, res.stderr);
    const applied = (JSON.parse(res.stdout) as { applied: Array<{ kind: string; name: string }> }).applied.map((a) => `${a.kind}/${a.name}`);
    assert.deepEqual(applied, ['RegionPolicy/ops-eu', 'Workload/ops-web']);
  });

  it('prints get output as JSON with -o json or -ojson, and as YAML with -o yaml', async () => {
    const [json, glued, yaml] = await Promise.all([
      meridian('get', 'workloads', '-o', 'json'), meridian('get', 'workload', 'ops-web', '-ojson'), meridian('get', 'policies', '--output=yaml'),
    ]);
    for (const r of [json, glued, yaml]) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { items: Array<{ name: string }> }).items.map((w) => w.name), ['ops-web']);
    assert.equal((JSON.parse(glued.stdout) as { name: string }).name, 'ops-web');
    assert.deepEqual((parseYaml(yaml.stdout) as { items: Array<{ name: string }> }).items.map((p) => p.name), ['ops-eu']);
  });

  it('lists a workload\'s instances with cloud, region, id, state, addresses and age', async () => {
    await waitFor('ops-web running', async () => {
      const res = await fetch(`${svc.url}/v1/workloads/ops-web/instances`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const { items } = await res.json() as { items: Array<{ state: string }> };
      return items.length === 2 && items.every((i) => i.state === 'running');
    }, 20_000);
    const res = await meridian('get', 'instances', 'ops-web');
    assert.equal(res.code, 0, res.stderr);
    const [header, ...rows] = res.stdout.trim().split('\n');
    assert.match(header!, /^CLOUD +REGION +ID +STATE +PUBLIC +PRIVATE +AGE$/);
    assert.equal(rows.length, 2);
    for (const r of rows) assert.match(r, /^(aws|azure) +\S+ +\S+ +running +\S+ +\S+ +\d+[smhd]$/);
  });

  it('follows the watch stream with get -w, printing a workload again when it changes', async () => {
    const child = spawn(process.execPath, [MERIDIAN, 'get', 'workloads', '-w'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    try {
      await waitFor('the first listing', () => /^NAME +POLICY/.test(out) && /\nops-web +ops-eu +2\/2/.test(out), 20_000);
      const doc = parseYaml(WORKLOAD('ops-web')) as { spec: { replicas: number } };
      doc.spec.replicas = 3;
      const put = await fetch(`${svc.url}/v1/workloads/ops-web`, {
        method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(doc),
      });
      assert.equal(put.status, 200);
      await waitFor('a row of ops-web at 3/3', () => /\nops-web +ops-eu +3\/3 +0 +converged/.test(out), 20_000);
      assert.equal(out.match(/^NAME/gm)?.length, 1, 'the header is printed once');
    } finally {
      child.kill();
    }
  });

  it('deletes a policy no workload uses, and refuses one in use naming the workloads, exit code 1', async () => {
    const inUse = await meridian('delete', 'policy', 'ops-eu');
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /policy 'ops-eu' is used by workload 'ops-web'/);
    const spare = { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'ops-spare' }, spec: { objective: 'cost' } };
    const put = await fetch(`${svc.url}/v1/policies/ops-spare`, {
      method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(spare),
    });
    assert.equal(put.status, 201);
    const ok = await meridian('delete', 'policy', 'ops-spare');
    assert.deepEqual([ok.code, ok.stdout], [0, 'policy/ops-spare deleted\n']);
    const gone = await meridian('get', 'policy', 'ops-spare');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /does not exist/);
  });

  it('exits 2 on every usage error of both binaries, with the problem on stderr', async () => {
    const cases: Array<[string, string[]]> = [
      [MERIDIAN, []], [MERIDIAN, ['no-such-command']], [MERIDIAN, ['get', '--colour']], [MERIDIAN, ['get', '-o', 'xml']], [MERIDIAN, ['delete', 'policy']],
      [MERIDIAN, ['emulators', '--aws-port', 'x']], [MERIDIAN, ['completion', 'fish']],
      [MERIDIAN_DNS, ['--no-such-flag']], [MERIDIAN_DNS, ['--port', '70000']], [MERIDIAN_DNS, ['serve']],
    ];
    // Two at a time: the machine running the tests may have few cores.
    const results: Array<Awaited<ReturnType<typeof run>>> = [];
    for (let i = 0; i < cases.length; i += 2) results.push(...await Promise.all(cases.slice(i, i + 2).map(([main, argv]) => run(main, argv, env))));
    results.forEach((r, i) => {
      const what = `${cases[i]![0] === MERIDIAN ? 'meridian' : 'meridian-dns'} ${cases[i]![1].join(' ')}`;
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.ok(r.stderr.length > 0, what);
    });
  });

  it('prints bash and zsh completion scripts that list every command, and bash parses them', async () => {
    const [bash, zsh, dnsBash, dnsZsh] = await Promise.all([
      meridian('completion', 'bash'), meridian('completion', 'zsh'), run(MERIDIAN_DNS, ['completion', 'bash']), run(MERIDIAN_DNS, ['completion', 'zsh']),
    ]);
    for (const r of [bash, zsh, dnsBash, dnsZsh]) assert.equal(r.code, 0, r.stderr);
    for (const script of [bash.stdout, dnsBash.stdout]) execFileSync('bash', ['-n'], { input: script });
    for (const name of Object.keys(COMMANDS)) {
      assert.match(bash.stdout, new RegExp(`compgen -W '[^']*\\b${name}\\b`), name);
      assert.match(zsh.stdout, new RegExp(`'${name}:`), name);
    }
    assert.match(bash.stdout, /complete -o default -F _meridian meridian\n/);
    assert.match(zsh.stdout, /^#compdef meridian\n/);
    assert.match(dnsBash.stdout, /--admin-port/);
    assert.match(dnsBash.stdout, /complete -o default -F _meridian_dns meridian-dns\n/);
    // A shell that sources the script and completes `meridian get ` is offered the resource kinds.
    const offered = execFileSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(meridian get ''); COMP_CWORD=2; _meridian; echo "\${COMPREPLY[*]}"`]).toString();
    assert.match(offered, /^workloads policies regions instances --cloud/);
  });

  it('offers in completion every flag each command\'s usage names', async () => {
    // Words the usage texts show that are not flags of their own: an example of -o glued, bgpdump's -m.
    const notFlags = new Set(['-ojson', '-m']);
    for (const [name, c] of Object.entries(COMMANDS)) {
      const words = COMPLETION_WORDS[name] ?? [];
      const missing = flagsOfUsage((await c.load()).usage).filter((f) => !notFlags.has(f) && !words.includes(f));
      assert.deepEqual(missing, [], name);
    }
  });

  it('parses flags as node:util parseArgs does, naming the flag in every usage error', () => {
    const args = parseArgs(['get', '-ojson', '--server=http://x', '-f', 'a', '-f', 'b', '--wait', '--', '--literal'], ['-o', '--server', '-f'], ['--wait']);
    assert.deepEqual(args.positional, ['get', '--literal']);
    assert.deepEqual(Object.fromEntries(args.flags), { '-o': ['json'], '--server': ['http://x'], '-f': ['a', 'b'], '--wait': ['true'] });
    assert.throws(() => parseArgs(['--colour'], ['-o']), (e: unknown) => e instanceof UsageError && e.message === "unknown option '--colour'");
    assert.throws(() => parseArgs(['--o', 'x'], ['-o']), /unknown option '--o'/);
    assert.throws(() => parseArgs(['--server'], ['--server']), /--server needs a value/);
    assert.throws(() => parseArgs(['--wait=1'], [], ['--wait']), /--wait takes no value/);
  });
});
