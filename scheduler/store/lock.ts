import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** File in the data directory whose SQLite lock marks the directory as in use. */
export const DATA_DIR_LOCK_FILE = 'meridian.lock';
/** File in the data directory naming the process that holds the lock (its pid, one line). */
export const DATA_DIR_PID_FILE = 'meridian.pid';

/** Raised when another process already holds a data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'MERIDIAN_ERR_DATA_DIR_LOCKED';
  constructor(
    /** The directory, absolute. */
    readonly dataDir: string,
    /** The holder's pid, when its pid file could be read. */
    readonly pid: number | undefined,
  ) {
    super(`data directory ${dataDir} is in use by another meridian process (${pid !== undefined ? `pid ${pid}` : 'pid not recorded yet'}); `
      + 'stop that process first, or give this one another data directory');
  }
}

/** A data directory held by this process until `release()`. */
export interface DataDirLock {
  /** The directory, absolute. */
  readonly dataDir: string;
  /** Lets another process take the directory. Idempotent. */
  release(): void;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data directory for this process, or throws `DataDirLockedError` naming the pid of the
 * process that has it. The lock is SQLite's exclusive lock on `meridian.lock` (a POSIX record
 * lock), so the kernel drops it when the holder exits in any way, a crash or SIGKILL included: a
 * pid file left behind by a dead process never blocks a start, and a reused pid never fakes one.
 * `meridian.pid` only names the holder. A failure leaves the directory as it was.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, DATA_DIR_PID_FILE);
  // No busy wait: a held lock is an answer, not contention.
  const db = new Database(join(dir, DATA_DIR_LOCK_FILE), { timeout: 0 });
  try {
    // In EXCLUSIVE locking mode the lock taken by the first write is kept until the connection closes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); DELETE FROM holder;');
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw new DataDirLockedError(dir, readPid(pidFile));
    throw err;
  }
  // Written whole and renamed, so a reader never sees half a pid.
  const tmp = `${pidFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`);
  renameSync(tmp, pidFile);
  let held = true;
  return {
    dataDir: dir,
    release: () => {
      if (!held) return;
      held = false;
      // The pid file goes first: once the lock is free, the next holder's file must not be removed.
      if (readPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
