import { promises as fs } from 'node:fs';
import path from 'node:path';
import { checkWorkloads, type WorkloadEndpoints } from './protocol';

/** What the snapshot file holds: the last state received from the scheduler. */
export interface SnapshotFile {
  readonly revision: number;
  /** The scheduler state's identity (its watch snapshots' `stateId`), when it sent one. */
  readonly stateId?: string;
  readonly savedAt: string;
  readonly workloads: readonly WorkloadEndpoints[];
}

/** The state a snapshot file keeps. */
export interface SnapshotState {
  readonly revision: number;
  readonly stateId?: string;
  readonly workloads: readonly WorkloadEndpoints[];
}

/** Where the previous good snapshot is kept beside `file`. */
export function previousSnapshotPath(file: string): string {
  return `${file}.prev`;
}

/**
 * Writes the snapshot atomically: a temp file in the same directory, fsync, the current file kept as
 * `<file>.prev`, then rename. A failed write removes its temp file and leaves both files as they were.
 */
export async function writeSnapshot(file: string, state: SnapshotState): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const body: SnapshotFile = { revision: state.revision, stateId: state.stateId, savedAt: new Date().toISOString(), workloads: state.workloads };
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(body));
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The current file becomes the previous one only once the new one is whole on disk.
    await fs.link(file, `${tmp}.prev`).then(() => fs.rename(`${tmp}.prev`, previousSnapshotPath(file)), (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    await fs.rm(`${tmp}.prev`, { force: true });
    throw e;
  }
}

/** Reads a snapshot; undefined when the file does not exist. Throws naming the file when it is corrupt. */
export async function readSnapshot(file: string): Promise<SnapshotFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`snapshot file ${file} is not JSON: ${(e as Error).message}`);
  }
  const obj = json as Partial<SnapshotFile> | null;
  if (!obj || typeof obj !== 'object' || typeof obj.revision !== 'number') throw new Error(`snapshot file ${file} has no revision`);
  if (obj.stateId !== undefined && typeof obj.stateId !== 'string') throw new Error(`snapshot file ${file} has a stateId that is not a string`);
  const workloads = checkWorkloads(obj.workloads, `snapshot file ${file}`);
  return { revision: obj.revision, stateId: obj.stateId, savedAt: String(obj.savedAt ?? ''), workloads };
}

/** What `loadSnapshot` found. */
export interface LoadedSnapshot {
  /** The newest readable snapshot; undefined when none is. */
  readonly snapshot: SnapshotFile | undefined;
  /** `current`, `previous` (the current one was unreadable), or undefined. */
  readonly from: 'current' | 'previous' | undefined;
  /** Every file that exists but could not be read, with why; non-empty means state may have been lost. */
  readonly problems: readonly string[];
}

/** Reads the snapshot, falling back to the previous good one when the current file is corrupt or unreadable. */
export async function loadSnapshot(file: string): Promise<LoadedSnapshot> {
  const problems: string[] = [];
  for (const [from, f] of [['current', file], ['previous', previousSnapshotPath(file)]] as const) {
    try {
      const snapshot = await readSnapshot(f);
      if (snapshot) return { snapshot, from, problems };
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return { snapshot: undefined, from: undefined, problems };
}

/**
 * Coalesces saves: at most one write in flight, and the latest state is always written last.
 */
export class SnapshotWriter {
  private running: Promise<void> | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string, private readonly state: () => SnapshotState,
    private readonly onError: (e: Error) => void, private readonly delayMs = 100) {}

  /** Schedules a save of the current state. */
  schedule(): void {
    this.dirty = true;
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.kick(); }, this.delayMs);
  }

  /** Writes any pending state now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    while (this.running || this.dirty) {
      if (!this.running) this.kick();
      await this.running;
    }
  }

  private kick(): void {
    if (this.running || !this.dirty) return;
    this.dirty = false;
    const s = this.state();
    this.running = writeSnapshot(this.file, s)
      .catch((e: unknown) => this.onError(e as Error))
      .finally(() => {
        this.running = undefined;
        if (this.dirty) this.schedule();
      });
  }
}
