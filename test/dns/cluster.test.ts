import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { QTYPE } from '../../dns/wire/index';
import { addressesOf, query } from './fixtures';

describe('GeoDNS in optional cluster mode', function () {
  this.timeout(30_000);
  let child: ChildProcess | undefined;
  const port = 20000 + Math.floor(Math.random() * 20000);

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
  });

  it('serves UDP and TCP from two workers sharing one port and stops them all on SIGTERM', async () => {
    child = spawn(process.execPath, [path.join(__dirname, 'cluster-entry.js'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`cluster not ready: ${err}`)), 20_000);
      child!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready 2')) { clearTimeout(t); resolve(); } });
      child!.once('exit', (code) => { clearTimeout(t); reject(new Error(`cluster exited ${String(code)}: ${err}`)); });
    });
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(addressesOf(await query(port, 'web.meridian.test', QTYPE.A, { ecs: '11.1.0.0/16', tcp: i % 2 === 1 })), ['192.0.2.3']);
    }
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
