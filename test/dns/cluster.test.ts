import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { UDP_TRANSPORTS } from '../../dns/index';
import { QTYPE } from '../../dns/wire/index';
import { waitFor } from '../tools/wait';
import { addressesOf, query } from './fixtures';

/** The TXT string of `worker.meridian.test`: which worker answered. */
async function workerOf(port: number, tcp: boolean): Promise<string> {
  const res = await query(port, 'worker.meridian.test', QTYPE.TXT, { tcp });
  const rr = res.answers[0];
  assert.ok(rr?.data.kind === 'txt', 'a TXT answer');
  return rr.data.strings[0]!.toString();
}

for (const udp of UDP_TRANSPORTS) describe(`GeoDNS in optional cluster mode (${udp} UDP)`, function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
  });

  it('serves UDP and TCP from both workers on the one port the first bound, and stops them all on SIGTERM', async () => {
    child = spawn(process.execPath, [path.join(__dirname, 'cluster-entry.js'), '--port', '0', '--udp', udp], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = child;
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`cluster not ready in 40 s: ${err}`)), 40_000);
      createInterface({ input: proc.stdout! }).once('line', (line) => {
        clearTimeout(t);
        const m = /^ready 2 (\d+)$/.exec(line);
        if (m) resolve(Number(m[1])); else reject(new Error(`unexpected ready line '${line}': ${err}`));
      });
      void exited.then((code) => { clearTimeout(t); reject(new Error(`cluster exited ${String(code)}: ${err}`)); });
    });
    assert.ok(port > 0);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(addressesOf(await query(port, 'web.meridian.test', QTYPE.A, { ecs: '11.1.0.0/16', tcp: i % 2 === 1 })), ['192.0.2.3']);
    }
    // Each query comes from a new socket: the kernel (UDP, SO_REUSEPORT) or the primary (TCP, round
    // robin) hands them to both workers soon enough.
    for (const tcp of [false, true]) {
      const seen = new Set<string>();
      await waitFor(`both workers to answer over ${tcp ? 'TCP' : 'UDP'}`, async () => {
        seen.add(await workerOf(port, tcp));
        return seen.size === 2;
      }, 20_000, 0);
      assert.deepEqual([...seen].sort(), ['worker-1', 'worker-2']);
    }
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  });
});
