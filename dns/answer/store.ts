import { normalizeName, parentName } from '../wire/name';
import { wireNameEquals } from '../wire/fast';
import type { WorkloadEndpoints } from '../watch/protocol';
import { type AnswerLimits, WorkloadAnswer } from './workload';
import { DecisionRegistry } from './decisions';

/** Why a workload was not served. */
export interface IgnoredWorkload {
  readonly workload: string;
  readonly reason: string;
}

/**
 * The workload names the server answers, keyed for the hot path by the hash of the wire name.
 * Updates replace whole `WorkloadAnswer` objects, so a query sees either the old or the new state.
 */
export class WorkloadStore {
  private readonly byHash = new Map<number, WorkloadAnswer[]>();
  private readonly byFqdn = new Map<string, WorkloadAnswer>();
  private readonly fqdnOfWorkload = new Map<string, string>();
  private readonly endpoints = new Map<string, WorkloadEndpoints>();
  private readonly nameRefs = new Map<string, number>();
  private readonly listeners: Array<() => void> = [];
  /** Decision structures shared by the workloads of one region set. */
  readonly decisions = new DecisionRegistry();
  // Answers replaced or removed by the change under way: released after it, so a workload
  // replaced by one of the same region set hands its structures over instead of freeing them.
  private readonly retired: WorkloadAnswer[] = [];
  // The same, by workload name: a replaced workload's answer counts carry over to its successor.
  private readonly retiredByName = new Map<string, WorkloadAnswer>();
  /** Workloads received but not served, with the reason (admin and logs). */
  readonly ignored = new Map<string, IgnoredWorkload>();
  /** Last revision applied from the watch stream (0 when none). */
  revision = 0;
  /** Identity of the scheduler state the workloads came from, when it sent one. */
  stateId: string | undefined;
  /**
   * True while the server knows it lost state (its snapshot files were unreadable) and no snapshot
   * has replaced it since: a name it does not know may exist, so it gets SERVFAIL, never an
   * NXDOMAIN that resolvers would cache.
   */
  stateLost = false;

  /** `inZone(fqdn)` says whether a name lies in one of the server's zones. */
  constructor(private readonly limits: AnswerLimits, private readonly inZone: (fqdn: string) => boolean) {}

  /** Replaces the whole set (a snapshot). */
  replaceAll(list: readonly WorkloadEndpoints[], revision = this.revision, stateId = this.stateId): void {
    for (const name of [...this.endpoints.keys()]) this.remove(name);
    this.ignored.clear();
    for (const w of list) this.put(w);
    this.revision = revision;
    this.stateId = stateId;
    this.stateLost = false;
    this.changed();
  }

  /** Adds or replaces one workload. */
  upsert(w: WorkloadEndpoints, revision = this.revision): void {
    this.remove(w.name);
    this.put(w);
    this.revision = revision;
    this.changed();
  }

  /** Removes a workload by its workload name (not its DNS name); unknown names are ignored. */
  delete(workloadName: string, revision = this.revision): void {
    this.remove(workloadName);
    this.ignored.delete(workloadName);
    this.revision = revision;
    this.changed();
  }

  /** Every workload's endpoints as last received (what the snapshot file keeps). */
  list(): WorkloadEndpoints[] {
    return [...this.endpoints.values()];
  }

  /** Served workload answers. */
  answers(): WorkloadAnswer[] {
    return [...this.byFqdn.values()];
  }

  /** The answer object for a normalised FQDN. */
  byName(fqdn: string): WorkloadAnswer | undefined {
    return this.byFqdn.get(fqdn);
  }

  /** Hot path: the workload whose wire name sits at offset 12 of `msg` with hash `hash`. */
  findWire(msg: Buffer, hash: number): WorkloadAnswer | undefined {
    const list = this.byHash.get(hash);
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (wireNameEquals(msg, 12, w.wireName)) return w;
    }
    return undefined;
  }

  /** True when `fqdn` is a workload name or an ancestor of one (an empty non-terminal, RFC 8020). */
  nameExists(fqdn: string): boolean {
    return this.nameRefs.has(fqdn);
  }

  /** Calls `fn` after every change. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private put(w: WorkloadEndpoints): void {
    this.endpoints.set(w.name, w);
    if (!w.dns) {
      this.ignored.set(w.name, { workload: w.name, reason: 'no DNS name' });
      return;
    }
    const fqdn = normalizeName(w.dns.name);
    if (!this.inZone(fqdn)) {
      this.ignored.set(w.name, { workload: w.name, reason: `'${fqdn}' is outside the served zones` });
      return;
    }
    const clash = this.byFqdn.get(fqdn);
    if (clash && clash.endpoints.name !== w.name) {
      this.ignored.set(w.name, { workload: w.name, reason: `'${fqdn}' is already served for workload '${clash.endpoints.name}'` });
      return;
    }
    let answer: WorkloadAnswer;
    try {
      answer = new WorkloadAnswer(w, this.limits, this.decisions);
    } catch (e) {
      this.ignored.set(w.name, { workload: w.name, reason: (e as Error).message });
      return;
    }
    this.ignored.delete(w.name);
    // Counters only go up while the process lives: a new state of the workload keeps its counts.
    const previous = this.retiredByName.get(w.name);
    if (previous) answer.carryCountsFrom(previous);
    this.byFqdn.set(fqdn, answer);
    this.fqdnOfWorkload.set(w.name, fqdn);
    const list = this.byHash.get(answer.hash);
    if (list) list.push(answer);
    else this.byHash.set(answer.hash, [answer]);
    for (let n = fqdn; ; n = parentName(n)) {
      this.nameRefs.set(n, (this.nameRefs.get(n) ?? 0) + 1);
      if (parentName(n) === '') break;
    }
  }

  private remove(workloadName: string): void {
    this.endpoints.delete(workloadName);
    const fqdn = this.fqdnOfWorkload.get(workloadName);
    if (fqdn === undefined) return;
    this.fqdnOfWorkload.delete(workloadName);
    const answer = this.byFqdn.get(fqdn);
    this.byFqdn.delete(fqdn);
    if (answer) {
      this.retired.push(answer);
      this.retiredByName.set(workloadName, answer);
      const list = (this.byHash.get(answer.hash) ?? []).filter((a) => a !== answer);
      if (list.length) this.byHash.set(answer.hash, list);
      else this.byHash.delete(answer.hash);
    }
    for (let n = fqdn; ; n = parentName(n)) {
      const c = (this.nameRefs.get(n) ?? 1) - 1;
      if (c <= 0) this.nameRefs.delete(n);
      else this.nameRefs.set(n, c);
      if (parentName(n) === '') break;
    }
  }

  private changed(): void {
    for (const a of this.retired) a.release();
    this.retired.length = 0;
    this.retiredByName.clear();
    for (const fn of this.listeners) fn();
  }
}
