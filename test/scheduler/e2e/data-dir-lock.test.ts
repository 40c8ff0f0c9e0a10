import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from '../fakes';
import { tempDataDir } from './helpers';

const MAIN = resolve(__dirname, '../../../scheduler/cli/main.js');
const TOKEN = 'data-dir-lock-token-0123456789';

/** One `meridian` process of a test, with what it printed and how it ended. */
interface Run {
  readonly proc: ChildProcess;
  readonly pid: number;
  out(): string;
  err(): string;
  readonly exited: Promise<number | null>;
}

describe('the data directory guard', function () {
  // Up to four scheduler starts, one after another, on a machine that may be busy.
  this.timeout(120_000);
  const runs: Run[] = [];
  let dataDir: string | undefined;

  const run = (command: 'serve' | 'up', dir: string): Run => {
    const args = command === 'serve'
      ? ['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--token', TOKEN, '--json']
      : ['up', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--token', TOKEN, '--no-dns', '--aws-port', '0', '--azure-port', '0', '--alibaba-port', '0'];
    const proc = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
    proc.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const r: Run = { proc, pid: proc.pid as number, out: () => out, err: () => err, exited };
    runs.push(r);
    return r;
  };
  const listening = async (r: Run): Promise<void> => {
    let gone = false;
    void r.exited.then(() => { gone = true; });
    await waitFor(`scheduler ${r.pid} listening`, () => {
      if (gone) throw new Error(`scheduler ${r.pid} exited before it listened:\n${r.err()}`);
      return r.out().includes('\n');
    }, 60_000, 50);
    const { url } = JSON.parse(r.out().split('\n')[0]) as { url: string };
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  };
  const exitCode = async (r: Run): Promise<number | null> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`process ${r.pid} still running after 60 s:\n${r.err()}`)), 60_000); });
    try {
      return await Promise.race([r.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  afterEach(async () => {
    for (const r of runs.splice(0)) {
      if (r.proc.exitCode === null && r.proc.signalCode === null) {
        r.proc.kill('SIGKILL');
        await r.exited;
      }
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('refuses a second serve or up on the same directory, naming the running pid, and lets one start after the first stops', async () => {
    dataDir = tempDataDir('lock');
    const state = join(dataDir, 'state');
    const first = run('serve', state);
    await listening(first);
    assert.equal(readFileSync(join(state, 'meridian.pid'), 'utf8').trim(), String(first.pid));

    // A second serve, and a sandbox, which checks before its emulators touch the directory.
    const second = run('serve', state);
    const sandbox = run('up', state);
    const [secondCode, sandboxCode] = await Promise.all([exitCode(second), exitCode(sandbox)]);
    assert.equal(secondCode, 1, second.err());
    assert.match(second.err(), new RegExp(`data directory ${state.replace(/[/.]/g, '\\$&')} is in use by another meridian process \\(pid ${first.pid}\\)`));
    assert.doesNotMatch(second.err(), /^\s+at \S/m, 'no stack trace');
    assert.equal(sandboxCode, 1, sandbox.err());
    assert.match(sandbox.err(), new RegExp(`^meridian up: data directory .* is in use by another meridian process \\(pid ${first.pid}\\)`, 'm'));

    first.proc.kill('SIGTERM');
    assert.equal(await exitCode(first), 0, first.err());
    const third = run('serve', state);
    await listening(third);
    assert.equal(readFileSync(join(state, 'meridian.pid'), 'utf8').trim(), String(third.pid));
    third.proc.kill('SIGTERM');
    assert.equal(await exitCode(third), 0, third.err());
  });

  it('starts over the pid file of a process that died without cleaning up', async () => {
    dataDir = tempDataDir('lock');
    const state = join(dataDir, 'state');
    const killed = run('serve', state);
    await listening(killed);
    killed.proc.kill('SIGKILL');
    await exitCode(killed);
    assert.equal(readFileSync(join(state, 'meridian.pid'), 'utf8').trim(), String(killed.pid), 'the dead process left its pid file');

    const next = run('serve', state);
    await listening(next);
    assert.equal(readFileSync(join(state, 'meridian.pid'), 'utf8').trim(), String(next.pid));
    next.proc.kill('SIGTERM');
    assert.equal(await exitCode(next), 0, next.err());
  });
});
