import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, lockDataDir } from '../../../scheduler/store';

describe('lockDataDir', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('holds a directory until released, refusing a second holder with a coded error naming the pid', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-lock-'));
    const state = join(dir, 'state');
    const lock = lockDataDir(state);
    assert.equal(readFileSync(join(state, 'meridian.pid'), 'utf8'), `${process.pid}\n`);
    assert.throws(() => lockDataDir(state), (err: unknown) => {
      assert.ok(err instanceof DataDirLockedError);
      assert.deepEqual([err.code, err.pid, err.dataDir], ['MERIDIAN_ERR_DATA_DIR_LOCKED', process.pid, state]);
      assert.match(err.message, new RegExp(`^data directory ${state} is in use by another meridian process \\(pid ${process.pid}\\)`));
      return true;
    });
    lock.release();
    lock.release();
    assert.equal(existsSync(join(state, 'meridian.pid')), false, 'the pid file goes with the lock');
    lockDataDir(state).release();
  });

  it('takes a directory whose pid file names a live process that holds no lock, as after a pid is reused', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-lock-'));
    // pid 1 is always alive; the kernel, not the pid file, says whether the directory is held.
    writeFileSync(join(dir, 'meridian.pid'), '1\n');
    const lock = lockDataDir(dir);
    assert.equal(readFileSync(join(dir, 'meridian.pid'), 'utf8'), `${process.pid}\n`);
    lock.release();
  });
});
