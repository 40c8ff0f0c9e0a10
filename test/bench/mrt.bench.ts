// MRT benchmark: elements per second of our parser (in process), of `meridian mrt dump` (a whole
// process, as a user runs it: one per file, as bgpdump takes one file, and one given all the files)
// and of `bgpdump -m`, on the same files, gzip and bzip2, side by side; then a RIB dump of
// 1,000,000 prefixes seen by 20 peers (`--prefixes N --peers N`) parsed and dumped in bounded
// memory (`--no-large` skips it, `--only-large` runs just that). `--baseline DIR` also times the
// `meridian` of another built checkout (DIR/dist) in the same runs, to compare two versions.
// Standalone: `node dist/test/bench/mrt.bench.js [--runs 3] [--no-large] [--baseline DIR]`.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import { createGzip, gunzipSync } from 'node:zlib';
import { encodeAttributes } from '../../dns/geoip/channels/bgp/attributes';
import { encodeRecord, openInput, readElements, dumpMrt } from '../../dns/geoip/channels/mrt';
import { mrtSamples } from '../dns/geoip/channels/mrt/samples';

const CLI = resolve(__dirname, '../../scheduler/cli/main.js');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs a command under /usr/bin/time with stdout discarded; returns CPU seconds, wall seconds and peak RSS (KiB). */
async function timed(cmd: string, args: readonly string[], dir: string): Promise<{ cpu: number; wall: number; rssKiB: number }> {
  const out = join(dir, 'time.out');
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  const [code] = await once(child, 'exit') as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
  const [wall, user, sys, rss] = readFileSync(out, 'utf8').trim().split(/\s+/).map(Number);
  return { cpu: user + sys, wall, rssKiB: rss };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds of this process's finished children (the bzip2 the reader runs): /proc/self/stat cutime + cstime. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

/** CPU seconds (this process and the children it reaped meanwhile) and wall seconds of `work`. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const k0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  const value = await work();
  const c = process.cpuUsage(c0);
  return { value, cpu: (c.user + c.system) / 1e6 + childrenCpu() - k0, wall: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function parseInProcess(file: string): Promise<{ elements: number; cpu: number; wall: number }> {
  let elements = 0;
  const m = await measured(() => readElements(openInput(file), () => { elements++; }, () => undefined));
  return { elements, cpu: m.cpu, wall: m.wall };
}

async function dumpInProcess(file: string): Promise<{ cpu: number; wall: number }> {
  const m = await measured(() => dumpMrt([file], { write: () => true }, { write: () => true }));
  return { cpu: m.cpu, wall: m.wall };
}

function rate(n: number, s: number): string {
  return s > 0 ? `${Math.round(n / s).toLocaleString('en-US')}` : '-';
}

/** Writes a gzip RIB dump of `prefixes` IPv4 /24s each seen by `peers` peers, record by record. */
async function writeLargeRib(path: string, prefixes: number, peers: number): Promise<void> {
  const gz = createGzip({ level: 1 });
  const out = createWriteStream(path);
  gz.pipe(out);
  const t = 1_700_000_000;
  gz.write(encodeRecord({ kind: 'peer-index', timestamp: t, collectorId: '193.0.4.28', viewName: '',
    peers: Array.from({ length: peers }, (_, i) => ({ bgpId: `10.0.0.${i + 1}`, address: `192.0.2.${i + 1}`, asn: 64500 + i })) }));
  // One attribute block per peer, reused: the benchmark measures parsing, not generation.
  const attrs = Array.from({ length: peers }, (_, p) => encodeAttributes({ origin: 0, asPath: [{ type: 2, asns: [64500 + p, 3356, 1299, 13335 + p] }],
    nextHop: `192.0.2.${p + 1}`, communities: [(3356 << 16) | p] }, { as4: true, mrtRib: { afi: 1, safi: 1 } }));
  const entryBytes = attrs.reduce((n, a) => n + 8 + a.length, 0);
  for (let i = 0; i < prefixes; i++) {
    const body = Buffer.alloc(4 + 4 + 2 + entryBytes);
    body.writeUInt32BE(i, 0);
    body[4] = 24; body[5] = 1 + (i >>> 16) % 223; body[6] = (i >>> 8) & 255; body[7] = i & 255;
    body.writeUInt16BE(peers, 8);
    let o = 10;
    for (let p = 0; p < peers; p++) {
      body.writeUInt16BE(p, o); body.writeUInt32BE(t, o + 2); body.writeUInt16BE(attrs[p].length, o + 6);
      body.set(attrs[p], o + 8);
      o += 8 + attrs[p].length;
    }
    const head = Buffer.alloc(12);
    head.writeUInt32BE(t, 0); head.writeUInt16BE(13, 4); head.writeUInt16BE(2, 6); head.writeUInt32BE(body.length, 8);
    if (!gz.write(Buffer.concat([head, body]))) await once(gz, 'drain');
  }
  gz.end();
  await once(out, 'close');
}

async function main(argv: readonly string[]): Promise<void> {
  const arg = (name: string, dflt: number): number => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : dflt; };
  const runs = arg('--runs', 3);
  const b = argv.indexOf('--baseline');
  const baseline = b >= 0 ? resolve(argv[b + 1], 'dist/scheduler/cli/main.js') : undefined;
  if (baseline !== undefined && !existsSync(baseline)) throw new Error(`--baseline: ${baseline} does not exist (build that checkout first)`);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-mrt-bench-'));
  try {
    if (!argv.includes('--only-large')) await benchSamples(dir, runs, baseline);
    if (!argv.includes('--no-large')) await benchLarge(dir, arg('--prefixes', 1_000_000), arg('--peers', 20));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(1)).join(' ');
}

async function benchSamples(dir: string, runs: number, baseline: string | undefined): Promise<void> {
  const files: { name: string; path: string; compression: string }[] = [];
  for (const f of mrtSamples()) {
    files.push({ name: basename(f), path: f, compression: 'gzip' });
    const bz2 = join(dir, basename(f).replace(/\.gz$/, '.bz2'));
    writeFileSync(bz2, execFileSync('bzip2', ['-c'], { input: gunzipSync(readFileSync(f)), maxBuffer: 1 << 30 }));
    files.push({ name: basename(bz2), path: bz2, compression: 'bzip2' });
  }
  process.stdout.write(`load average ${loadAverage()}; ${runs} runs each, medians; rates are elements per CPU-second (wall in brackets)\n\n`);
  const header = ['file', 'elements', 'parser (in process)', 'dump (in process)', 'meridian mrt dump', 'bgpdump -m', 'parser / bgpdump', 'mrt dump / bgpdump'];
  const rows: string[][] = [];
  type Totals = { elements: number; parse: number; dump: number; cli: number; bgpdump: number; baseline: number; parseWall: number; cliWall: number; bgpdumpWall: number };
  const zero = (): Totals => ({ elements: 0, parse: 0, dump: 0, cli: 0, bgpdump: 0, baseline: 0, parseWall: 0, cliWall: 0, bgpdumpWall: 0 });
  const totals: Record<string, Totals> = { gzip: zero(), bzip2: zero(), all: zero() };
  for (const f of files) {
    const p: { elements: number; cpu: number; wall: number }[] = [];
    const d: { cpu: number; wall: number }[] = [];
    const c: { cpu: number; wall: number }[] = [];
    const b: { cpu: number; wall: number }[] = [];
    const o: { cpu: number; wall: number }[] = [];
    for (let r = 0; r < runs; r++) {
      p.push(await parseInProcess(f.path));
      d.push(await dumpInProcess(f.path));
      c.push(await timed(process.execPath, [CLI, 'mrt', 'dump', f.path], dir));
      b.push(await timed('bgpdump', ['-m', f.path], dir));
      if (baseline !== undefined) o.push(await timed(process.execPath, [baseline, 'mrt', 'dump', f.path], dir));
    }
    const n = p[0].elements;
    const m = (xs: { cpu: number; wall: number }[]): { cpu: number; wall: number } => ({ cpu: median(xs.map((x) => x.cpu)), wall: median(xs.map((x) => x.wall)) });
    const [mp, md, mc, mb] = [m(p), m(d), m(c), m(b)];
    const mo = baseline === undefined ? 0 : m(o).cpu;
    for (const t of [totals[f.compression], totals.all]) {
      t.elements += n; t.parse += mp.cpu; t.dump += md.cpu; t.cli += mc.cpu; t.bgpdump += mb.cpu; t.baseline += mo;
      t.parseWall += mp.wall; t.cliWall += mc.wall; t.bgpdumpWall += mb.wall;
    }
    const cell = (x: { cpu: number; wall: number }): string => `${rate(n, x.cpu)} (${rate(n, x.wall)})`;
    rows.push([f.name, String(n), cell(mp), cell(md), cell(mc), cell(mb), `${(mb.cpu / mp.cpu).toFixed(2)}x`, `${(mb.cpu / mc.cpu).toFixed(2)}x`]);
  }
  for (const [name, t] of Object.entries(totals)) {
    rows.push([name === 'all' ? 'all files' : `all ${name} files`, String(t.elements), rate(t.elements, t.parse), rate(t.elements, t.dump), rate(t.elements, t.cli),
      rate(t.elements, t.bgpdump), `${(t.bgpdump / t.parse).toFixed(2)}x`, `${(t.bgpdump / t.cli).toFixed(2)}x`]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((x, i) => x.padEnd(widths[i])).join('  ');
  process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
  if (baseline !== undefined) {
    process.stdout.write(`\nbaseline ${baseline}, one process per file, elements per CPU-second: ${Object.entries(totals).map(([k, t]) =>
      `${k} ${rate(t.elements, t.baseline)} (${(t.bgpdump / t.baseline).toFixed(2)}x bgpdump; this checkout ${(t.baseline / t.cli).toFixed(2)}x the baseline)`).join(', ')}\n`);
  }

  // `meridian mrt dump` takes several files, as it is meant to be used on a collector's archive:
  // one process for all of them, against the sum of bgpdump's per-file runs.
  const together: Record<string, { cpu: number; wall: number; baselineCpu: number }> = {};
  for (const [name, group] of [['gzip', files.filter((f) => f.compression === 'gzip')], ['bzip2', files.filter((f) => f.compression === 'bzip2')], ['all', files]] as const) {
    const c: { cpu: number; wall: number }[] = [];
    const o: number[] = [];
    for (let r = 0; r < runs; r++) {
      c.push(await timed(process.execPath, [CLI, 'mrt', 'dump', ...group.map((f) => f.path)], dir));
      if (baseline !== undefined) o.push((await timed(process.execPath, [baseline, 'mrt', 'dump', ...group.map((f) => f.path)], dir)).cpu);
    }
    together[name] = { cpu: median(c.map((x) => x.cpu)), wall: median(c.map((x) => x.wall)), baselineCpu: baseline === undefined ? 0 : median(o) };
  }
  process.stdout.write('\nmeridian mrt dump given the files in one invocation (bgpdump: the sum of its per-file runs above):\n');
  for (const [name, t] of Object.entries(together)) {
    const tot = totals[name];
    process.stdout.write(`  ${name === 'all' ? 'all files' : `the ${name} files`}: ${t.cpu.toFixed(2)} CPU-s, ${t.wall.toFixed(2)} s; ${rate(tot.elements, t.cpu)} elements/CPU-s (${rate(tot.elements, t.wall)}/s); `
      + `${(tot.bgpdump / t.cpu).toFixed(2)}x bgpdump -m per CPU-second, ${(tot.bgpdumpWall / t.wall).toFixed(2)}x per wall second`
      + `${baseline === undefined ? '' : `; baseline ${t.baselineCpu.toFixed(2)} CPU-s (${(tot.bgpdump / t.baselineCpu).toFixed(2)}x bgpdump)`}\n`);
  }
  const startup = await timed(process.execPath, [CLI, '--help'], dir);
  process.stdout.write(`\nmeridian CLI start-up alone (--help): ${startup.cpu.toFixed(2)} CPU-s, ${startup.wall.toFixed(2)} s, ${Math.round(startup.rssKiB / 1024)} MiB\n`);
  const all = totals.all;
  const goal = (what: string, ours: number, oursWall: number): string => {
    const x = all.bgpdump / ours;
    return `goal: ${what} >= 3x bgpdump -m over all files: ${x >= 3 ? 'met' : 'NOT met'} (${x.toFixed(2)}x per CPU-second, ${(all.bgpdumpWall / oursWall).toFixed(2)}x per wall second)\n`;
  };
  process.stdout.write(goal('parser', all.parse, all.parseWall));
  process.stdout.write(goal('meridian mrt dump, one process per file', all.cli, all.cliWall));
  process.stdout.write(goal('meridian mrt dump, all files in one process', together.all.cpu, together.all.wall));
  process.stdout.write(`load average at the end ${loadAverage()}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'mrt', runs, elements: all.elements,
    ratesPerCpuSecond: { parser: Math.round(all.elements / all.parse), dump: Math.round(all.elements / all.dump), meridianMrtDump: Math.round(all.elements / all.cli),
      meridianMrtDumpOneProcess: Math.round(all.elements / together.all.cpu), bgpdump: Math.round(all.elements / all.bgpdump) },
    vsBgpdump: Object.fromEntries(Object.entries(totals).map(([k, t]) => [k, { parser: +(t.bgpdump / t.parse).toFixed(2), meridianMrtDump: +(t.bgpdump / t.cli).toFixed(2),
      meridianMrtDumpOneProcess: +(t.bgpdump / together[k].cpu).toFixed(2) }])) })}\n`);
}

async function benchLarge(dir: string, prefixes: number, peers: number): Promise<void> {
  const big = join(dir, 'large-rib.gz');
  const g0 = Date.now();
  await writeLargeRib(big, prefixes, peers);
  process.stdout.write(`\nlarge RIB: ${prefixes.toLocaleString('en-US')} prefixes x ${peers} peers written in ${((Date.now() - g0) / 1000).toFixed(0)} s\n`);
  const script = `const m=require(${JSON.stringify(resolve(__dirname, '../../dns/geoip/channels/mrt'))});let n=0,e=0;` +
    `m.readElements(m.openInput(${JSON.stringify(big)}),()=>{n++},()=>{e++}).then(()=>{process.exitCode=n===${prefixes * peers}&&e===0?0:3})`;
  // timed() rejects unless the child saw every element and no error.
  const t = await timed(process.execPath, ['-e', script], dir);
  const elements = prefixes * peers;
  process.stdout.write(`large RIB parse: ${elements.toLocaleString('en-US')} elements in ${t.wall.toFixed(1)} s (${t.cpu.toFixed(1)} CPU-s, ${rate(elements, t.cpu)}/CPU-s), peak RSS ${Math.round(t.rssKiB / 1024)} MiB\n`);
  const d = await timed(process.execPath, [CLI, 'mrt', 'dump', big], dir);
  process.stdout.write(`large RIB meridian mrt dump (to /dev/null): ${d.wall.toFixed(1)} s (${d.cpu.toFixed(1)} CPU-s, ${rate(elements, d.cpu)}/CPU-s), peak RSS ${Math.round(d.rssKiB / 1024)} MiB\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'mrt-large', prefixes, peers, elements, parse: { seconds: t.wall, cpuSeconds: t.cpu, peakRssMiB: Math.round(t.rssKiB / 1024) },
    meridianMrtDump: { seconds: d.wall, cpuSeconds: d.cpu, peakRssMiB: Math.round(d.rssKiB / 1024) } })}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
