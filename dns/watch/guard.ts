import type { WorkloadStore } from '../answer/store';
import type { WatchEvent, WorkloadEndpoints } from './protocol';

/** When a state from the scheduler is trusted at once, and when it waits. */
export interface StateGuardOptions {
  /** A snapshot that removes more than this share of the names served waits (0..1). */
  readonly maxRemovedShare: number;
  /** A state that waits is applied once it has stood this long unchallenged, or when an operator confirms it. */
  readonly confirmAfterMs: number;
}

/** Defaults: a snapshot dropping over half the names, or going back, waits 5 minutes. */
export const DEFAULT_STATE_GUARD: StateGuardOptions = Object.freeze({ maxRemovedShare: 0.5, confirmAfterMs: 300_000 });

/** A state received but not applied yet, and why. */
export interface PendingState {
  readonly revision: number;
  readonly stateId: string | undefined;
  /** Why it waits, in words. */
  readonly reason: string;
  readonly receivedAt: number;
  /** When it applies by itself unless a trusted snapshot replaces it first. */
  readonly appliesAt: number;
  /** Served workload names it would remove, and names it would add. */
  readonly removes: readonly string[];
  readonly adds: readonly string[];
}

/**
 * Stands between the watch stream and the served state, so bad state from a scheduler cannot turn
 * every name into an NXDOMAIN that resolvers cache. A snapshot that goes back in revision, comes
 * from another scheduler state (its `stateId` changed), or removes most of the names served is
 * held: the previous state keeps being served until the new one has stood for `confirmAfterMs`
 * (events that follow it are applied to it while it waits) or an operator confirms it. Any other
 * snapshot, and every event on top of a trusted state, is applied at once.
 */
export class StateGuard {
  private pendingState: { info: PendingState; workloads: Map<string, WorkloadEndpoints> } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: WorkloadStore,
    private readonly options: StateGuardOptions,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.maxRemovedShare >= 0 && options.maxRemovedShare <= 1)) throw new RangeError(`maxRemovedShare must be within 0..1, got ${options.maxRemovedShare}`);
    if (!(options.confirmAfterMs >= 0)) throw new RangeError(`confirmAfterMs must not be negative, got ${options.confirmAfterMs}`);
  }

  /** The state waiting to be applied, if any. */
  pending(): PendingState | undefined {
    return this.pendingState?.info;
  }

  /** Applies one watch event (or holds it, see the class doc). */
  apply(ev: WatchEvent): void {
    if (ev.type === 'snapshot') {
      this.snapshot(ev);
      return;
    }
    const held = this.pendingState;
    if (held) {
      if (ev.type === 'upsert') held.workloads.set(ev.workload.name, ev.workload);
      else held.workloads.delete(ev.name);
      this.pendingState = { info: { ...held.info, revision: ev.revision, ...this.diff(held.workloads) }, workloads: held.workloads };
      return;
    }
    if (ev.type === 'upsert') this.store.upsert(ev.workload, ev.revision);
    else this.store.delete(ev.name, ev.revision);
  }

  /** Applies the waiting state now (an operator's confirmation); false when nothing waits. */
  confirm(): boolean {
    const held = this.pendingState;
    if (!held) return false;
    this.log(`dns: applying the held scheduler state at revision ${held.info.revision} (confirmed by an operator)`);
    this.commit();
    return true;
  }

  /** Stops the timer of a waiting state. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private snapshot(ev: Extract<WatchEvent, { type: 'snapshot' }>): void {
    const reason = this.suspicion(ev);
    if (!reason) {
      if (this.pendingState) this.log(`dns: dropping the held scheduler state: revision ${ev.revision} is trusted`);
      this.close();
      this.pendingState = undefined;
      this.store.replaceAll(ev.workloads, ev.revision, ev.stateId ?? this.store.stateId);
      return;
    }
    const workloads = new Map(ev.workloads.map((w) => [w.name, w]));
    const previous = this.pendingState?.info;
    // A state that keeps coming back unchanged in kind keeps its clock; anything else starts it again.
    const receivedAt = previous && previous.stateId === ev.stateId ? previous.receivedAt : this.now();
    const info: PendingState = { revision: ev.revision, stateId: ev.stateId, reason, receivedAt, appliesAt: receivedAt + this.options.confirmAfterMs,
      ...this.diff(workloads) };
    this.pendingState = { info, workloads };
    this.log(`dns: holding the scheduler state at revision ${ev.revision} (${reason}); serving revision ${this.store.revision} until it stands `
      + `until ${new Date(info.appliesAt).toISOString()} or an operator confirms it (POST /state/confirm)`);
    this.close();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pendingState?.info !== info) return;
      this.log(`dns: applying the held scheduler state at revision ${info.revision}: it stood for ${this.options.confirmAfterMs} ms`);
      this.commit();
    }, Math.max(0, info.appliesAt - this.now()));
    this.timer.unref();
  }

  private suspicion(ev: Extract<WatchEvent, { type: 'snapshot' }>): string | undefined {
    const store = this.store;
    if (ev.stateId !== undefined && store.stateId !== undefined && ev.stateId !== store.stateId) {
      return `the scheduler's state changed identity from ${store.stateId} to ${ev.stateId}`;
    }
    if (ev.revision < store.revision) return `its revision ${ev.revision} is older than the served ${store.revision}`;
    const served = store.list().map((w) => w.name);
    if (served.length === 0) return undefined;
    const names = new Set(ev.workloads.map((w) => w.name));
    const removed = served.filter((n) => !names.has(n)).length;
    if (removed / served.length > this.options.maxRemovedShare) {
      return `it removes ${removed} of the ${served.length} workloads served`;
    }
    return undefined;
  }

  private diff(workloads: ReadonlyMap<string, WorkloadEndpoints>): { removes: string[]; adds: string[] } {
    const served = new Set(this.store.list().map((w) => w.name));
    return {
      removes: [...served].filter((n) => !workloads.has(n)).sort(),
      adds: [...workloads.keys()].filter((n) => !served.has(n)).sort(),
    };
  }

  private commit(): void {
    const held = this.pendingState!;
    this.close();
    this.pendingState = undefined;
    this.store.replaceAll([...held.workloads.values()], held.info.revision, held.info.stateId ?? this.store.stateId);
  }
}
