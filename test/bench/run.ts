/**
 * `npm run bench`: runs every benchmark, one process each so that none inherits another's heap,
 * JIT state or sockets, and prints each one's report as it comes.
 *
 *   npm run bench                      # all of them
 *   npm run bench -- geoip dns         # only those named
 *   npm run bench -- providers --instances 200   # flags after the names go to each one run
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The benchmarks, in the order they run, with the node flags each needs. */
const BENCHES: ReadonlyArray<{ readonly name: string; readonly what: string; readonly nodeFlags?: readonly string[] }> = [
  { name: 'geoip', what: 'GeoIP lookups per second: our table against geoip-lite', nodeFlags: ['--expose-gc'] },
  { name: 'hot-cache', what: 'hot-prefix cache: noteV4 cost, drain rate, open() and RSS with 2,000,000 prefixes', nodeFlags: ['--expose-gc'] },
  { name: 'placement', what: 'placement of 10,000 workloads over the whole catalog' },
  { name: 'providers', what: 'create+terminate through each driver and its emulator' },
  { name: 'convergence', what: 'convergence of 3,000 instances under the default rate limits' },
  { name: 'store', what: 'SQLite against PostgreSQL: API writes per second and convergence of 3,000 instances, side by side' },
  { name: 'scale', what: '10,000 workloads through the API by 32 clients with a GeoDNS and 100 watchers attached: writes/s, latency, RSS, snapshot time' },
  { name: 'dns', what: 'dnsperf against Meridian and gdnsd, side by side' },
  { name: 'bgp', what: 'BIRD sends 1,000,000 routes to the BGP channel: ingest time, prefixes/s, RSS against BIRD\'s' },
  { name: 'overlay', what: 'routing overlay: 800,000 prefixes on 2 peers applied, one build against geoip-lite, /geo/lookup explanations', nodeFlags: ['--expose-gc'] },
  { name: 'mrt', what: 'MRT elements per second: our parser and meridian mrt dump against bgpdump -m, gzip and bzip2' },
];

function runOne(name: string, nodeFlags: readonly string[], args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, join(__dirname, `${name}.bench.js`), ...args], { stdio: 'inherit' });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const names = firstFlag < 0 ? argv : argv.slice(0, firstFlag);
  const args = firstFlag < 0 ? [] : argv.slice(firstFlag);
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.map((n) => `'${n}'`).join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const chosen = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES;
  const failed: string[] = [];
  for (const b of chosen) {
    process.stdout.write(`\n=== ${b.name}: ${b.what}\n`);
    const started = Date.now();
    const code = await runOne(b.name, b.nodeFlags ?? [], args);
    process.stdout.write(`=== ${b.name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    if (code !== 0) failed.push(b.name);
  }
  if (failed.length) process.stderr.write(`benchmarks failed: ${failed.join(', ')}\n`);
  return failed.length ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
