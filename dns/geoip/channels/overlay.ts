/**
 * The routing overlay: routes from the BGP and RIS channels, plus the GeoIP dataset, give the
 * prefixes whose location routing knows better than the dataset, and the origin changes it does
 * not trust. Pure: no I/O, no clock; `build` depends only on what was applied, the dataset and
 * the time it is given.
 *
 * - Each AS has a home: the dominant location, by address count, of its prefixes in the dataset.
 * - A prefix the dataset does not cover at all is located at its origin's home.
 * - A prefix whose origin changed is re-homed to the new origin's home once the new origin is seen
 *   by at least `reHomeMinPeers` peers for at least `reHomeAfterSeconds`; so is a more-specific of a
 *   stable prefix, announced from another origin, once confirmed the same way.
 * - Until then the prefix keeps its last good location. A new origin seen by fewer than
 *   `reHomeMinPeers` peers, or a more-specific of a prefix that was stable before it appeared,
 *   announced from another origin, is a suspected hijack once it has lasted `suspectAfterSeconds`
 *   (so that a legitimate change reaching the peers a moment apart is not reported).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseIp } from '../ip';
import type { GeoTable } from '../table';
import type { GeoLocation } from '../types';
import type {
  ChannelKind, OriginChange, OverlayEntry, OverlayResult, PeerDown, RouteDecision, RouteExplanation, RoutingOverlay, RoutingUpdate,
} from './index';

/** Settings of the overlay (under the GeoDNS `geoip` section). */
export const OverlaySettingsSchema = Type.Object({
  /** Distinct peers that must see a new origin before the prefix follows it. */
  reHomeMinPeers: Type.Integer({ minimum: 1, default: 2 }),
  /** How long a new origin must be seen before the prefix follows it. */
  reHomeAfterSeconds: Type.Number({ minimum: 0, default: 300 }),
  /**
   * How long an origin change that cannot be followed (too few peers, or a foreign more-specific)
   * must last before it is reported as a suspected hijack: the other peers' time to catch up.
   */
  suspectAfterSeconds: Type.Number({ minimum: 0, default: 10 }),
}, { additionalProperties: false });

/** Validated overlay settings. */
export type OverlaySettings = Static<typeof OverlaySettingsSchema>;

/** Applies defaults and validates; throws a RangeError naming every problem with its key path. */
export function loadOverlaySettings(input: unknown): OverlaySettings {
  const v: unknown = Value.Default(OverlaySettingsSchema, Value.Clone(input ?? {}));
  const issues = [...Value.Errors(OverlaySettingsSchema, v)].map((e) => `${e.path || '/'}: ${e.message}`);
  if (issues.length) throw new RangeError(`invalid overlay settings: ${issues.join('; ')}`);
  return Object.freeze(v as OverlaySettings);
}

interface PrefixState {
  /** Peers announcing the prefix, and the origin each announces (same index): arrays, since most prefixes have one or two. */
  readonly peers: string[];
  readonly origins: number[];
  /** Path of the latest announcement from the `stable` origin (of the first one while there is none), for explanations. */
  asPath: readonly number[];
  /** The origin whose location the prefix has; undefined while a foreign more-specific is unconfirmed. */
  stable: number | undefined;
  /** The origin the prefix was first stable with; differs from `stable` once re-homed. */
  original: number | undefined;
  /** When the prefix was first seen (ms). */
  readonly firstSeenAt: number;
  /** Origins other than `stable`, each with when it was first seen and its latest path; undefined when none (the usual case). */
  candidates: Map<number, Candidate> | undefined;
}

interface Candidate {
  /** When the origin was first seen for the prefix (ms). */
  readonly since: number;
  asPath: readonly number[];
}

/** The stable prefix a foreign more-specific was carved from, and its origin then. */
interface Cover {
  readonly prefix: string;
  readonly originAs: number;
}

/** An AS's home: its dominant location and that location's share of its addresses in the dataset. */
interface Home {
  readonly location: GeoLocation;
  readonly share: number;
}

interface Parsed {
  readonly v6: boolean;
  /** Address as a number: exact for IPv4, approximate (double) for IPv6; good for weighting. */
  readonly start: number;
  readonly end: number;
  readonly len: number;
  readonly words: readonly number[];
}

const TWO32 = 2 ** 32;

function parsePrefix(prefix: string): Parsed {
  const slash = prefix.lastIndexOf('/');
  const len = Number(prefix.slice(slash + 1));
  const ip = parseIp(prefix.slice(0, slash));
  if (ip.version === 4) {
    const size = 2 ** (32 - len);
    return { v6: false, start: ip.value, end: ip.value + size - 1, len, words: [ip.value] };
  }
  const w = ip.words;
  const start = ((w[0] * TWO32 + w[1]) * TWO32 + w[2]) * TWO32 + w[3];
  return { v6: true, start, end: start + 2 ** (128 - len) - 1, len, words: w };
}

// The canonical text of `p`'s covering prefix of length `len`.
function covering(p: Parsed, len: number): string {
  if (!p.v6) {
    const base = len === 0 ? 0 : (p.words[0] - (p.words[0] % 2 ** (32 - len))) >>> 0;
    return `${(base >>> 24) & 255}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${len}`;
  }
  const w = p.words.map((x, i) => {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    return bits === 0 ? 0 : bits === 32 ? x : (x & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
  });
  const g: number[] = [];
  for (const x of w) g.push((x >>> 16) & 0xffff, x & 0xffff);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const h = (a: number, b: number): string => g.slice(a, b).map((x) => x.toString(16)).join(':');
  return `${best < 0 ? h(0, 8) : `${h(0, best)}::${h(best + bestLen, 8)}`}/${len}`;
}

function v6Number(w: readonly number[]): number {
  return ((w[0] * TWO32 + w[1]) * TWO32 + w[2]) * TWO32 + w[3];
}

/** Addresses of `p` per dataset location id (empty map: the dataset does not cover `p` at all). */
function coverage(dataset: GeoTable, p: Parsed): Map<number, number> {
  const out = new Map<number, number>();
  const count = p.v6 ? dataset.v6Count : dataset.v4Count;
  const endOf = (i: number): number => (p.v6 ? v6Number(dataset.v6RangeEnd(i)) : dataset.v4RangeEnd(i));
  const startOf = (i: number): number => (p.v6 ? v6Number(dataset.v6RangeStart(i)) : dataset.v4RangeStart(i));
  // First range ending at or after the prefix's start.
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (endOf(mid) < p.start) lo = mid + 1; else hi = mid;
  }
  for (let i = lo; i < count; i++) {
    const s = startOf(i);
    if (s > p.end) break;
    const n = Math.min(p.end, endOf(i)) - Math.max(p.start, s) + 1;
    const id = p.v6 ? dataset.locationIdOfV6(i) : dataset.locationIdOfV4(i);
    out.set(id, (out.get(id) ?? 0) + n);
  }
  return out;
}

/** The routing overlay over every routing channel's peers. */
export class Overlay implements RoutingOverlay {
  private readonly settings: OverlaySettings;
  private readonly prefixes = new Map<string, PrefixState>();
  private readonly peerPrefixes = new Map<string, Set<string>>();
  private readonly peerChannel = new Map<string, ChannelKind>();
  // Foreign more-specifics not (yet) followed, and the prefix each was carved from: few, so kept apart from PrefixState.
  private readonly covers = new Map<string, Cover>();
  // Prefix lengths in use per family: the covering-prefix search only tries these.
  private readonly lengths = { v4: [] as number[], v6: [] as number[] };
  // When the first route arrived: until the confirmation time has passed, no prefix can be stable enough to be covered.
  private firstAt: number | undefined;
  // The homes the last build found, and its dataset: `explain` reads them instead of scanning every route.
  private lastHomes: { readonly dataset: GeoTable; readonly homes: ReadonlyMap<number, Home | undefined> } | undefined;

  constructor(settings: unknown = {}) {
    this.settings = loadOverlaySettings(settings);
  }

  /** Prefixes held (over all peers). */
  get size(): number {
    return this.prefixes.size;
  }

  apply(record: RoutingUpdate | PeerDown, channel: ChannelKind): void {
    const peer = record.peer;
    this.firstAt ??= record.at;
    this.peerChannel.set(peer, channel);
    let mine = this.peerPrefixes.get(peer);
    if (!mine) this.peerPrefixes.set(peer, (mine = new Set()));
    if (record.kind === 'peer-down') {
      for (const prefix of mine) this.remove(prefix, peer);
      this.peerPrefixes.delete(peer);
      return;
    }
    if (record.full) {
      const keep = new Set(record.announce.map((r) => r.prefix));
      for (const prefix of [...mine]) if (!keep.has(prefix)) { this.remove(prefix, peer); mine.delete(prefix); }
    }
    for (const prefix of record.withdraw) { this.remove(prefix, peer); mine.delete(prefix); }
    for (const r of record.announce) {
      mine.add(r.prefix);
      let st = this.prefixes.get(r.prefix);
      if (!st) {
        const parsed = parsePrefix(r.prefix);
        const cover = this.coveringState(parsed, record.at);
        // A more-specific from another origin than a prefix that was already stable: not trusted yet.
        const foreign = cover !== undefined && cover.state.stable !== r.originAs;
        st = {
          peers: [], origins: [], asPath: r.asPath, stable: foreign ? undefined : r.originAs, original: foreign ? undefined : r.originAs,
          firstSeenAt: record.at, candidates: undefined,
        };
        this.prefixes.set(r.prefix, st);
        if (foreign) this.covers.set(r.prefix, { prefix: cover.prefix, originAs: cover.state.stable! });
        const lengths = parsed.v6 ? this.lengths.v6 : this.lengths.v4;
        if (!lengths.includes(parsed.len)) { lengths.push(parsed.len); lengths.sort((a, b) => b - a); }
      }
      const i = st.peers.indexOf(peer);
      if (i < 0) { st.peers.push(peer); st.origins.push(r.originAs); } else st.origins[i] = r.originAs;
      if (r.originAs === st.stable) { st.asPath = r.asPath; continue; }
      const c = st.candidates?.get(r.originAs);
      if (c) c.asPath = r.asPath;
      else (st.candidates ??= new Map()).set(r.originAs, { since: record.at, asPath: r.asPath });
    }
  }

  build(dataset: GeoTable, now: number): OverlayResult {
    const { reHomeMinPeers, reHomeAfterSeconds, suspectAfterSeconds } = this.settings;
    const afterMs = reHomeAfterSeconds * 1000;
    const suspectMs = suspectAfterSeconds * 1000;
    const entries: OverlayEntry[] = [];
    const hijacks: OriginChange[] = [];
    const pending: OriginChange[] = [];
    // The earliest later time at which the passing of time alone changes the result.
    let next: number | undefined;
    const wakeAt = (t: number): void => { if (t > now && (next === undefined || t < next)) next = t; };
    // Settle confirmed origin changes first, so homes below see the current origins.
    for (const [prefix, st] of this.prefixes) {
      if (!st.candidates) continue;
      for (const [origin, c] of st.candidates) {
        const peers = this.countWith(st, origin);
        if (peers === 0) { st.candidates.delete(origin); continue; }
        if (peers < reHomeMinPeers) continue;
        if (now - c.since < afterMs) { wakeAt(c.since + afterMs); continue; }
        // A foreign more-specific confirmed moves its addresses from the covering prefix's origin: a re-homing.
        st.original ??= this.covers.get(prefix)?.originAs ?? origin;
        st.stable = origin;
        st.asPath = c.asPath;
        st.candidates.delete(origin);
        this.covers.delete(prefix);
      }
      if (st.candidates.size === 0) st.candidates = undefined;
    }
    // Homes: address counts per location of each AS's own prefixes (those it was first stable with).
    const cov = new Map<string, Map<number, number>>();
    const coverageOf = (prefix: string): Map<number, number> => {
      let c = cov.get(prefix);
      if (!c) cov.set(prefix, (c = coverage(dataset, parsePrefix(prefix))));
      return c;
    };
    const byAs = new Map<number, string[]>();
    for (const [prefix, st] of this.prefixes) {
      if (st.original === undefined || st.original !== st.stable) continue;
      let list = byAs.get(st.original);
      if (!list) byAs.set(st.original, (list = []));
      list.push(prefix);
    }
    const homes = new Map<number, Home | undefined>();
    const homeOf = (as: number): Home | undefined => {
      if (!homes.has(as)) homes.set(as, homeFrom(dataset, byAs.get(as) ?? [], coverageOf));
      return homes.get(as);
    };
    for (const [prefix, st] of this.prefixes) {
      for (const [origin, c] of st.candidates ?? []) {
        const change = this.changeOf(prefix, st, origin, c);
        if (!this.suspicious(st, change.peers.length)) pending.push(change);
        else if (now - c.since >= suspectMs) hijacks.push(change);
        else wakeAt(c.since + suspectMs);
      }
      if (st.stable === undefined) continue;
      const reHomed = st.original !== undefined && st.original !== st.stable;
      if (!reHomed && coverageOf(prefix).size > 0) continue;
      const home = homeOf(st.stable);
      if (!home) continue;
      const peers = this.peersWith(st, st.stable);
      const channel = this.bestChannel(peers.length ? peers : st.peers);
      entries.push({ prefix, location: home.location, channel, originAs: st.stable, reason: this.reasonOf(st, home, peers.length) });
    }
    this.lastHomes = { dataset, homes };
    return { entries, hijacks, pending, nextChangeAt: next };
  }

  /**
   * Why the most specific held prefix covering `address` is located where it is, as of the last
   * `build` (which settles confirmed changes); undefined when no held route covers the address.
   * An origin's home comes from the last build against the same dataset; one it did not find takes
   * time in proportion to the routes held.
   */
  explain(address: string, dataset: GeoTable, now: number): RouteExplanation | undefined {
    const ip = parseIp(address);
    const full = parsePrefix(`${address}/${ip.version === 4 ? 32 : 128}`);
    let prefix: string | undefined;
    let st: PrefixState | undefined;
    for (const l of full.v6 ? this.lengths.v6 : this.lengths.v4) {
      const key = covering(full, l);
      st = this.prefixes.get(key);
      if (st) { prefix = key; break; }
    }
    if (!st || prefix === undefined) return undefined;
    const suspectMs = this.settings.suspectAfterSeconds * 1000;
    const changes = [...st.candidates ?? []].filter(([origin]) => this.countWith(st, origin) > 0).map(([origin, c]) => {
      const change = this.changeOf(prefix, st, origin, c);
      return { ...change, suspected: this.suspicious(st, change.peers.length) && now - c.since >= suspectMs };
    });
    const routes = st.peers.map((peer, i) => ({ peer, originAs: st.origins[i] }));
    const base = this.baseDecision(prefix, st, dataset);
    const out = (decision: RouteDecision, reason: string): RouteExplanation => ({
      prefix, originAs: st.stable ?? null, asPath: st.asPath, routes, decision, reason, originChanges: changes,
      home: base.home ? { ...base.home.location, share: base.home.share } : null,
    });
    const hijack = changes.find((c) => c.suspected);
    if (hijack) return out('suspected-hijack', `suspected hijack: ${describeChange(hijack)}; kept the last good location: ${base.reason}`);
    const change = changes[0];
    if (change || st.stable === undefined) {
      const { reHomeMinPeers, reHomeAfterSeconds } = this.settings;
      const seen = change ? `${describeChange(change)}, for ${Math.max(0, Math.floor((now - change.firstSeenAt) / 1000))} s` : 'its origin is not confirmed';
      return out('origin-change-pending', `origin change not followed yet (needs ${reHomeMinPeers} peer(s) for ${reHomeAfterSeconds} s): ${seen}; keeps its location: ${base.reason}`);
    }
    return out(base.decision, base.reason);
  }

  /** Peers announcing `prefix` and the origin each sees (for `/geo/lookup` explanations). */
  routesOf(prefix: string): { readonly peer: string; readonly originAs: number }[] {
    const st = this.prefixes.get(prefix);
    return st ? st.peers.map((peer, i) => ({ peer, originAs: st.origins[i] })) : [];
  }

  // Where a prefix is located with its confirmed origin, ignoring changes not yet followed.
  private baseDecision(prefix: string, st: PrefixState, dataset: GeoTable): { decision: RouteDecision; reason: string; home?: Home } {
    if (st.stable === undefined) {
      const cover = this.covers.get(prefix);
      return { decision: 'origin-change-pending', reason: cover ? `that of ${cover.prefix} (origin AS${cover.originAs}), which it is a more-specific of` : 'that of the covering data' };
    }
    const stable = st.stable;
    const reHomed = st.original !== undefined && st.original !== stable;
    if (!reHomed && coverage(dataset, parsePrefix(prefix)).size > 0) {
      return { decision: 'dataset', reason: `located by the dataset: AS${stable} has originated it since it was first seen; path ${st.asPath.join(' ')}` };
    }
    const own = (function* (all: Map<string, PrefixState>): Generator<string> {
      for (const [p, s] of all) if (s.original === stable && s.stable === stable) yield p;
    })(this.prefixes);
    const known = this.lastHomes?.dataset === dataset && this.lastHomes.homes.has(stable);
    const home = known ? this.lastHomes!.homes.get(stable) : homeFrom(dataset, own, (p) => coverage(dataset, parsePrefix(p)));
    if (!home) return { decision: 'no-home', reason: `AS${stable} has no address in the dataset to take a home from, so the dataset or a covering prefix decides; path ${st.asPath.join(' ')}` };
    return { decision: reHomed ? 're-homed' : 'origin-home', reason: this.reasonOf(st, home, this.countWith(st, stable)), home };
  }

  private reasonOf(st: PrefixState, home: Home, peers: number): string {
    const where = `AS${st.stable}'s home ${home.location.country || '??'}/${home.location.continent || '??'} (${(home.share * 100).toFixed(0)}% of its addresses in the dataset)`;
    return st.original !== undefined && st.original !== st.stable
      ? `re-homed: origin changed from AS${st.original} to AS${st.stable}, seen by ${peers} peer(s) for at least ${this.settings.reHomeAfterSeconds} s; located at ${where}; path ${st.asPath.join(' ')}`
      : `not in the dataset; located at origin ${where}; path ${st.asPath.join(' ')}`;
  }

  private changeOf(prefix: string, st: PrefixState, origin: number, c: Candidate): OriginChange {
    const cover = st.stable === undefined ? this.covers.get(prefix) : undefined;
    return {
      prefix, oldOrigin: st.stable ?? cover?.originAs, coveringPrefix: cover?.prefix, newOrigin: origin,
      peers: this.peersWith(st, origin), asPath: c.asPath, firstSeenAt: c.since,
    };
  }

  // A change the overlay will not follow on its own: too few peers, or a foreign more-specific.
  private suspicious(st: PrefixState, peers: number): boolean {
    return peers < this.settings.reHomeMinPeers || st.stable === undefined;
  }

  private countWith(st: PrefixState, origin: number): number {
    let n = 0;
    for (const o of st.origins) if (o === origin) n++;
    return n;
  }

  private peersWith(st: PrefixState, origin: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < st.peers.length; i++) if (st.origins[i] === origin) out.push(st.peers[i]);
    return out.sort();
  }

  private bestChannel(peers: readonly string[]): ChannelKind {
    const order: readonly ChannelKind[] = ['bgp', 'ris', 'signed', 'static'];
    let best = 3;
    for (const p of peers) best = Math.min(best, order.indexOf(this.peerChannel.get(p) ?? 'static'));
    return order[best];
  }

  // The most specific held prefix covering `p` whose origin has been stable for at least the
  // confirmation time when `p` appears (a table arriving at once has no "earlier" prefix).
  private coveringState(p: Parsed, at: number): { prefix: string; state: PrefixState } | undefined {
    if (this.firstAt === undefined || at - this.firstAt < this.settings.reHomeAfterSeconds * 1000) return undefined;
    for (const l of p.v6 ? this.lengths.v6 : this.lengths.v4) {
      if (l >= p.len) continue;
      const prefix = covering(p, l);
      const state = this.prefixes.get(prefix);
      if (state && state.stable !== undefined && at - state.firstSeenAt >= this.settings.reHomeAfterSeconds * 1000) return { prefix, state };
    }
    return undefined;
  }

  private remove(prefix: string, peer: string): void {
    const st = this.prefixes.get(prefix);
    if (!st) return;
    const i = st.peers.indexOf(peer);
    if (i < 0) return;
    st.peers.splice(i, 1);
    st.origins.splice(i, 1);
    if (st.peers.length === 0) {
      this.prefixes.delete(prefix);
      this.covers.delete(prefix);
    }
  }
}

/** The dominant location, by address count, of `prefixes` in the dataset; undefined when the dataset has none of them. */
function homeFrom(dataset: GeoTable, prefixes: Iterable<string>, coverageOf: (prefix: string) => Map<number, number>): Home | undefined {
  const totals = new Map<number, number>();
  for (const prefix of prefixes) for (const [id, n] of coverageOf(prefix)) totals.set(id, (totals.get(id) ?? 0) + n);
  let best = -1, bestN = 0, all = 0;
  for (const [id, n] of totals) { all += n; if (n > bestN || (n === bestN && id < best)) { best = id; bestN = n; } }
  return best < 0 ? undefined : { location: dataset.location(best), share: bestN / all };
}

/** An origin change in words: what was announced, from where, by whom, since when. */
function describeChange(c: OriginChange): string {
  const was = c.coveringPrefix !== undefined
    ? `a more-specific of ${c.coveringPrefix} (origin AS${c.oldOrigin ?? '?'})`
    : `origin was AS${c.oldOrigin ?? '?'}`;
  return `${c.prefix} announced from AS${c.newOrigin} (${was}) by ${c.peers.length} peer(s) [${c.peers.join(', ')}] since ${new Date(c.firstSeenAt).toISOString()}, path ${c.asPath.join(' ')}`;
}
