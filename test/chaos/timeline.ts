/**
 * The routing timeline: events at fixed shares of the run (re-homes to an AS on another
 * continent, new prefixes, withdrawals, and hijacks seen by one peer), drawn from the seed, and
 * the ground truth they make: where each client prefix is at every moment (a hijack changes no
 * truth: the prefix stays where its legitimate origin is).
 */
import { parseIp } from '../../dns/geoip/index';
import { distanceKm, originOf, rng, type Place, type World, type WorldPrefix } from './world';

/** Kinds of routing events, in the order the report lists them. */
export const EVENT_KINDS = ['re-home', 'new-prefix', 'withdrawal', 'hijack-more-specific', 'hijack-origin'] as const;
/** One kind of routing event. */
export type EventKind = (typeof EVENT_KINDS)[number];

/** A route as a peer announces it. */
export interface Route {
  readonly prefix: string;
  readonly asPath: readonly number[];
}

/** One routing event, resolved against the world. */
export interface RoutingEvent {
  readonly kind: EventKind;
  /** Share of the run at which it happens. */
  readonly at: number;
  /** Client index (into `Timeline.clients`) whose truth or routes it touches. */
  readonly client: number;
  /** The announced prefix (the more-specific for that hijack). */
  readonly prefix: string;
  /** New origin (re-home, new prefix, hijacks). */
  readonly originAs?: number;
  /** Where the prefix really is afterwards (re-home, new prefix). */
  readonly place?: Place;
  /** Text for the report. */
  readonly describe: string;
}

/**
 * The events of a run by share of its duration: kind, when, and the family of the client prefix
 * (IPv4 unless said). Hijacks while every feed is down change no truth.
 */
export const EVENT_SCHEDULE: readonly { readonly kind: EventKind; readonly at: number; readonly family?: 6 }[] = [
  { kind: 're-home', at: 0.06 }, { kind: 'new-prefix', at: 0.09 }, { kind: 'hijack-more-specific', at: 0.12 },
  { kind: 'hijack-origin', at: 0.15 }, { kind: 'withdrawal', at: 0.17 },
  { kind: 're-home', at: 0.25 }, { kind: 'new-prefix', at: 0.34 }, { kind: 'hijack-origin', at: 0.37 },
  { kind: 're-home', at: 0.45 }, { kind: 'new-prefix', at: 0.53 }, { kind: 'hijack-more-specific', at: 0.56 },
  { kind: 'hijack-more-specific', at: 0.66 }, { kind: 'hijack-origin', at: 0.73 },
  { kind: 'hijack-origin', at: 0.86 },
  { kind: 're-home', at: 0.08, family: 6 }, { kind: 'new-prefix', at: 0.48, family: 6 }, { kind: 'hijack-origin', at: 0.64, family: 6 },
];

/** A foreign AS that hijacks (documentation range of RFC 5398). */
export const HIJACKER_AS = 64496;

/** A truth segment: from `from` (share of the run) on, the client is at `place`, or not routed (undefined). */
interface Segment {
  readonly from: number;
  readonly place: Place | undefined;
}

/** Events plus the truth and routes they imply. */
export class Timeline {
  /** Every client prefix: the world's routed ones, then the spare ones. */
  readonly clients: readonly WorldPrefix[];
  readonly events: readonly RoutingEvent[];
  private readonly truth: Segment[][];
  /** Current legitimate route per client (undefined: not routed), as of the last `advance`. */
  private readonly routes: (Route | undefined)[];
  /** Hijack routes announced by the second peer only. */
  private readonly hijacks: Route[] = [];
  private applied = 0;

  constructor(world: World) {
    // IPv6 events draw from a stream of their own, so the IPv4 events stay those of the seed.
    const randoms = { 4: rng(world.seed ^ 0x5eed), 6: rng(world.seed ^ 0x5eed6) };
    let random = randoms[4];
    this.clients = [...world.prefixes, ...world.spare];
    const routed = world.prefixes.length;
    this.truth = this.clients.map((c, i) => [{ from: 0, place: i < routed ? c.place : undefined }]);
    this.routes = this.clients.map((c, i) => (i < routed ? { prefix: c.prefix, asPath: c.asPath } : undefined));
    const used = new Set<number>();
    // Home of each origin AS: the one place of all its routed IPv4 prefixes (ASes spread over several places are not re-home targets).
    const homes = new Map<number, Place | null>();
    for (let i = 0; i < routed; i++) {
      if (this.clients[i]!.family !== 4) continue;
      const as = originOf(this.clients[i]!.asPath);
      const h = homes.get(as);
      const p = this.clients[i]!.place;
      if (h === undefined) homes.set(as, p);
      else if (h !== null && (h.lat !== p.lat || h.lon !== p.lon)) homes.set(as, null);
    }
    const asOf = (i: number): number => originOf(this.clients[i]!.asPath);
    const pick = (from: number, to: number, ok: (i: number) => boolean): number => {
      for (let tries = 0; tries < 100_000; tries++) {
        const i = from + Math.floor(random() * (to - from));
        if (!used.has(i) && ok(i)) { used.add(i); return i; }
      }
      throw new Error('no client prefix fits the event');
    };
    // A target AS on another continent (>= 3000 km away) whose prefixes are all in one place.
    const targetFor = (place: Place, not: number): { as: number; home: Place } => {
      const busy = new Set([...used].filter((i) => i < routed).map(asOf));
      const candidates = [...homes].filter((e): e is [number, Place] => e[1] !== null && e[0] !== not && !busy.has(e[0]) && distanceKm(e[1], place) >= 3000);
      const [as, home] = candidates[Math.floor(random() * candidates.length)]!;
      // Its prefixes must stay where they are for its home to stay put.
      for (let i = 0; i < routed; i++) if (asOf(i) === as) used.add(i);
      return { as, home };
    };
    const events: RoutingEvent[] = [];
    const schedule = [...EVENT_SCHEDULE.filter((e) => e.family === undefined), ...EVENT_SCHEDULE.filter((e) => e.family === 6)];
    for (const { kind, at, family: f } of schedule) {
      const family = f ?? 4;
      random = randoms[family];
      const of = (ok: (i: number) => boolean) => (i: number): boolean => this.clients[i]!.family === family && ok(i);
      const any = of(() => true);
      if (kind === 're-home') {
        const i = pick(0, routed, any);
        const c = this.clients[i]!;
        const t = targetFor(c.place, asOf(i));
        events.push({ kind, at, client: i, prefix: c.prefix, originAs: t.as, place: t.home,
          describe: `${c.prefix} AS${asOf(i)} ${c.place.country} -> AS${t.as} ${t.home.country}` });
      } else if (kind === 'new-prefix') {
        const i = pick(routed, this.clients.length, any);
        const c = this.clients[i]!;
        const t = targetFor(c.place, -1);
        events.push({ kind, at, client: i, prefix: c.prefix, originAs: t.as, place: t.home, describe: `${c.prefix} from AS${t.as} ${t.home.country}` });
      } else if (kind === 'withdrawal') {
        const i = pick(0, routed, any);
        events.push({ kind, at, client: i, prefix: this.clients[i]!.prefix, describe: `${this.clients[i]!.prefix} AS${asOf(i)}` });
      } else if (kind === 'hijack-more-specific') {
        // The client /24 inside a shorter prefix, announced from a foreign AS.
        const i = pick(0, routed, of((k) => Number(this.clients[k]!.prefix.split('/')[1]) < 24));
        const c = this.clients[i]!;
        events.push({ kind, at, client: i, prefix: c.subnet, originAs: HIJACKER_AS, describe: `${c.subnet} inside ${c.prefix} AS${asOf(i)} from AS${HIJACKER_AS}` });
      } else {
        const i = pick(0, routed, any);
        const c = this.clients[i]!;
        events.push({ kind, at, client: i, prefix: c.prefix, originAs: HIJACKER_AS, describe: `${c.prefix} AS${asOf(i)} from AS${HIJACKER_AS}` });
      }
    }
    events.sort((a, b) => a.at - b.at);
    this.events = events;
    for (const e of events) {
      if (e.kind === 're-home' || e.kind === 'new-prefix') this.truth[e.client]!.push({ from: e.at, place: e.place });
      else if (e.kind === 'withdrawal') this.truth[e.client]!.push({ from: e.at, place: undefined });
    }
  }

  /** Where client `i` really is at share `t` of the run; undefined while it is not routed. */
  placeAt(i: number, t: number): Place | undefined {
    const segs = this.truth[i]!;
    let place = segs[0]!.place;
    for (const s of segs) if (s.from <= t) place = s.place;
    return place;
  }

  /** The events due by share `t` not applied yet, applied to the routes now. */
  advance(t: number): RoutingEvent[] {
    const due: RoutingEvent[] = [];
    while (this.applied < this.events.length && this.events[this.applied]!.at <= t) {
      const e = this.events[this.applied++]!;
      due.push(e);
      const c = this.clients[e.client]!;
      if (e.kind === 're-home') this.routes[e.client] = { prefix: c.prefix, asPath: [...c.asPath.slice(0, -1), e.originAs!] };
      else if (e.kind === 'new-prefix') this.routes[e.client] = { prefix: c.prefix, asPath: [3356, e.originAs!] };
      else if (e.kind === 'withdrawal') this.routes[e.client] = undefined;
      else this.hijacks.push({ prefix: e.prefix, asPath: [174, HIJACKER_AS] });
    }
    return due;
  }

  /** Routes the first (clean) peer announces now. */
  cleanRoutes(): Route[] {
    return this.routes.filter((r): r is Route => r !== undefined);
  }

  /** Routes the second peer announces now: the clean ones, its hijacks replacing a route of the same prefix. */
  hijackedRoutes(): Route[] {
    const over = new Map(this.hijacks.map((h) => [h.prefix, h]));
    const out = this.cleanRoutes().map((r) => over.get(r.prefix) ?? r);
    const clean = new Set(out.map((r) => r.prefix));
    for (const h of this.hijacks) if (!clean.has(h.prefix)) out.push(h);
    return out;
  }

  /** The dataset a fresh package carries now: every legitimately routed prefix at its true place, in address order within each family. */
  dataset(t: number): { family: 4 | 6; prefix: string; first: string; last: string; place: Place }[] {
    const out: { family: 4 | 6; prefix: string; first: string; last: string; place: Place; key: string }[] = [];
    this.clients.forEach((c, i) => {
      const place = this.placeAt(i, t);
      if (place && this.routes[i]) out.push({ family: c.family, prefix: c.prefix, first: c.first, last: c.last, place, key: sortKey(c.first) });
    });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ key: _key, ...d }) => d);
  }
}

// Fixed-width hex of an address, IPv4 before IPv6, so text order is address order.
function sortKey(ip: string): string {
  const p = parseIp(ip);
  const words = p.version === 4 ? [p.value] : p.words;
  return `${p.version}${words.map((w) => w.toString(16).padStart(8, '0')).join('')}`;
}
