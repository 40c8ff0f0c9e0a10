import { createHash } from 'node:crypto';
import type { CloudId } from '../../types';

/** Lifecycle of an emulated instance. `pending` turns `running` after the configured delay. */
export type EmuState = 'pending' | 'running' | 'stopped' | 'terminated';

/** An instance held by an emulator. Cloud-specific fields live in `extra`. */
export interface EmuInstance {
  readonly id: string;
  readonly region: string;
  readonly type: string;
  readonly image: string;
  readonly tags: Record<string, string>;
  readonly launchedAt: Date;
  readonly privateIp: string;
  readonly clientToken?: string;
  readonly extra: Record<string, unknown>;
  state: EmuState;
  publicIp?: string;
  terminatedAt?: Date;
  /** When a started (previously stopped) instance turned pending again, in epoch milliseconds. */
  pendingSince?: number;
}

/** Why the store refused a create; each wire layer maps it to its cloud's real error code. */
export type StoreRefusal = 'capacity' | 'quota' | 'idempotency-mismatch';

/** Thrown by the store when a create cannot be done. */
export class StoreError extends Error {
  constructor(readonly refusal: StoreRefusal, message: string) { super(message); }
}

/** What a create asks for. `fingerprint` covers the parameters an idempotency token binds. */
export interface CreateRequest {
  readonly region: string;
  readonly type: string;
  readonly image: string;
  readonly tags: Record<string, string>;
  readonly clientToken?: string;
  readonly fingerprint: string;
  readonly id?: string;
  readonly extra?: Record<string, unknown>;
}

/** The contents of an `InstanceStore`, as saved between runs. */
export interface InstanceStoreSnapshot {
  readonly version: 1;
  readonly seq: number;
  readonly instances: ReadonlyArray<Omit<EmuInstance, 'launchedAt' | 'terminatedAt'> & { readonly launchedAt: string; readonly terminatedAt?: string }>;
  readonly tokens: ReadonlyArray<readonly [string, { id: string; fingerprint: string }]>;
  readonly hosts: ReadonlyArray<readonly [string, number]>;
}

/** A page of a list call. */
export interface Page<T> { readonly items: readonly T[]; readonly nextToken?: string }

/** Store settings. */
export interface StoreOptions {
  readonly cloud: CloudId;
  /** Milliseconds from create to `running`. */
  readonly pendingMs: number;
  /** How long terminated instances stay visible (EC2 keeps them about an hour). 0 hides them at once. */
  readonly terminatedVisibleMs: number;
  /** Makes a new instance id. */
  readonly newId: (n: number) => string;
}

// First octets typical of each cloud's public address space, so demo answers look familiar.
const PUBLIC_FIRST_OCTET: Record<CloudId, number> = { aws: 3, azure: 20, alibaba: 47 };
const CLOUD_INDEX: Record<CloudId, number> = { aws: 1, azure: 2, alibaba: 3 };

/** A stable small number for a region name, used to carve its address pools. */
function regionOctet(region: string): number {
  return createHash('sha256').update(region).digest()[0];
}

/** Hashes parameters into an idempotency fingerprint. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * The instances of one emulated cloud, with lifecycle, capacity and quota checks, address pools
 * per region and idempotency tokens. Pure state: the wire layers speak the protocols.
 */
export class InstanceStore {
  private readonly instances = new Map<string, EmuInstance>();
  private readonly byToken = new Map<string, { id: string; fingerprint: string }>();
  private readonly hostCounter = new Map<string, number>();
  private seq = 0;

  constructor(private readonly options: StoreOptions, private readonly now: () => number = Date.now) {}

  /** Creates an instance, or returns the one its client token already made. */
  create(req: CreateRequest, limits: { capacity: Readonly<Record<string, number>>; quota: Readonly<Record<string, number>> }): { instance: EmuInstance; created: boolean } {
    if (req.clientToken !== undefined) {
      const prior = this.byToken.get(`${req.region}\u0000${req.clientToken}`);
      if (prior) {
        if (prior.fingerprint !== req.fingerprint) {
          throw new StoreError('idempotency-mismatch', `client token '${req.clientToken}' was used with different parameters`);
        }
        const inst = this.instances.get(prior.id);
        if (inst) return { instance: this.refresh(inst), created: false };
      }
    }
    const live = [...this.instances.values()].filter((i) => i.region === req.region && this.refresh(i).state !== 'terminated');
    const cap = req.region + '/' + req.type in limits.capacity ? limits.capacity[`${req.region}/${req.type}`] : limits.capacity[`${req.region}/*`];
    if (cap !== undefined && live.filter((i) => i.type === req.type).length >= cap) {
      throw new StoreError('capacity', `no capacity for ${req.type} in ${req.region}`);
    }
    const quota = limits.quota[req.region] ?? limits.quota['*'];
    if (quota !== undefined && live.length >= quota) {
      throw new StoreError('quota', `instance quota of ${quota} reached in ${req.region}`);
    }
    this.seq += 1;
    const id = req.id ?? this.options.newId(this.seq);
    const instance: EmuInstance = {
      id, region: req.region, type: req.type, image: req.image, tags: { ...req.tags },
      launchedAt: new Date(this.now()), privateIp: this.nextAddress('private', req.region),
      clientToken: req.clientToken, extra: { ...req.extra }, state: 'pending',
    };
    this.instances.set(id, instance);
    if (req.clientToken !== undefined) this.byToken.set(`${req.region}\u0000${req.clientToken}`, { id, fingerprint: req.fingerprint });
    return { instance: this.refresh(instance), created: true };
  }

  /** The instance by id, with its state brought up to date; undefined if unknown or purged. */
  get(id: string): EmuInstance | undefined {
    const i = this.instances.get(id);
    return i && this.visible(this.refresh(i)) ? i : undefined;
  }

  /** Instances of a region matching `filter`, ordered by id, one page at a time. */
  list(region: string, filter: (i: EmuInstance) => boolean, pageSize: number, nextToken?: string): Page<EmuInstance> {
    const all = [...this.instances.values()]
      .map((i) => this.refresh(i))
      .filter((i) => i.region === region && this.visible(i) && filter(i))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const start = nextToken ? all.findIndex((i) => i.id > Buffer.from(nextToken, 'base64url').toString()) : 0;
    const from = start < 0 ? all.length : start;
    const items = all.slice(from, from + pageSize);
    const more = from + pageSize < all.length;
    return { items, nextToken: more ? Buffer.from(items[items.length - 1].id).toString('base64url') : undefined };
  }

  /** Every visible instance, for the admin API. */
  all(): EmuInstance[] {
    return [...this.instances.values()].map((i) => this.refresh(i)).filter((i) => this.visible(i));
  }

  /** Terminates an instance; returns its previous state, or undefined if it is unknown. */
  terminate(id: string): EmuState | undefined {
    const i = this.instances.get(id);
    if (!i) return undefined;
    const prev = this.refresh(i).state;
    if (prev !== 'terminated') {
      i.state = 'terminated';
      i.terminatedAt = new Date(this.now());
      i.publicIp = undefined;
    }
    return prev;
  }

  /**
   * Stops a running instance at once (it keeps its private address, loses its public one) or starts
   * a stopped one (pending again, running after the configured delay). The wire layers check that
   * the move is allowed and answer with their cloud's error otherwise.
   */
  setPower(id: string, to: 'stopped' | 'pending'): void {
    const i = this.instances.get(id);
    if (!i || this.refresh(i).state === 'terminated') return;
    i.state = to;
    i.publicIp = undefined;
    if (to === 'pending') i.pendingSince = this.now();
  }

  /** Replaces an instance's tags (the clouds' tag/update calls). */
  setTags(id: string, tags: Record<string, string>): void {
    const i = this.instances.get(id);
    if (i) { for (const k of Object.keys(i.tags)) delete i.tags[k]; Object.assign(i.tags, tags); }
  }

  /** Everything the store holds, as JSON-safe data (`restore` reads it back). */
  snapshot(): InstanceStoreSnapshot {
    return {
      version: 1, seq: this.seq,
      instances: [...this.instances.values()].map((i) => ({ ...i, launchedAt: i.launchedAt.toISOString(), terminatedAt: i.terminatedAt?.toISOString() })),
      tokens: [...this.byToken.entries()],
      hosts: [...this.hostCounter.entries()],
    };
  }

  /** Replaces the contents with a `snapshot()`; throws on one this version cannot read. */
  restore(snap: InstanceStoreSnapshot): void {
    if (snap.version !== 1) throw new Error(`emulator state version ${String(snap.version)} is not supported`);
    this.reset();
    this.seq = snap.seq;
    for (const i of snap.instances) {
      this.instances.set(i.id, { ...i, launchedAt: new Date(i.launchedAt), terminatedAt: i.terminatedAt === undefined ? undefined : new Date(i.terminatedAt) });
    }
    for (const [k, v] of snap.tokens) this.byToken.set(k, v);
    for (const [k, v] of snap.hosts) this.hostCounter.set(k, v);
  }

  /** Forgets everything. */
  reset(): void {
    this.instances.clear();
    this.byToken.clear();
    this.hostCounter.clear();
    this.seq = 0;
  }

  private visible(i: EmuInstance): boolean {
    return i.state !== 'terminated' || (i.terminatedAt !== undefined && this.now() - i.terminatedAt.getTime() < this.options.terminatedVisibleMs);
  }

  private refresh(i: EmuInstance): EmuInstance {
    if (i.state === 'pending' && this.now() - (i.pendingSince ?? i.launchedAt.getTime()) >= this.options.pendingMs) {
      i.state = 'running';
      i.publicIp = this.nextAddress('public', i.region);
    }
    return i;
  }

  private nextAddress(kind: 'public' | 'private', region: string): string {
    const key = `${kind}\u0000${region}`;
    const n = (this.hostCounter.get(key) ?? 0) + 1;
    this.hostCounter.set(key, n);
    const [a, b] = kind === 'public'
      ? [PUBLIC_FIRST_OCTET[this.options.cloud], regionOctet(region)]
      : [10, CLOUD_INDEX[this.options.cloud] * 64 + (regionOctet(region) % 64)];
    // Hosts .1 to .254 of each /24, so no address ends in .0 or .255.
    return `${a}.${b}.${Math.floor((n - 1) / 254) & 0xff}.${((n - 1) % 254) + 1}`;
  }
}
