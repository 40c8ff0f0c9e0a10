import { strict as assert } from 'node:assert';
import perfHooks from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createLogger } from '../../common';
import { listRegions } from '../../providers';
import { startEmulators, type RunningEmulators } from '../../providers/emulator';
import { loadSchedulerConfig, SchedulerConfigError } from '../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../scheduler/service';
import { promtoolCheck } from '../tools/promtool';
import { waitFor } from './fakes';

const TOKEN = 'observability-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

const policyDoc = {
  apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'obs-eu' },
  spec: { regions: { allow: ['aws:eu-central-1'] }, objective: 'cost' },
};
const workloadDoc = {
  name: 'obs-web', replicas: 1,
  size: { aws: 't3.micro', azure: 'Standard_B1s', alibaba: 'ecs.t6-c1m1.large' },
  image: { aws: 'ami-0123456789abcdef0', azure: 'Canonical:ubuntu:22_04-lts:latest', alibaba: 'ubuntu_22_04_x64_20G_alibase' },
  policy: 'obs-eu', dns: { name: 'obs-web.meridian.test', ttl: 30 },
};

/** A stream that keeps every line written to it. */
class Lines extends Writable {
  readonly text: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
    done();
  }
  /** Every line, parsed: a line that is not a JSON object fails the test. */
  json(): Array<Record<string, unknown>> {
    return this.text.map((l) => {
      const v = JSON.parse(l) as unknown;
      assert.ok(v && typeof v === 'object' && !Array.isArray(v), `not a JSON object: ${l}`);
      return v as Record<string, unknown>;
    });
  }
}


/** The series of a family in exposition text: label text -> value. */
function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) out.set(m[1] ?? '', Number(m[2]));
  return out;
}

describe('scheduler logs and metrics', () => {
  let emus: RunningEmulators | undefined;
  let svc: SchedulerService | undefined;
  let lines: Lines;

  before(async () => {
    emus = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 20 });
  });
  after(async () => {
    await emus?.stop();
  });
  beforeEach(async () => {
    lines = new Lines();
    const config = loadSchedulerConfig({
      dataDir: ':memory:', logLevel: 'debug',
      api: { token: TOKEN, port: 0 },
      reconciler: { intervalMs: 20, refreshIntervalSeconds: 0.2, provisionTimeoutSeconds: 10 },
    });
    svc = await startScheduler({ config, providers: emus!.providersConfig, logger: createLogger({ name: 'meridian', level: config.logLevel, stream: lines }) });
  });
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  async function put(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${svc!.url}${path}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(res.status < 300, `PUT ${path}: ${res.status} ${await res.text()}`);
  }

  it('writes one JSON line per API request and per cloud call against the emulator, never the token', async () => {
    await put('/v1/policies/obs-eu', policyDoc);
    const res = await fetch(`${svc!.url}/v1/workloads/obs-web`, {
      method: 'PUT', headers: { ...auth, 'content-type': 'application/json', 'x-request-id': 'client-req-7' }, body: JSON.stringify(workloadDoc),
    });
    assert.ok(res.status < 300);
    const created = () => lines.json().find((l) => l.msg === 'cloud call' && l.operation === 'create');
    await waitFor('a create call in the log', () => created() !== undefined, 15_000);

    const request = lines.json().find((l) => l.msg === 'request' && l.requestId === 'client-req-7');
    assert.ok(request, `no line for the request:\n${lines.text.join('\n')}`);
    assert.equal(request.level, 'info');
    assert.equal(request.name, 'meridian');
    assert.equal(request.method, 'PUT');
    assert.equal(request.route, '/v1/workloads/:name');
    assert.equal(request.url, '/v1/workloads/obs-web');
    assert.equal(request.status, res.status);
    assert.equal(typeof request.latencyMs, 'number');
    assert.ok(typeof request.time === 'string' && !Number.isNaN(Date.parse(request.time)));

    const call = created()!;
    assert.deepEqual([call.cloud, call.region, call.outcome, call.workload], ['aws', 'eu-central-1', 'ok', 'obs-web']);
    assert.equal(typeof call.latencyMs, 'number');
    assert.match(String(call.idempotencyKey), /\S/);
    // Listings (every refresh interval) are debug lines; this logger is at debug, so they come too.
    await waitFor('a listing in the log', () => lines.json().some((l) => l.msg === 'cloud call' && l.operation === 'list' && l.level === 'debug'), 15_000);

    const all = lines.text.join('\n');
    assert.ok(!all.includes(TOKEN), 'the token is in a log line');
    assert.ok(!/authorization/i.test(all), 'a header is in a log line');
  });

  it('serves /metrics that promtool accepts, with the latency histograms and process metrics', async () => {
    await put('/v1/policies/obs-eu', policyDoc);
    await put('/v1/workloads/obs-web', workloadDoc);
    await waitFor('a cloud call counted', async () => /meridian_cloud_call_duration_seconds_count\{cloud="aws",operation="create",outcome="ok"\} 1/.test(
      await (await fetch(`${svc!.url}/metrics`)).text()), 15_000);
    const res = await fetch(`${svc!.url}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const lint = await promtoolCheck(text);
    assert.equal(lint.code, 0, `promtool check metrics:\n${lint.out}`);
    for (const family of ['meridian_http_request_duration_seconds', 'meridian_cloud_call_duration_seconds', 'meridian_reconcile_pass_duration_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${family} histogram$`, 'm'));
    }
    assert.match(text, /^meridian_http_request_duration_seconds_count\{method="PUT",route="\/v1\/workloads\/:name",status="(200|201|202)"\} 1$/m);
    assert.match(text, /^meridian_cloud_calls_total\{cloud="aws",region="eu-central-1",operation="create",outcome="ok"\} 1$/m);
    assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
    assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
  });

  it('has a meridian_region_healthy series for every catalog region, and drops a deleted workload\'s series', async () => {
    const before = series(await (await fetch(`${svc!.url}/metrics`)).text(), 'meridian_region_healthy');
    const catalog = listRegions();
    assert.equal(before.size, catalog.length);
    for (const r of catalog) assert.equal(before.get(`{cloud="${r.cloud}",region="${r.id}"}`), 1, `${r.cloud}/${r.id}`);

    await put('/v1/policies/obs-eu', policyDoc);
    await put('/v1/workloads/obs-web', workloadDoc);
    const desired = async () => series(await (await fetch(`${svc!.url}/metrics`)).text(), 'meridian_instances_desired').get('{workload="obs-web"}');
    await waitFor('the workload\'s series', async () => (await desired()) === 1, 15_000);
    const del = await fetch(`${svc!.url}/v1/workloads/obs-web`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 202);
    await waitFor('the workload purged', async () => (await svc!.store.getWorkload('obs-web')) === undefined, 15_000);
    const text = await (await fetch(`${svc!.url}/metrics`)).text();
    assert.ok(!text.includes('workload="obs-web"'), `series of the deleted workload remain:\n${text.split('\n').filter((l) => l.includes('obs-web')).join('\n')}`);
  });

  it('takes logLevel from the settings and names the key of a bad one', () => {
    assert.equal(loadSchedulerConfig({ api: { token: TOKEN } }).logLevel, 'info');
    assert.equal(loadSchedulerConfig({ api: { token: TOKEN }, logLevel: 'warn' }).logLevel, 'warn');
    assert.throws(() => loadSchedulerConfig({ api: { token: TOKEN }, logLevel: 'loud' }), (e: unknown) => {
      assert.ok(e instanceof SchedulerConfigError);
      assert.deepEqual(e.issues, [{ path: '/logLevel', message: 'must be one of trace, debug, info, warn, error, fatal, silent' }]);
      return true;
    });
  });
});

describe('scheduler metrics with several schedulers in one process', () => {
  const started: SchedulerService[] = [];
  let restore: (() => void) | undefined;
  afterEach(async () => {
    restore?.();
    restore = undefined;
    for (const s of started.splice(0)) await s.stop();
  });

  /** Counts the event-loop delay monitors and GC observers started from now on (prom-client starts one of each per collectDefaultMetrics). */
  function countProcessHooks(): { monitors: number; observers: number } {
    const counts = { monitors: 0, observers: 0 };
    const original = { monitor: perfHooks.monitorEventLoopDelay, observer: perfHooks.PerformanceObserver };
    const hooks = perfHooks as { monitorEventLoopDelay: typeof perfHooks.monitorEventLoopDelay; PerformanceObserver: typeof perfHooks.PerformanceObserver };
    hooks.monitorEventLoopDelay = (...args) => { counts.monitors += 1; return original.monitor(...args); };
    hooks.PerformanceObserver = class extends original.observer {
      constructor(callback: ConstructorParameters<typeof perfHooks.PerformanceObserver>[0]) {
        super(callback);
        counts.observers += 1;
      }
    };
    restore = () => { hooks.monitorEventLoopDelay = original.monitor; hooks.PerformanceObserver = original.observer; };
    return counts;
  }

  it('gives each scheduler valid metrics with the process metrics, collected once per process, without a registration warning', async function () {
    this.timeout(60_000);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => { warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const hooks = countProcessHooks();
      const start = async (): Promise<SchedulerService> => {
        const config = loadSchedulerConfig({ dataDir: ':memory:', logLevel: 'silent', api: { token: TOKEN, port: 0 }, reconciler: { intervalMs: 50 } });
        const s = await startScheduler({ config, providers: {}, log: () => undefined });
        started.push(s);
        return s;
      };
      const first = await start();
      const afterFirst = { ...hooks };
      // Earlier tests of this process may have started the process metrics already: then the first adds none either.
      assert.ok(afterFirst.monitors <= 1 && afterFirst.observers <= 1, JSON.stringify(afterFirst));
      const second = await start();
      const third = await start();
      assert.deepEqual(hooks, afterFirst, 'later schedulers start no event-loop monitor or GC observer of their own');

      // Only the first one is asked something: its request series are its own.
      assert.equal((await fetch(`${first.url}/v1/workloads`, { headers: auth })).status, 200);
      for (const [name, s] of [['first', first], ['second', second], ['third', third]] as const) {
        const text = await (await fetch(`${s.url}/metrics`)).text();
        const lint = await promtoolCheck(text);
        assert.equal(lint.code, 0, `${name}: promtool check metrics:\n${lint.out}`);
        for (const family of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'meridian_region_healthy']) {
          assert.equal(text.match(new RegExp(`^# TYPE ${family} `, 'gm'))?.length, 1, `${name}: one ${family} family`);
        }
        const listed = /^meridian_http_request_duration_seconds_count\{method="GET",route="\/v1\/workloads",status="200"\} 1$/m.test(text);
        assert.equal(listed, name === 'first', `${name}: request series`);
      }
    } finally {
      process.off('warning', onWarning);
    }
    const about = warnings.filter((w) => /metric|regist|listener/i.test(`${w.name} ${w.message}`));
    assert.deepEqual(about.map((w) => `${w.name}: ${w.message}`), []);
  });
});
