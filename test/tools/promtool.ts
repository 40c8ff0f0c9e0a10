import { execFile } from 'node:child_process';

/** Runs `promtool check metrics` (Debian `prometheus`) on exposition text; resolves with its exit code and output. */
export function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
    p.stdin!.end(text);
  });
}
