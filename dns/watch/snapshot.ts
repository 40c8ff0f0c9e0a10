import { promises as fs } from 'node:fs';
import path from 'node:path';
import { checkWorkloads, type WorkloadEndpoints } from './protocol';

/** What the snapshot file holds: the last state received from the scheduler. */
export interface SnapshotFile {
  readonly revision: number;
  readonly savedAt: string;
  readonly workloads: readonly WorkloadEndpoints[];
}

/** Writes the snapshot atomically: a temp file in the same directory, fsync, then rename over the old one. */
export async function writeSnapshot(file: string, revision: number, workloads: readonly WorkloadEndpoints[]): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const body: SnapshotFile = { revision, savedAt: new Date().toISOString(), workloads };
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(body));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
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
  const workloads = checkWorkloads(obj.workloads, `snapshot file ${file}`);
  return { revision: obj.revision, savedAt: String(obj.savedAt ?? ''), workloads };
}

/**
 * Coalesces saves: at most one write in flight, and the latest state is always written last.
 */
export class SnapshotWriter {
  private running: Promise<void> | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string, private readonly state: () => { revision: number; workloads: readonly WorkloadEndpoints[] },
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
    this.running = writeSnapshot(this.file, s.revision, s.workloads)
      .catch((e: unknown) => this.onError(e as Error))
      .finally(() => {
        this.running = undefined;
        if (this.dirty) this.schedule();
      });
  }
}
