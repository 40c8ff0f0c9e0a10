import type { SchedulerClient } from '../client';
import type { OutStream } from './context';

interface WorkloadAnswer {
  name: string;
  deleting: boolean;
  status: { desired: number; ready: number; pending: number; terminating: number; converged: boolean; placementError?: string };
}

/**
 * Polls workloads until each has converged (or is gone, for deletions), showing one progress line
 * per workload: rewritten in place on a terminal, printed on change otherwise. Resolves false on timeout.
 */
export async function waitForConvergence(
  client: SchedulerClient, names: readonly string[], out: OutStream,
  opts: { timeoutMs: number; intervalMs?: number; deleting?: boolean },
): Promise<boolean> {
  const until = Date.now() + opts.timeoutMs;
  const tty = out.isTTY === true;
  const last = new Map<string, string>();
  let drawn = 0;
  for (;;) {
    const lines: string[] = [];
    let done = true;
    for (const name of names) {
      let line: string;
      try {
        const w = await client.call<WorkloadAnswer>('GET', `/v1/workloads/${encodeURIComponent(name)}`);
        const s = w.status;
        const width = 20;
        const filled = s.desired > 0 ? Math.round((s.ready / s.desired) * width) : width;
        const bar = `[${'#'.repeat(Math.min(width, filled))}${'.'.repeat(Math.max(0, width - filled))}]`;
        line = `${name.padEnd(16)} ${bar} ${s.ready}/${s.desired} ready, ${s.pending} pending, ${s.terminating} terminating${s.placementError ? `  (${s.placementError})` : ''}`;
        if (opts.deleting || !s.converged) done = false;
      } catch (err) {
        const gone = (err as { status?: number }).status === 404;
        line = `${name.padEnd(16)} ${gone ? 'deleted' : `error: ${err instanceof Error ? err.message : String(err)}`}`;
        if (!gone || !opts.deleting) done = false;
      }
      lines.push(line);
    }
    if (tty) {
      if (drawn) out.write(`\x1b[${drawn}A`);
      for (const l of lines) out.write(`\x1b[2K${l}\n`);
      drawn = lines.length;
    } else {
      for (const [i, l] of lines.entries()) if (last.get(names[i]) !== l) { out.write(`${l}\n`); last.set(names[i], l); }
    }
    if (done) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}
