/**
 * Replay and judgment: queries with ECS from the weighted clients, paced over the run, sent over
 * UDP to the server under test (retried every second, as a resolver does, until it answers or
 * `deadlineMs` passes) and the same stream to each contrast server; every answer judged against
 * the region full, fresh data would choose (strict) and against that region's distance plus the
 * tolerance (tolerant).
 */
import dgram from 'node:dgram';
import { decode, QTYPE } from '../../dns/wire/index';
import { buildQuery } from '../dns/fixtures';
import { distanceKm, nearestRegion, regionsOf, rng, WORKLOAD_NAMES, type World } from './world';
import type { Timeline } from './timeline';

/** Phases of the run, in order; each query belongs to the phase it was sent in. */
export const PHASES = ['scheduler down', 'BGP down', 'BGP+RIS down', 'all three down', 'DNS restart'] as const;
/** One phase. */
export type Phase = (typeof PHASES)[number];

/** Counts of one slice of the answers. */
export interface Tally {
  sent: number;
  answered: number;
  strict: number;
  tolerant: number;
}

/** A fresh, zeroed tally. */
export function tally(): Tally {
  return { sent: 0, answered: 0, strict: 0, tolerant: 0 };
}

/** A wrong answer (strict), kept for the report. */
export interface WrongAnswer {
  readonly at: number;
  readonly client: number;
  readonly workload: number;
  readonly got: number;
  readonly want: number;
  readonly tolerated: boolean;
}

/** Address families of the clients. */
export const FAMILIES = [4, 6] as const;
/** One family. */
export type Family = (typeof FAMILIES)[number];

/** What one server's replay measured. */
export interface ServerResult {
  readonly overall: Tally;
  readonly byPhase: Record<Phase, Tally>;
  /** By the family of the client's ECS subnet. */
  readonly byFamily: Record<Family, Tally>;
  readonly wrong: WrongAnswer[];
  /** Queries answered only after at least one retry. */
  retried: number;
}

/** Options of `replay`. */
export interface ReplayOptions {
  readonly world: World;
  readonly timeline: Timeline;
  readonly queries: number;
  readonly seed: number;
  /** Wall time the run lasts; queries are spread evenly over it. */
  readonly durationMs: number;
  /** Tolerance of the tolerant share, in km. */
  readonly toleranceKm: number;
  /** Most queries in flight per server. */
  readonly window: number;
  /** Wait before the first resend; each later one waits twice as long as the one before, up to 8 times this. */
  readonly retryMs: number;
  readonly deadlineMs: number;
  /** Loopback address and UDP port of each server, the one under test first (the port is read at every send: it moves nowhere, but its server may be away). */
  readonly servers: readonly { readonly host: string; readonly port: () => number }[];
  /** Phase at share `t` of the run. */
  readonly phaseAt: (t: number) => Phase;
  /** Called with each share of the run reached (to play the timeline and faults). */
  readonly onTick?: (t: number) => void;
  /** Answer address -> workload index * 16 + region index (the instances the scheduler made). */
  readonly regionOf: ReadonlyMap<string, number>;
}

interface Pending {
  client: number;
  workload: number;
  share: number;
  phase: Phase;
  sentAt: number;
  lastSend: number;
  tries: number;
}

function result(): ServerResult {
  return { overall: tally(), byPhase: Object.fromEntries(PHASES.map((p) => [p, tally()])) as Record<Phase, Tally>, byFamily: { 4: tally(), 6: tally() }, wrong: [], retried: 0 };
}

/** Runs the replay; resolves when every query is answered or past its deadline, with one result per server of `ports`. */
export async function replay(o: ReplayOptions): Promise<ServerResult[]> {
  const targets = o.servers;
  const random = rng(o.seed ^ 0xc0ffee);
  const clients = o.timeline.clients;
  const cumulative = new Float64Array(clients.length);
  let acc = 0;
  clients.forEach((c, i) => { acc += c.weight; cumulative[i] = acc; });
  const wCumulative = new Float64Array(o.world.workloadWeights.length);
  let wacc = 0;
  o.world.workloadWeights.forEach((w, i) => { wacc += w; wCumulative[i] = wacc; });
  const pickIn = (cum: Float64Array, x: number): number => {
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  const regionOf = o.regionOf;
  const templates = new Map<number, Buffer>();
  const template = (client: number, workload: number): Buffer => {
    const key = client * 8 + workload;
    let t = templates.get(key);
    if (!t) templates.set(key, (t = buildQuery(`${WORKLOAD_NAMES[workload]}.meridian.test`, QTYPE.A, { id: 0, ecs: clients[client]!.subnet })));
    return t;
  };

  // The region an answer names, or undefined when it is no answer to a query of `p`'s workload.
  const answered = (p: Pending, answer: Buffer): number | undefined => {
    try {
      const m = decode(answer);
      const a = m.answers.find((r) => r.type === QTYPE.A);
      const code = a && a.data.kind === 'address' ? regionOf.get(a.data.address) : undefined;
      return code !== undefined && code >> 4 === p.workload ? code & 15 : undefined;
    } catch {
      return undefined;
    }
  };

  const judge = (res: ServerResult, p: Pending, got: number, now: number): void => {
    const t = res.byPhase[p.phase];
    const f = res.byFamily[clients[p.client]!.family];
    res.overall.answered++;
    t.answered++;
    f.answered++;
    if (p.tries > 1) res.retried++;
    // Right if it matches what fresh data said at some moment the query was in flight: when it was sent or when it was answered.
    const shareNow = (now - start) / o.durationMs;
    const places = [o.timeline.placeAt(p.client, p.share), o.timeline.placeAt(p.client, shareNow)];
    let strict = false;
    let tolerant = false;
    let want = -1;
    for (const place of places) {
      if (!place) continue;
      const best = nearestRegion(p.workload, place);
      if (want < 0) want = best;
      const regions = regionsOf(p.workload);
      if (best === got) strict = true;
      if (distanceKm(place, regions[got]!) <= distanceKm(place, regions[best]!) + o.toleranceKm) tolerant = true;
    }
    if (strict) { res.overall.strict++; t.strict++; f.strict++; }
    if (tolerant) { res.overall.tolerant++; t.tolerant++; f.tolerant++; }
    if (!strict) res.wrong.push({ at: p.share, client: p.client, workload: p.workload, got, want, tolerated: tolerant });
  };

  const servers = targets.map((_, k) => k);
  const results = servers.map(() => result());
  const sockets = await Promise.all(servers.map(async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    s.setRecvBufferSize(4 << 20);
    s.setSendBufferSize(4 << 20);
    return s;
  }));
  const pending = servers.map(() => new Map<number, Pending>());
  // IDs go round all 65,536 before one is used again, so a late reply to a retried query rarely meets a new one.
  const nextIds = servers.map(() => 0);
  const takeId = (k: number): number => {
    while (pending[k]!.has(nextIds[k]!)) nextIds[k] = (nextIds[k]! + 1) & 0xffff;
    const id = nextIds[k]!;
    nextIds[k] = (id + 1) & 0xffff;
    return id;
  };
  sockets.forEach((s, k) => s.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const p = pending[k]!.get(id);
    if (!p) return;
    const got = answered(p, msg);
    // A late duplicate for an earlier query with this ID, or an answer without an address: the query stays pending.
    if (got === undefined) return;
    pending[k]!.delete(id);
    judge(results[k]!, p, got, Date.now());
  }));
  const send = (k: number, id: number, p: Pending): void => {
    const q = Buffer.from(template(p.client, p.workload));
    q.writeUInt16BE(id, 0);
    p.lastSend = Date.now();
    p.tries++;
    sockets[k]!.send(q, targets[k]!.port(), targets[k]!.host);
  };

  const start = Date.now();
  let sent = 0;
  let lastTick = start;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      // After this process was busy (a feed's synchronous work, a GC pause), replies may wait unread
      // in the socket buffers: read them (the loop's next turn) before deciding what to send again.
      const caughtUp = now - lastTick < 50;
      lastTick = now;
      const share = Math.min(1, (now - start) / o.durationMs);
      o.onTick?.(share);
      const due = Math.min(o.queries, Math.floor(o.queries * share));
      while (sent < due && pending.every((m) => m.size < o.window)) {
        let client = pickIn(cumulative, random() * acc);
        // Clients of a prefix that is not routed send nothing: draw again.
        for (let tries = 0; o.timeline.placeAt(client, share) === undefined && tries < 1000; tries++) client = pickIn(cumulative, random() * acc);
        const workload = pickIn(wCumulative, random() * wacc);
        const phase = o.phaseAt(share);
        for (const k of servers) {
          const id = takeId(k);
          const p: Pending = { client, workload, share, phase, sentAt: now, lastSend: now, tries: 0 };
          pending[k]!.set(id, p);
          results[k]!.overall.sent++;
          results[k]!.byPhase[phase].sent++;
          results[k]!.byFamily[clients[client]!.family].sent++;
          send(k, id, p);
        }
        sent++;
      }
      for (const k of caughtUp ? servers : []) {
        for (const [id, p] of pending[k]!) {
          if (now - p.sentAt > o.deadlineMs) { pending[k]!.delete(id); continue; }
          // Backing off as resolvers do, so a server slow to answer is not buried under resends.
          if (now - p.lastSend >= o.retryMs * Math.min(8, 2 ** (p.tries - 1))) send(k, id, p);
        }
      }
      if (sent >= o.queries && pending.every((m) => m.size === 0)) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  for (const s of sockets) s.close();
  return results;
}
