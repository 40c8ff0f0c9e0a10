import { constants as osConstants } from 'node:os';
import type { OutStream } from './context';

/** The signals that stop a long-running command. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Waits for SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => { for (const s of STOP_SIGNALS) process.off(s, handlers[s]); resolve(sig); };
    const handlers = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
    for (const s of STOP_SIGNALS) process.once(s, handlers[s]);
  });
}

/**
 * Runs until SIGINT or SIGTERM, then stops in order with `stop`. A second signal while stopping
 * exits at once, with 128 + the signal's number and one line, never a stack trace. Calls that the
 * orderly stop gave up on may still hold the event loop: the process leaves a second after.
 */
export async function runUntilSignal(stop: () => Promise<void>, stderr: OutStream): Promise<number> {
  const sig = await untilSignal();
  stderr.write(`${sig}: stopping (${sig} again exits at once)\n`);
  const force = (s: NodeJS.Signals) => {
    stderr.write(`${s}: exiting without waiting for calls in flight (the next start replays them)\n`);
    process.exit(128 + (osConstants.signals[s] ?? 0));
  };
  for (const s of STOP_SIGNALS) process.on(s, force);
  try {
    await stop();
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, force);
  }
  setTimeout(() => process.exit(), 1000).unref();
  return 0;
}
