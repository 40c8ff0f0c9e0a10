import type { SchedulerClient } from '../client';
import type { OutStream } from './context';

interface WorkloadAnswer {
  name: string;
  generation: number;
  deleting: boolean;
  status: {
    desired: number; ready: number; pending: number; terminating: number; converged: boolean; placementError?: string;
    observedGeneration: number; reasons: Array<{ code: string; cloud?: string; region?: string; message: string }>;
  };
}

/** What to wait for: a workload at (at least) the generation applied, or a workload gone. */
export interface ProgressTarget {
  readonly name: string;
  /** The generation the apply answered; older ones are never reported. Absent for deletions. */
  readonly generation?: number;
}

/** The first reason of a status, as the progress line shows it. */
function firstReason(s: WorkloadAnswer['status']): string {
  const r = s.reasons.find((x) => x.code !== 'waiting-for-instances') ?? s.reasons[0];
  if (!r) return '';
  return `  (${r.cloud ? `${r.cloud}/${r.region ?? ''}: ` : ''}${r.message})`;
}

/** One progress line of a workload, and whether it is done. */
function describe(name: string, w: WorkloadAnswer, target: ProgressTarget, deleting: boolean): { line: string; done: boolean } {
  const s = w.status;
  const label = name.padEnd(16);
  if (deleting) {
    const left = s.ready + s.pending + s.terminating;
    return { line: `${label} deleting: ${s.terminating} terminating, ${left - s.terminating} not yet`, done: false };
  }
  if (target.generation !== undefined && (w.generation < target.generation || s.observedGeneration < target.generation)) {
    return { line: `${label} generation ${target.generation} applied, waiting for the scheduler to act on it`, done: false };
  }
  const width = 20;
  const filled = s.desired > 0 ? Math.round((s.ready / s.desired) * width) : width;
  const bar = `[${'#'.repeat(Math.min(width, filled))}${'.'.repeat(Math.max(0, width - filled))}]`;
  return {
    line: `${label} ${bar} ${s.ready}/${s.desired} ready, ${s.pending} pending, ${s.terminating} terminating${s.converged ? '' : firstReason(s)}`,
    done: s.converged,
  };
}

/**
 * Polls workloads until each has converged at the generation applied (or is gone, for deletions),
 * showing one progress line per workload: rewritten in place on a terminal, printed on change
 * otherwise. Resolves false on timeout.
 */
export async function waitForConvergence(
  client: SchedulerClient, targets: readonly ProgressTarget[], out: OutStream,
  opts: { timeoutMs: number; intervalMs?: number; deleting?: boolean },
): Promise<boolean> {
  const until = Date.now() + opts.timeoutMs;
  const tty = out.isTTY === true;
  const last = new Map<string, string>();
  let drawn = 0;
  for (;;) {
    const lines: string[] = [];
    let done = true;
    for (const target of targets) {
      const { name } = target;
      let line: string;
      try {
        const w = await client.call<WorkloadAnswer>('GET', `/v1/workloads/${encodeURIComponent(name)}`);
        const d = describe(name, w, target, opts.deleting === true);
        line = d.line;
        if (!d.done) done = false;
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
      for (const [i, l] of lines.entries()) if (last.get(targets[i].name) !== l) { out.write(`${l}\n`); last.set(targets[i].name, l); }
    }
    if (done) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}
