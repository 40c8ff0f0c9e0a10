import { constants as osConstants } from 'node:os';
import type { LineLog } from '../../../common';
import type { OutStream } from './context';

/** The signals that stop a long-running command. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs until SIGINT or SIGTERM, then stops in order with `stop`. A second signal while stopping
 * exits at once, with 128 + the signal's number and one line, never a stack trace. Calls that the
 * orderly stop gave up on may still hold the event loop: the process leaves a second after.
 */
export function runUntilSignal(stop: () => Promise<void>, out: OutStream | LineLog): Promise<number> {
  // A command with a logger says it in a log line; one without, as a line of text.
  const say: LineLog = typeof out === 'function' ? out : (message) => { out.write(`${message}\n`); };
  return new Promise((resolve, reject) => {
    let stopping = false;
    // One listener for both signals, kept until the end: between the first signal and the second
    // there is never a moment without one, when the default action would kill the process.
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        say(`${sig}: exiting without waiting for calls in flight (the next start replays them)`, 'warn', { signal: sig });
        process.exit(128 + (osConstants.signals[sig] ?? 0));
      }
      stopping = true;
      say(`${sig}: stopping (${sig} again exits at once)`, 'info', { signal: sig });
      stop().then(() => {
        for (const s of STOP_SIGNALS) process.off(s, onSignal);
        setTimeout(() => process.exit(), 1000).unref();
        resolve(0);
      }, (err: unknown) => {
        for (const s of STOP_SIGNALS) process.off(s, onSignal);
        reject(err);
      });
    };
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
  });
}
