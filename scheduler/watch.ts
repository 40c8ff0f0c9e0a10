import { tryFindRegion, type CloudId } from '../providers';
import type { Reconciler, Residency } from './reconciler';
import type { StateStore, StoredPolicy } from './store';

/** One instance of a workload as GeoDNS servers see it. */
export interface EndpointInstance {
  readonly id: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** Running with an address. */
  readonly healthy: boolean;
}

/** One region of a workload, located from the catalog. */
export interface EndpointRegion {
  readonly cloud: CloudId;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
  readonly country: string;
  readonly continent: string;
  /** Region usable: its API answers (breaker closed) and it is not in an outage. */
  readonly healthy: boolean;
  readonly instances: readonly EndpointInstance[];
}

/** Placements and addresses of one workload: the record of the watch protocol. */
export interface WorkloadEndpoints {
  readonly name: string;
  readonly dns: { readonly name: string; readonly ttl: number } | null;
  readonly residency: Residency | null;
  readonly regions: readonly EndpointRegion[];
}

/** An event of the watch stream (`GET /v1/watch`). */
export type WatchEvent =
  | { readonly type: 'snapshot'; readonly revision: number; readonly stateId: string; readonly workloads: readonly WorkloadEndpoints[] }
  | { readonly type: 'upsert'; readonly revision: number; readonly workload: WorkloadEndpoints }
  | { readonly type: 'delete'; readonly revision: number; readonly name: string };

/**
 * Computes the endpoints of a workload from the store, or undefined when it does not exist (or is
 * being deleted). `residencyOf` gets the stored policy (with its generation, to cache the parse on).
 */
export async function computeEndpoints<P>(store: StateStore, reconciler: Reconciler<P>, residencyOf: (policy: StoredPolicy) => Residency | null, name: string): Promise<WorkloadEndpoints | undefined> {
  const w = await store.getWorkload(name);
  if (!w || w.deletedAt) return undefined;
  const regions = new Map<string, { cloud: CloudId; region: string; instances: EndpointInstance[] }>();
  const touch = (cloud: CloudId, region: string) => {
    const k = `${cloud}/${region}`;
    let r = regions.get(k);
    if (!r) { r = { cloud, region, instances: [] }; regions.set(k, r); }
    return r;
  };
  for (const a of w.applied?.assignments ?? []) touch(a.cloud, a.region);
  for (const r of await store.listRecords(name)) {
    // Instances on their way out are no longer offered to clients.
    if (r.state !== 'active' || !r.instanceId) continue;
    const healthy = r.cloudState === 'running' && !!r.publicIp;
    touch(r.cloud, r.region).instances.push({ id: r.instanceId, ...(r.publicIp ? { ipv4: r.publicIp } : {}), healthy });
  }
  const policy = await store.getPolicy(w.spec.policy);
  const out: EndpointRegion[] = [];
  for (const r of [...regions.values()].sort((a, b) => `${a.cloud}/${a.region}`.localeCompare(`${b.cloud}/${b.region}`))) {
    const info = tryFindRegion(r.cloud, r.region);
    if (!info) continue;
    out.push({
      cloud: r.cloud, region: r.region, lat: info.lat, lon: info.lon, country: info.country, continent: info.continent,
      healthy: reconciler.health.isHealthy(r.cloud, r.region),
      instances: r.instances.sort((a, b) => a.id.localeCompare(b.id)),
    });
  }
  return { name, dns: w.spec.dns ? { name: w.spec.dns.name, ttl: w.spec.dns.ttl } : null, residency: policy ? residencyOf(policy) : null, regions: out };
}

/** Options of a `WatchHub`. */
export interface WatchHubOptions {
  /** Invalidations are coalesced for this long before they are published (default 250 ms). */
  readonly debounceMs?: number;
  /** Events kept so that a watcher reconnecting with the revision it saw gets only what it missed (default 10,000). */
  readonly logEvents?: number;
  /** Called as each watcher's stream opens, with how it starts. */
  readonly onOpen?: (kind: WatchStream['kind']) => void;
}

/** Where a reconnecting watcher says it stands: the state and the last revision it applied. */
export interface WatchResume {
  readonly stateId: string;
  readonly since: number;
}

/** A watcher's stream as `open` starts it. */
export interface WatchStream {
  /** `snapshot`: the full state first; `resume`: only the events after the watcher's revision. */
  readonly kind: 'snapshot' | 'resume';
  /** The revision the stream starts from (the snapshot's, or the watcher's own). */
  readonly revision: number;
  /** Frames to write before any live one, produced as they are read (a snapshot is never held whole). */
  readonly initial: Iterable<string>;
  /** Stops live frames. */
  readonly unsubscribe: () => void;
}

/** Size above which snapshot chunks are handed to the socket. */
const SNAPSHOT_CHUNK_CHARS = 64 * 1024;

/** In-process listeners get each event; watchers get each flush's frames as one UTF-8 buffer, the same for all. */
type Listener = { readonly event: (e: WatchEvent) => void } | { readonly frames: (chunk: Buffer) => void };

/**
 * Keeps the last published endpoints of every workload and turns invalidations into watch
 * events: coalesced for `debounceMs`, recomputed only for the workloads invalidated, published
 * only when something a client sees changed, each with the next persisted revision. The last
 * `logEvents` events are kept, so a watcher that reconnects gets what it missed instead of the
 * whole state when it can.
 */
export class WatchHub {
  /** Each workload's endpoints and their JSON (shared by every snapshot streamed). */
  private readonly published = new Map<string, { readonly json: string; readonly value: WorkloadEndpoints }>();
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<Listener>();
  /**
   * The last events published, oldest first, with their frames; revisions increase (consecutive
   * unless other schedulers on a shared store took revisions in between).
   */
  private log: Array<{ readonly revision: number; readonly frame: string }> = [];
  private logStart = 0;
  /** The revision this hub published just before the log's first (trimmed off), or -1. */
  private beforeLog = -1;
  private readonly debounceMs: number;
  private readonly logEvents: number;
  /** The revision when this hub started: a watcher at or before it saw another process's state. */
  private floor = 0;
  private revision = 0;
  private stateIdValue = '';
  /** The flush in progress: flushes run one at a time. */
  private flushing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly opened = { snapshot: 0, resume: 0 };
  private readonly onOpen: (kind: WatchStream['kind']) => void;

  /** Call `load()` before anything else. */
  constructor(
    private readonly store: StateStore,
    private readonly compute: (name: string) => WorkloadEndpoints | undefined | Promise<WorkloadEndpoints | undefined>,
    options: WatchHubOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 250;
    this.logEvents = options.logEvents ?? 10_000;
    this.onOpen = options.onOpen ?? (() => undefined);
    if (!(Number.isInteger(this.logEvents) && this.logEvents >= 0)) throw new RangeError(`logEvents must be a non-negative integer, got ${this.logEvents}`);
  }

  /** Reads the state's identity, revision and every workload's endpoints from the store. */
  async load(): Promise<this> {
    this.stateIdValue = await this.store.stateId();
    this.floor = this.revision = await this.store.currentRevision();
    for (const name of await this.store.listWorkloadNames()) {
      const value = await this.compute(name);
      if (value) this.published.set(name, { json: JSON.stringify(value), value });
    }
    return this;
  }

  /** Marks every workload, published or stored, for re-computation (changes may have been missed). */
  async invalidateAll(): Promise<void> {
    for (const name of this.published.keys()) this.invalidate(name);
    for (const name of await this.store.listWorkloadNames()) this.invalidate(name);
  }

  /**
   * Marks for re-computation the published workloads that name a region (its health changed):
   * the others' endpoints do not depend on it.
   */
  invalidateRegion(cloud: CloudId, region: string): void {
    for (const [name, p] of this.published) {
      if (p.value.regions.some((r) => r.cloud === cloud && r.region === region)) this.invalidate(name);
    }
  }

  /** Marks a workload for re-computation. */
  invalidate(name: string): void {
    // A reconcile pass that outlived the service's stop must not start a flush against a closed store.
    if (this.closed) return;
    this.dirty.add(name);
    this.timer ??= setTimeout(() => { void this.flush(); }, this.debounceMs);
  }

  /** Publishes pending changes now: recomputes the invalidated workloads only. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.flushing.then(() => this.flushNow()).catch((err: unknown) => {
      // A flush that outlived `close()` found the store closed: nothing to publish any more.
      if (this.closed) return;
      process.emitWarning(`watch flush failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.flushing = run;
    return run;
  }

  private async flushNow(): Promise<void> {
    if (this.closed) return;
    const names = [...this.dirty].sort();
    this.dirty.clear();
    const changes: Array<{ name: string; next?: { json: string; value: WorkloadEndpoints } }> = [];
    let revision: number;
    try {
      for (const name of names) {
        const value = await this.compute(name);
        const prev = this.published.get(name);
        if (!value) {
          if (prev) changes.push({ name });
          continue;
        }
        const json = JSON.stringify(value);
        if (prev?.json !== json) changes.push({ name, next: { json, value } });
      }
      if (changes.length === 0) return;
      // One write hands out the revisions of the whole batch.
      revision = await this.store.nextRevision(changes.length) - changes.length;
    } catch (err) {
      // The store did not answer (a networked one may be restarting): these are tried again.
      for (const name of names) this.invalidate(name);
      throw err;
    }
    if (this.closed) return;
    const frames: string[] = [];
    const events: WatchEvent[] = [];
    for (const c of changes) {
      revision++;
      let e: WatchEvent;
      let frame: string;
      if (c.next) {
        this.published.set(c.name, c.next);
        e = { type: 'upsert', revision, workload: c.next.value };
        frame = `event: upsert\nid: ${revision}\ndata: {"revision":${revision},"workload":${c.next.json}}\n\n`;
      } else {
        this.published.delete(c.name);
        e = { type: 'delete', revision, name: c.name };
        frame = encodeSse(e);
      }
      this.revision = revision;
      this.remember(revision, frame);
      frames.push(frame);
      events.push(e);
    }
    // One write per watcher per flush, of one buffer all watchers share: encoded once, not once per socket.
    const chunk = Buffer.from(frames.join(''), 'utf8');
    for (const l of this.listeners) {
      if ('frames' in l) l.frames(chunk);
      else for (const e of events) l.event(e);
    }
  }

  /** The full state with its revision, as one value (in-process readers; watchers get `open`). */
  snapshot(): Extract<WatchEvent, { type: 'snapshot' }> {
    return { type: 'snapshot', revision: this.revision, stateId: this.stateIdValue,
      workloads: [...this.published.values()].map((p) => p.value) };
  }

  /** Subscribes to changes; the snapshot is taken in the same tick so no change falls between. */
  subscribe(listener: (e: WatchEvent) => void): { readonly snapshot: Extract<WatchEvent, { type: 'snapshot' }>; readonly unsubscribe: () => void } {
    const l: Listener = { event: listener };
    this.listeners.add(l);
    return { snapshot: this.snapshot(), unsubscribe: () => { this.listeners.delete(l); } };
  }

  /**
   * Opens a watcher's stream: live frames go to `listener` from now on (those of one flush in one
   * UTF-8 buffer, the same object for every watcher), and `initial` yields what
   * must be written before them: the events after `resume.since` when the log still holds all of
   * them and the watcher's state is this one, otherwise a full snapshot at the current revision.
   */
  open(listener: (frames: Buffer) => void, resume?: WatchResume): WatchStream {
    const l: Listener = { frames: listener };
    this.listeners.add(l);
    const unsubscribe = () => { this.listeners.delete(l); };
    if (resume && this.canResume(resume)) {
      const from = this.log.findIndex((x) => x.revision > resume.since);
      this.counted('resume');
      return { kind: 'resume', revision: resume.since, initial: from < 0 ? [] : this.log.slice(from).map((x) => x.frame), unsubscribe };
    }
    // References to the published JSON as of now: later changes replace entries, never edit them.
    const parts = [...this.published.values()].map((p) => p.json);
    const revision = this.revision;
    this.counted('snapshot');
    return { kind: 'snapshot', revision, initial: snapshotFrames(revision, this.stateIdValue, parts), unsubscribe };
  }

  /** Watchers' streams opened since the hub started, by how they started. */
  streamsOpened(): { readonly snapshot: number; readonly resume: number } {
    return { ...this.opened };
  }

  /** How many listeners and watchers are attached. */
  subscribers(): number {
    return this.listeners.size;
  }

  /** Stops pending timers; later invalidations are ignored. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private counted(kind: WatchStream['kind']): void {
    this.opened[kind]++;
    this.onOpen(kind);
  }

  private canResume(r: WatchResume): boolean {
    if (r.stateId !== this.stateIdValue || !Number.isInteger(r.since)) return false;
    // Revisions up to the floor were published by an earlier process, whose last changes may never have gone out.
    if (r.since <= this.floor || r.since > this.revision) return false;
    // Only a revision this hub published says what the watcher has seen (another scheduler on a
    // shared store numbers its own events from the same sequence).
    return r.since === this.revision || r.since === this.beforeLog || (this.logStart <= r.since && this.log.some((x) => x.revision === r.since));
  }

  private remember(revision: number, frame: string): void {
    if (this.logEvents === 0) return;
    if (this.log.length === 0) this.logStart = revision;
    this.log.push({ revision, frame });
    // Trim in batches so that appending stays O(1) amortised.
    if (this.log.length >= 2 * this.logEvents) {
      this.beforeLog = this.log[this.log.length - this.logEvents - 1].revision;
      this.log = this.log.slice(this.log.length - this.logEvents);
      this.logStart = this.log[0].revision;
    }
  }
}

/** A snapshot event as SSE text, in chunks of about `SNAPSHOT_CHUNK_CHARS`, from each workload's JSON. */
function* snapshotFrames(revision: number, stateId: string, workloads: readonly string[]): Generator<string> {
  let chunk = `event: snapshot\nid: ${revision}\ndata: {"revision":${revision},"stateId":${JSON.stringify(stateId)},"workloads":[`;
  for (let i = 0; i < workloads.length; i++) {
    chunk += i === 0 ? workloads[i] : `,${workloads[i]}`;
    if (chunk.length >= SNAPSHOT_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]}\n\n`;
}

/** Encodes one event as a Server-Sent Events frame (one `data:` line of JSON). */
export function encodeSse(e: WatchEvent): string {
  const { type, ...data } = e;
  return `event: ${type}\nid: ${e.revision}\ndata: ${JSON.stringify(data)}\n\n`;
}
