// CPU time and memory of a process from /proc (Linux, proc(5)).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  // utime/stime are in clock ticks (sysconf(_SC_CLK_TCK)); 100 on every common Linux build.
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** User + system CPU seconds used so far by `pid`, all its threads included. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** Resident set size and its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** `pid` and all its descendants, from /proc/<pid>/task/<tid>/children (Linux 3.5+). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // it exited meanwhile
    }
    for (const tid of tasks) {
      try {
        for (const child of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (child) out.push(Number(child));
      } catch {
        // the thread exited meanwhile
      }
    }
  }
  return out;
}

/** CPU seconds of `pid` and its descendants (a cluster's primary and workers). */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += cpuSeconds(p);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Summed RSS of `pid` and its descendants, MiB. */
export function treeRssMiB(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    try {
      return sum + memoryMiB(p).rss;
    } catch {
      return sum;
    }
  }, 0);
}
