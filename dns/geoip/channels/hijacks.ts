/**
 * The record of suspected hijacks: the overlay reports the ones in force at each build; this turns
 * them into events (counted once, from when they were first reported until they end) and keeps the
 * newest ones for `GET /geo/channels`.
 */
import type { SuspectedHijack } from './index';

/** One suspected hijack as `GET /geo/channels` lists it (times in ms since the epoch). */
export interface HijackEvent {
  readonly prefix: string;
  /** The origin whose location the prefix keeps (for a more-specific, the covering prefix's); null when unknown. */
  readonly oldOrigin: number | null;
  readonly newOrigin: number;
  /** For a more-specific of a foreign origin: the stable prefix it was carved from; else null. */
  readonly coveringPrefix: string | null;
  /** Peers that announced the new origin (every one seen while the event lasted), sorted. */
  readonly peers: readonly string[];
  /** The latest AS path announced with the new origin. */
  readonly asPath: readonly number[];
  /** When the new origin was first announced. */
  readonly firstSeenAt: number;
  /** When it was first reported as a suspected hijack. */
  readonly reportedAt: number;
  /** When it stopped (withdrawn, or confirmed by enough peers); null while in force. */
  readonly endedAt: number | null;
}

/** The suspected hijacks seen so far: a count over the process's life and the newest events. */
export interface HijackSummary {
  /** Events since the process started (`meridian_dns_bgp_suspected_hijacks_total`). */
  readonly total: number;
  /** Events in force now. */
  readonly active: number;
  /** The newest events, newest first, at most the log's limit. */
  readonly recent: readonly HijackEvent[];
}

/** The summary of a process that has seen no suspected hijack (or runs no routing overlay). */
export const NO_HIJACKS: HijackSummary = Object.freeze({ total: 0, active: 0, recent: Object.freeze([]) });

type MutableEvent = { -readonly [K in keyof HijackEvent]: HijackEvent[K] };

const keyOf = (h: SuspectedHijack): string => `${h.prefix} ${h.newOrigin} ${h.firstSeenAt}`;

/** Suspected hijack events: each counted once, the newest `limit` kept. */
export class HijackLog {
  private total = 0;
  private readonly active = new Map<string, MutableEvent>();
  // Newest first.
  private recent: MutableEvent[] = [];

  /** Keeps at most `limit` events (newest first) for listing. */
  constructor(private readonly limit = 100) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`the hijack log's limit must be a whole number of at least 1, got ${limit}`);
  }

  /**
   * Takes the suspected hijacks in force at `now` (an overlay build's `hijacks`) and returns the
   * ones not seen before: new events, each counted once. Events no longer in force end at `now`.
   */
  observe(hijacks: readonly SuspectedHijack[], now: number): SuspectedHijack[] {
    const fresh: SuspectedHijack[] = [];
    const seen = new Set<string>();
    for (const h of hijacks) {
      const key = keyOf(h);
      seen.add(key);
      const e = this.active.get(key);
      if (e) {
        e.peers = [...new Set([...e.peers, ...h.peers])].sort();
        e.asPath = h.asPath;
        continue;
      }
      const event: MutableEvent = {
        prefix: h.prefix, oldOrigin: h.oldOrigin ?? null, newOrigin: h.newOrigin, coveringPrefix: h.coveringPrefix ?? null,
        peers: [...h.peers], asPath: h.asPath, firstSeenAt: h.firstSeenAt, reportedAt: now, endedAt: null,
      };
      this.active.set(key, event);
      this.recent.unshift(event);
      this.total++;
      fresh.push(h);
    }
    if (this.recent.length > this.limit) this.recent = this.recent.slice(0, this.limit);
    for (const [key, e] of this.active) {
      if (seen.has(key)) continue;
      e.endedAt = now;
      this.active.delete(key);
    }
    return fresh;
  }

  /** The count, the events in force, and copies of the newest events, newest first. */
  summary(): HijackSummary {
    return { total: this.total, active: this.active.size, recent: this.recent.map((e) => ({ ...e, peers: [...e.peers] })) };
  }
}

/** A suspected hijack in one log line. */
export function describeHijack(h: SuspectedHijack): string {
  const was = h.coveringPrefix !== undefined
    ? `a more-specific of ${h.coveringPrefix}, originated by AS${h.oldOrigin ?? '?'}`
    : `originated by AS${h.oldOrigin ?? '?'} until then`;
  return `suspected BGP hijack: ${h.prefix} announced from AS${h.newOrigin} (${was}) by ${h.peers.join(', ')} since ${new Date(h.firstSeenAt).toISOString()}` +
    `, path ${h.asPath.join(' ')}; the prefix keeps its last good location`;
}
