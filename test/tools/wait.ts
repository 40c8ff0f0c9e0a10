/** Waiting on conditions, not on the clock: every wait has a deadline and names what it waited for. */

/** Polls `cond` every `intervalMs` (default 10) until it is true, or throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, intervalMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `get` until it returns a value other than undefined, and returns it; throws naming `what` after `timeoutMs`. */
export async function waitForValue<T>(what: string, get: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000, intervalMs = 10): Promise<T> {
  let value: T | undefined;
  await waitFor(what, async () => (value = await get()) !== undefined, timeoutMs, intervalMs);
  return value as T;
}
