/**
 * The routing overlay: routes from the BGP and RIS channels, plus the GeoIP dataset, give the
 * prefixes whose location routing knows better than the dataset, and the origin changes it does
 * not trust. Pure: no I/O, no clock; `build` depends only on what was applied, the dataset and
 * the time it is given.
 *
 * - Each AS has a home: the dominant location, by address count, of its prefixes in the dataset.
 * - A prefix the dataset does not cover at all is located at its origin's home.
 * - A prefix whose origin changed is re-homed to the new origin's home once the new origin is seen
 *   by at least `reHomeMinPeers` peers for at least `reHomeAfterSeconds`.
 * - Until then, and for a more-specific of a prefix that was stable before it appeared, announced
 *   from another origin, the change is a suspected hijack: the prefix keeps its last good location.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseIp } from '../ip';
import type { GeoTable } from '../table';
import type { GeoLocation } from '../types';
import type {
  ChannelKind, OverlayEntry, OverlayResult, PeerDown, RoutingOverlay, RoutingUpdate, SuspectedHijack,
} from './index';

/** Settings of the overlay (under the GeoDNS `geoip` section). */
export const OverlaySettingsSchema = Type.Object({
  /** Distinct peers that must see a new origin before the prefix follows it. */
  reHomeMinPeers: Type.Integer({ minimum: 1, default: 2 }),
  /** How long a new origin must be seen before the prefix follows it. */
  reHomeAfterSeconds: Type.Number({ minimum: 0, default: 300 }),
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
  /** Path of the latest announcement, for explanations. */
  asPath: readonly number[];
  /** The origin whose location the prefix has; undefined while a foreign more-specific is unconfirmed. */
  stable: number | undefined;
  /** The origin the prefix was first stable with; differs from `stable` once re-homed. */
  original: number | undefined;
  /** When the prefix was first seen (ms). */
  readonly firstSeenAt: number;
  /** Origins other than `stable` and when each was first seen (ms); undefined when none (the usual case). */
  candidates: Map<number, number> | undefined;
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
  // Prefix lengths in use per family: the covering-prefix search only tries these.
  private readonly lengths = { v4: [] as number[], v6: [] as number[] };
  // When the first route arrived: until the confirmation time has passed, no prefix can be stable enough to be covered.
  private firstAt: number | undefined;

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
        const foreign = cover !== undefined && cover.stable !== undefined && cover.stable !== r.originAs;
        st = {
          peers: [], origins: [], asPath: r.asPath, stable: foreign ? undefined : r.originAs, original: foreign ? undefined : r.originAs,
          firstSeenAt: record.at, candidates: undefined,
        };
        this.prefixes.set(r.prefix, st);
        const lengths = parsed.v6 ? this.lengths.v6 : this.lengths.v4;
        if (!lengths.includes(parsed.len)) { lengths.push(parsed.len); lengths.sort((a, b) => b - a); }
      }
      const i = st.peers.indexOf(peer);
      if (i < 0) { st.peers.push(peer); st.origins.push(r.originAs); } else st.origins[i] = r.originAs;
      st.asPath = r.asPath;
      if (r.originAs !== st.stable && !st.candidates?.has(r.originAs)) (st.candidates ??= new Map()).set(r.originAs, record.at);
    }
  }

  build(dataset: GeoTable, now: number): OverlayResult {
    const afterMs = this.settings.reHomeAfterSeconds * 1000;
    const entries: OverlayEntry[] = [];
    const hijacks: SuspectedHijack[] = [];
    // Settle confirmed origin changes first, so homes below see the current origins.
    for (const st of this.prefixes.values()) {
      if (!st.candidates) continue;
      for (const [origin, since] of st.candidates) {
        const peers = this.peersWith(st, origin);
        if (peers.length === 0) { st.candidates.delete(origin); continue; }
        if (peers.length >= this.settings.reHomeMinPeers && now - since >= afterMs) {
          st.stable = origin;
          st.original ??= origin;
          st.candidates.delete(origin);
        }
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
    const homes = new Map<number, { location: GeoLocation; addresses: number; share: number } | undefined>();
    const homeOf = (as: number): { location: GeoLocation; addresses: number; share: number } | undefined => {
      if (homes.has(as)) return homes.get(as);
      const totals = new Map<number, number>();
      for (const prefix of byAs.get(as) ?? []) for (const [id, n] of coverageOf(prefix)) totals.set(id, (totals.get(id) ?? 0) + n);
      let best = -1, bestN = 0, all = 0;
      for (const [id, n] of totals) { all += n; if (n > bestN || (n === bestN && id < best)) { best = id; bestN = n; } }
      const h = best < 0 ? undefined : { location: dataset.location(best), addresses: bestN, share: bestN / all };
      homes.set(as, h);
      return h;
    };
    for (const [prefix, st] of this.prefixes) {
      for (const [origin, since] of st.candidates ?? []) {
        hijacks.push({ prefix, oldOrigin: st.stable, newOrigin: origin, peers: this.peersWith(st, origin), firstSeenAt: since });
      }
      if (st.stable === undefined) continue;
      const reHomed = st.original !== undefined && st.original !== st.stable;
      if (!reHomed && coverageOf(prefix).size > 0) continue;
      const home = homeOf(st.stable);
      if (!home) continue;
      const peers = this.peersWith(st, st.stable);
      const channel = this.bestChannel(peers.length ? peers : st.peers);
      const where = `AS${st.stable}'s home ${home.location.country || '??'}/${home.location.continent || '??'} (${(home.share * 100).toFixed(0)}% of its addresses in the dataset)`;
      const reason = reHomed
        ? `re-homed: origin changed from AS${st.original} to AS${st.stable}, seen by ${peers.length} peer(s) for at least ${this.settings.reHomeAfterSeconds} s; located at ${where}; path ${st.asPath.join(' ')}`
        : `not in the dataset; located at origin ${where}; path ${st.asPath.join(' ')}`;
      entries.push({ prefix, location: home.location, channel, originAs: st.stable, reason });
    }
    return { entries, hijacks };
  }

  /** Peers announcing `prefix` and the origin each sees (for `/geo/lookup` explanations). */
  routesOf(prefix: string): { readonly peer: string; readonly originAs: number }[] {
    const st = this.prefixes.get(prefix);
    return st ? st.peers.map((peer, i) => ({ peer, originAs: st.origins[i] })) : [];
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
  private coveringState(p: Parsed, at: number): PrefixState | undefined {
    if (this.firstAt === undefined || at - this.firstAt < this.settings.reHomeAfterSeconds * 1000) return undefined;
    for (const l of p.v6 ? this.lengths.v6 : this.lengths.v4) {
      if (l >= p.len) continue;
      const st = this.prefixes.get(covering(p, l));
      if (st && st.stable !== undefined && at - st.firstSeenAt >= this.settings.reHomeAfterSeconds * 1000) return st;
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
    if (st.peers.length === 0) this.prefixes.delete(prefix);
  }
}
