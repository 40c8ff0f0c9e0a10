/** Runs at most `concurrency` tasks at once per lane, so one slow region never holds up another. */
export class LaneLimiter {
  private readonly lanes = new Map<string, { running: number; queue: Array<() => void> }>();

  private closed = false;

  constructor(private readonly concurrency: number) {}

  /** From now on, tasks still waiting for a slot (and later ones) never start: `run` resolves undefined for them. */
  close(): void {
    this.closed = true;
  }

  /** Runs `task` in `lane` when a slot is free; after `close()`, a task not yet started is skipped. */
  async run<T>(lane: string, task: () => Promise<T>): Promise<T | undefined> {
    let l = this.lanes.get(lane);
    if (!l) {
      l = { running: 0, queue: [] };
      this.lanes.set(lane, l);
    }
    const state = l;
    // A finishing task hands its slot straight to the next waiter, so the count never overshoots.
    if (state.running >= this.concurrency) await new Promise<void>((resolve) => state.queue.push(resolve));
    else state.running++;
    try {
      return this.closed ? undefined : await task();
    } finally {
      const next = state.queue.shift();
      if (next) next();
      else state.running--;
    }
  }
}
