import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDnsperf } from './dnsperf';
import { decodeReply } from './probe';
import { encodeEcsQuery, encodeName, randomSubnets, writeQueryFile } from './queries';
import { benchRegions } from './regions';
import { cpuSeconds, processTree, treeCpuSeconds, treeRssMiB } from './proc';
import { spawn } from 'node:child_process';

describe('DNS benchmark harness', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-dns-harness-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('encodes an A query with an EDNS Client Subnet option carrying only the /24 bytes', () => {
    const q = encodeEcsQuery('web.meridian.test', 0x510245a0);
    const name = encodeName('web.meridian.test');
    assert.equal(q.readUInt16BE(4), 1);                         // QDCOUNT
    assert.equal(q.readUInt16BE(10), 1);                        // ARCOUNT
    assert.deepEqual(q.subarray(12, 12 + name.length), name);
    const opt = 12 + name.length + 4;
    assert.equal(q[opt], 0);                                    // root owner
    assert.equal(q.readUInt16BE(opt + 1), 41);                  // OPT
    assert.equal(q.readUInt16BE(opt + 9), 11);                  // RDLENGTH: 4 + 7
    assert.equal(q.readUInt16BE(opt + 11), 8);                  // ECS
    assert.equal(q.readUInt16BE(opt + 13), 7);
    assert.equal(q.readUInt16BE(opt + 15), 1);                  // family IPv4
    assert.equal(q[opt + 17], 24);                              // source prefix
    assert.equal(q[opt + 18], 0);                               // scope
    assert.deepEqual([...q.subarray(opt + 19)], [81, 2, 69]);   // host byte dropped
  });

  it('writes a dnsperf -B file of length-prefixed queries, each with its own public /24', async () => {
    const file = join(dir, 'q.bin');
    await writeQueryFile(file, 'web.meridian.test', 5000, 42);
    const buf = readFileSync(file);
    const subnets = new Set<string>();
    let o = 0;
    let count = 0;
    while (o < buf.length) {
      const len = buf.readUInt16BE(o);
      const msg = buf.subarray(o + 2, o + 2 + len);
      assert.equal(msg.length, len);
      subnets.add(msg.subarray(len - 3).toString('hex'));
      const first = msg[len - 3];
      assert.ok(first !== 0 && first !== 10 && first !== 127 && first < 224, `non-public subnet ${first}.x.x.0`);
      o += 2 + len;
      count++;
    }
    assert.equal(count, 5000);
    assert.ok(subnets.size > 4990, `${subnets.size} distinct subnets`);
  });

  it('draws the same subnets from the same seed', () => {
    const a = randomSubnets(7);
    const b = randomSubnets(7);
    for (let i = 0; i < 100; i++) assert.equal(a(), b());
  });

  it('reads the answer address and the echoed ECS scope from a reply', () => {
    const q = encodeEcsQuery('web.meridian.test', 0x08080800);
    const qEnd = 12 + encodeName('web.meridian.test').length + 4;
    const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 5]);
    const opt = Buffer.from(q.subarray(qEnd));
    opt[18] = 17;                                               // scope prefix set by the server
    const header = Buffer.from(q.subarray(0, 12));
    header.writeUInt16BE(0x8400, 2);
    header.writeUInt16BE(1, 6);
    const reply = Buffer.concat([header, q.subarray(12, qEnd), answer, opt]);
    assert.deepEqual(decodeReply(reply), { rcode: 0, a: '192.0.2.5', scope: 17 });
    assert.throws(() => decodeReply(reply.subarray(0, reply.length - 5)), RangeError);
  });

  it('parses dnsperf totals, latency and per-query percentiles, counting timeouts as slowest', () => {
    const lines = ['> NOERROR binary input 0.000100', '> NOERROR binary input 0.000200', '> T binary input'];
    for (let i = 0; i < 97; i++) lines.push('> NOERROR binary input 0.000150');
    const out = `${lines.join('\n')}
Statistics:

  Queries sent:         100
  Queries completed:    99 (99.00%)
  Queries lost:         1 (1.00%)

  Response codes:       NOERROR 99 (100.00%)
  Run time (s):         2.000367
  Queries per second:   49.5

  Average Latency (s):  0.000151 (min 0.000100, max 0.000200)
  Latency StdDev (s):   0.000010
`;
    const r = parseDnsperf(out);
    assert.equal(r.sent, 100);
    assert.equal(r.completed, 99);
    assert.equal(r.lost, 1);
    assert.equal(r.qps, 49.5);
    assert.ok(Math.abs(r.avgLatencyMs - 0.151) < 1e-9);
    assert.ok(Math.abs(r.maxLatencyMs - 0.2) < 1e-9);
    assert.ok(Math.abs((r.p50LatencyMs ?? 0) - 0.15) < 1e-9);
    assert.ok(Math.abs((r.p99LatencyMs ?? 0) - 0.2) < 1e-9);
    assert.deepEqual(r.rcodes, { NOERROR: 99 });
    assert.throws(() => parseDnsperf('nothing here'), /queries sent/);
  });

  it('uses 8 catalog regions over the three clouds with distinct answer addresses', () => {
    const regions = benchRegions();
    assert.equal(regions.length, 8);
    assert.deepEqual([...new Set(regions.map((r) => r.cloud))].sort(), ['alibaba', 'aws', 'azure']);
    assert.equal(new Set(regions.map((r) => r.ipv4)).size, 8);
  });

  it('counts the CPU and memory of a process and its descendants, as a cluster of workers', async () => {
    // A parent that spins a little, then starts a child that spins and stays until killed.
    const script = `const { spawn } = require('node:child_process');
      const t = Date.now(); while (Date.now() - t < 300);
      const c = spawn(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 300); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      setTimeout(() => process.stdout.write(String(c.pid)), 600);
      process.on('SIGTERM', () => { c.kill(); process.exit(0); });`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const childPid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (b: Buffer) => resolve(b.toString()))));
      const pid = parent.pid!;
      assert.deepEqual(processTree(pid), [pid, childPid]);
      const own = cpuSeconds(pid);
      const all = treeCpuSeconds(pid);
      assert.ok(all >= own + cpuSeconds(childPid) - 0.02, `tree ${all} s, parent ${own} s`);
      assert.ok(all >= 0.3, `both spun for 0.3 s of wall time each, counted ${all} s`);
      assert.ok(treeRssMiB(pid) > 30, 'two node processes hold well over 30 MiB');
    } finally {
      parent.kill('SIGTERM');
      await new Promise((r) => parent.once('exit', r));
    }
  });
});
