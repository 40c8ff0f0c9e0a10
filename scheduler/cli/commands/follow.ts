import { createParser } from 'eventsource-parser';
import { ApiCallError, type ClientOptions } from '../client';

/** A change the watch stream announced: these workloads (every one, for a snapshot) may look different now. */
export type WatchChange = { readonly all: true } | { readonly all: false; readonly name: string };

/**
 * Follows the scheduler's watch stream (`GET /v1/watch`, Server-Sent Events) and calls `onChange`
 * for each event, one at a time, in order. Resolves when the stream ends
 * or `signal` aborts; rejects with `ApiCallError` when the stream cannot be opened.
 */
export async function followWatch(options: ClientOptions, onChange: (c: WatchChange) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(new URL('/v1/watch', options.server), { headers, signal });
  } catch (err) {
    if (signal?.aborted) return;
    throw new ApiCallError(0, 'MERIDIAN_ERR_UNREACHABLE', `cannot reach the scheduler at ${options.server}: ${err instanceof Error ? err.message : String(err)}`, []);
  }
  if (!res.ok || !res.body) {
    const e = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
    throw new ApiCallError(res.status, e.error ?? `HTTP_${res.status}`, e.message ?? `watch stream refused (HTTP ${res.status})`, []);
  }
  const changes: WatchChange[] = [];
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.event === 'snapshot') {
        // Anything may have changed before it (between the caller's listing and the stream) or,
        // for a later one, while the hub lost track: the caller looks at everything again.
        changes.push({ all: true });
        return;
      }
      const data = JSON.parse(ev.data) as { name?: string; workload?: { name?: string } };
      const name = ev.event === 'delete' ? data.name : data.workload?.name;
      if (typeof name === 'string') changes.push({ all: false, name });
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      while (changes.length) await onChange(changes.shift()!);
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
