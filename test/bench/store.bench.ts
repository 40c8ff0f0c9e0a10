// State store benchmark: the same scheduler on SQLite (embedded) and on PostgreSQL (shared, with
// the leader lease), side by side in one run: API writes per second (workload applies by 16
// clients over HTTP), and the time to converge 3,000 instances across the three emulators under
// the drivers' default rate limits, against the bound those limits set (what the store adds).
// Standalone: `node dist/test/bench/store.bench.js [--instances 3000] [--writes 2000]` (`--instances 0`: writes only).
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadSchedulerConfig } from '../../scheduler/config';
import { startScheduler } from '../../scheduler/service';
import { startPostgres } from '../tools/postgres';
import { smallWorkload, tempDataDir, threeCloudPolicy } from '../scheduler/e2e/helpers';
import { benchConvergence } from './convergence.bench';

const TOKEN = 'store-bench-token-0123456789';
const CLIENTS = 16;

/** Applies `writes` workloads through the API with `CLIENTS` clients at once; returns writes per second. */
async function benchWrites(storeUrl: string | undefined, writes: number): Promise<number> {
  const dataDir = tempDataDir('store-bench');
  const config = loadSchedulerConfig({ dataDir, api: { token: TOKEN, port: 0 }, ...(storeUrl ? { store: { url: storeUrl } } : {}) });
  const svc = await startScheduler({ config, providers: {}, log: () => undefined });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  try {
    const put = async (path: string, body: unknown) => {
      const res = await fetch(`${svc.url}${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    await put('/v1/policies/bench', threeCloudPolicy('bench', 10));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < writes; i = next++) await put(`/v1/workloads/w${i}`, { ...smallWorkload(`w${i}`, 0, 'bench'), replicas: 0 });
    }));
    return writes / ((performance.now() - t0) / 1000);
  } finally {
    await svc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const flag = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const instances = flag('--instances', 3_000);
  const writes = flag('--writes', 2_000);
  const db = await startPostgres();
  const rows: string[] = [];
  try {
    let database = 0;
    const fresh = async (): Promise<string> => {
      const name = `bench_${++database}`;
      const pg = (await import('pg')).default;
      const c = new pg.Client(db.connection);
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return `postgres://postgres@127.0.0.1:${db.port}/${name}`;
    };
    for (const [label, url] of [['SQLite', undefined], ['PostgreSQL', await fresh()]] as const) {
      const perSecond = await benchWrites(url, writes);
      if (instances === 0) {
        rows.push(`${label.padEnd(10)}  ${perSecond.toFixed(0).padStart(8)} writes/s`);
        process.stdout.write(`${rows[rows.length - 1]}\n`);
        continue;
      }
      const conv = await benchConvergence({
        instances, pendingMs: 500, ...(url ? { storeUrl: await fresh() } : {}),
        log: (l) => process.stdout.write(`  ${label}: ${l}\n`),
      });
      rows.push(`${label.padEnd(10)}  ${perSecond.toFixed(0).padStart(8)} writes/s  ${conv.seconds.toFixed(1).padStart(7)} s to converge ${instances} instances (bound ${conv.boundSeconds.toFixed(1)} s, ratio ${conv.ratioToBound.toFixed(2)})`);
      process.stdout.write(`${rows[rows.length - 1]}\n`);
    }
  } finally {
    await db.stop();
  }
  process.stdout.write(`\nstore        API writes      convergence (${writes} applies by ${CLIENTS} clients; ${instances} instances, emulators' pending time 500 ms), load average ${loadavg()[0].toFixed(1)}\n${rows.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
