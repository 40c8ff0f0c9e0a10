#!/usr/bin/env node
/**
 * The chaos run (`npm run chaos -- --queries N --seed S`): builds the world, starts the feeds, the
 * cloud emulators and the scheduler (which places the world's workloads on them), and two GeoDNS
 * processes following its watch stream (one with every channel, one with geoip-lite's data
 * only), replays the queries while the routing timeline and the fault schedule play, and prints
 * the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { waitFor } from '../tools/wait';
import { BgpFeed, RisFeed, SignedFeed } from './feeds';
import { FAULT_SCHEDULE, phaseAt, type FaultKind } from './faults';
import { Gdnsd } from './gdnsd';
import { GeoDns } from './geodns';
import { ChaosScheduler } from './scheduler';
import { PHASES, replay, type Phase, type ServerResult } from './replay';
import { formatReport, type Convergence } from './report';
import { Timeline, type RoutingEvent } from './timeline';
import { distanceKm, makeWorld, regionsOf, WORKLOAD_NAMES, type Place } from './world';
import type { WorkloadEndpoints } from '../../dns/index';

/** Options of a chaos run. */
export interface ChaosOptions {
  readonly queries: number;
  readonly seed: number;
  /** Queries per second per server the replay aims at; the run lasts queries / rate seconds (at least `minDurationSeconds`). */
  readonly rate: number;
  readonly minDurationSeconds: number;
  /** IPv4 client prefixes routed at the start. */
  readonly prefixes: number;
  /** IPv6 client prefixes routed at the start. */
  readonly prefixes6: number;
  /** Share of the queries sent by IPv6 clients. */
  readonly ipv6Share: number;
  readonly toleranceKm: number;
  /** Also replay the stream against gdnsd over geoip-lite's data. */
  readonly gdnsd: boolean;
  readonly log: (line: string) => void;
}

/** Defaults of the CLI. */
export const CHAOS_DEFAULTS: Omit<ChaosOptions, 'log'> = { queries: 1_000_000, seed: 13, rate: 2500, minDurationSeconds: 100, prefixes: 5000, prefixes6: 1000, ipv6Share: 0.2, toleranceKm: 500, gdnsd: true };

/** What a run measured. */
export interface ChaosResult {
  readonly options: Omit<ChaosOptions, 'log'>;
  readonly durationMs: number;
  readonly main: ServerResult;
  readonly contrast: ServerResult;
  /** gdnsd over geoip-lite's data, when the run had it. */
  readonly gdnsd?: ServerResult;
  readonly bySource: Record<Phase, Record<string, number>>;
  readonly convergence: Convergence[];
  readonly faults: { kind: FaultKind; at: number; tookMs: number; error?: string }[];
  readonly events: readonly RoutingEvent[];
  /** ECS subnet of each client index. */
  readonly clientNames: readonly string[];
}

// The overlay confirms a re-home after 1 s seen by 2 peers (production: 300 s), so a run of minutes sees it.
const OVERLAY = { reHomeMinPeers: 2, reHomeAfterSeconds: 1 };

/** Runs the whole thing; every process and folder it made is gone when it resolves or rejects. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log;
  const durationMs = Math.max(o.minDurationSeconds * 1000, (o.queries / o.rate) * 1000);
  log(`chaos: seed ${o.seed}, ${o.queries} queries over ${(durationMs / 1000).toFixed(0)} s, ${o.prefixes} IPv4 and ${o.prefixes6} IPv6 client prefixes (${o.ipv6Share * 100}% of the queries from IPv6)`);
  const world = makeWorld({ seed: o.seed, prefixes: o.prefixes, prefixes6: o.prefixes6, spare: 20, spare6: 5, ipv6Share: o.ipv6Share, zipf: 1 });
  const timeline = new Timeline(world);
  const state = mkdtempSync(join(tmpdir(), 'meridian-chaos-'));
  const bgp = new BgpFeed();
  const ris = new RisFeed();
  const signed = new SignedFeed();
  const contrastDir = mkdtempSync(join(tmpdir(), 'meridian-chaos-contrast-'));
  const schedulerDir = mkdtempSync(join(tmpdir(), 'meridian-chaos-scheduler-'));
  const scheduler = new ChaosScheduler(schedulerDir);
  let contrast: GeoDns | undefined;
  let main: GeoDns | undefined;
  const gdnsd = o.gdnsd ? new Gdnsd() : undefined;
  try {
    await Promise.all([ris.start(timeline), signed.start(timeline), scheduler.start()]);
    await scheduler.apply();
    log(`chaos: scheduler on ${scheduler.url}, workloads applied`);
    const watch = { url: scheduler.url, token: scheduler.token };
    contrast = new GeoDns({ name: 'contrast GeoDNS', stateDir: contrastDir, watch, overlay: {}, geoip: { cache: { enabled: false } } });
    main = new GeoDns({
      name: 'GeoDNS', stateDir: state, watch, overlay: OVERLAY,
      geoip: {
        minSwapIntervalSeconds: 0.5, maxDropPercent: 100, healthCheckIntervalSeconds: 1,
        cache: { path: join(state, 'hot-prefixes.bin'), flushIntervalMs: 200, mergeIntervalSeconds: 2 },
        bgp: bgp.settings(), ris: ris.settings(state), signed: signed.settings(state),
      },
    });
    const server = main;
    const other = contrast;
    await Promise.all([server.start(), other.start()]);
    log(`chaos: GeoDNS on 127.0.0.1:${server.port} (admin ${server.adminPort}), contrast on 127.0.0.1:${other.port}`);
    // Both servers must have every workload in the world's regions, each with a healthy instance, before a query goes out.
    let served: readonly WorkloadEndpoints[] = [];
    await waitFor('both GeoDNS servers serving every workload in its regions', async () => {
      const [a, b] = await Promise.all([server.workloads(), other.workloads()]);
      served = a;
      return complete(a) && complete(b) && JSON.stringify(addressMap(a)) === JSON.stringify(addressMap(b));
    }, 120_000, 250);
    const regionOf = new Map(addressMap(served));
    log(`chaos: workloads placed: ${served.map((w) => `${w.name} ${w.regions.map((r) => r.region).join(',')}`).join('; ')}`);
    if (gdnsd) {
      // gdnsd answers with the same instance addresses, from a static config.
      const byCode = new Map([...regionOf].map(([ip, code]) => [code, ip]));
      await gdnsd.start((w, r) => byCode.get(w * 16 + r)!);
      log(`chaos: gdnsd on ${gdnsd.address}:${gdnsd.port} (a MaxMind DB of geoip-lite's data, ${gdnsd.treeNodes} tree nodes)`);
    }
    await bgp.start(timeline);
    await waitFor('every channel up and the package in force', async () => {
      const ch = await server.channels();
      const look = await server.lookup(timeline.clients[0]!.subnet.split('/')[0]!);
      return !!ch && ch.channels.filter((c) => c.state === 'up').length >= 4 && look?.layer === 'dataset' && bgp.established();
    }, 180_000, 500);
    log('chaos: all channels up');
    // The run starts from a settled server: the routes of both sessions applied, the table no longer rebuilt.
    let generation = -1;
    let since = Date.now();
    await waitFor('the GeoDNS table settled (no rebuild for 3 s)', async () => {
      const g = (await server.channels())?.table?.generation ?? -1;
      if (g !== generation) { generation = g; since = Date.now(); }
      return g >= 0 && Date.now() - since >= 3000;
    }, 120_000, 250);
    log(`chaos: table settled at generation ${generation}`);

    const convergence: Convergence[] = [];
    const faults: ChaosResult['faults'] = [];
    const bySourceAt: { phase: Phase; counts: Map<string, number> }[] = [];
    let chain: Promise<void> = Promise.resolve();
    const queue = (what: string, f: () => Promise<void>): void => {
      chain = chain.then(f).catch((e: unknown) => log(`chaos: ${what}: ${(e as Error).message}`));
    };
    let snapshots: Promise<void> = Promise.resolve();
    let nextFault = 0;
    let lastPhase: Phase = 'scheduler down';
    let start = 0;
    const watchers: Promise<void>[] = [];
    const onTick = (share: number): void => {
      if (start === 0) start = Date.now();
      const phase = phaseAt(share);
      if (phase !== lastPhase) {
        const ending = lastPhase;
        lastPhase = phase;
        // Counters of the phase that ends, read now; the DNS restart's kill waits for them (its counters die with it).
        const read = server.answersBySource().then((counts) => { bySourceAt.push({ phase: ending, counts }); });
        snapshots = snapshots.then(() => read);
      }
      for (const e of timeline.advance(share)) {
        const eventAt = Date.now();
        log(`chaos: ${(share * 100).toFixed(1)}% ${e.kind} ${e.describe}`);
        queue(`event ${e.kind}`, async () => {
          const announced = bgp.publish(timeline);
          ris.publish(timeline);
          await signed.publish(timeline, e.at);
          await announced;
        });
        watchers.push(watchConvergence(e, eventAt, timeline.placeAt(e.client, e.at), server, durationMs).then((c) => { convergence.push(c); }));
      }
      while (nextFault < FAULT_SCHEDULE.length && FAULT_SCHEDULE[nextFault]!.at <= share) {
        const f = FAULT_SCHEDULE[nextFault++]!;
        log(`chaos: ${(share * 100).toFixed(1)}% fault ${f.kind}: ${f.describe}`);
        queue(`fault ${f.kind}`, async () => {
          const t0 = Date.now();
          try {
            if (f.kind === 'dns-kill') await snapshots;
            await inflict(f.kind, { bgp, ris, signed, main: server, timeline, scheduler });
            if (f.kind === 'dns-kill') {
              // What the restarted server runs on, once it has had a few seconds to reload.
              await new Promise((r) => setTimeout(r, 5000));
              log(`chaos: after the restart: ${JSON.stringify(await server.channels())}`);
            }
            if (f.kind === 'scheduler-restart') {
              // Both servers follow the new process again (their watch clients reconnect on their own).
              await waitFor('both GeoDNS servers streaming from the restarted scheduler', async () =>
                (await server.watchState()) === 'streaming' && (await other.watchState()) === 'streaming', 30_000, 100);
            }
            faults.push({ kind: f.kind, at: f.at, tookMs: Date.now() - t0 });
          } catch (e) {
            faults.push({ kind: f.kind, at: f.at, tookMs: Date.now() - t0, error: (e as Error).message });
            throw e;
          }
        });
      }
    };
    const servers = [{ host: '127.0.0.1', port: () => server.port }, { host: '127.0.0.1', port: () => other.port }];
    if (gdnsd) servers.push({ host: gdnsd.address, port: () => gdnsd.port });
    const [mainResult, contrastResult, gdnsdResult] = await replay({
      world, timeline, queries: o.queries, seed: o.seed, durationMs, toleranceKm: o.toleranceKm, window: 2000, retryMs: 1000, deadlineMs: 90_000,
      servers, phaseAt, onTick, regionOf,
    });
    await chain;
    await snapshots;
    log(`chaos: at the end: ${JSON.stringify(await server.channels())}`);
    log(`chaos: GeoDNS log (geoip lines): ${server.log().split('\n').filter((l) => l.includes('geoip')).slice(-15).join(' / ')}`);
    bySourceAt.push({ phase: lastPhase, counts: await server.answersBySource() });
    await Promise.all(watchers);
    const bySource = Object.fromEntries(PHASES.map((p) => [p, {}])) as Record<Phase, Record<string, number>>;
    let previous = new Map<string, number>();
    for (const { phase, counts } of bySourceAt) {
      const out: Record<string, number> = {};
      for (const [source, n] of counts) out[source] = n - (previous.get(source) ?? 0);
      bySource[phase] = out;
      // The restarted process counts from zero.
      previous = phase === 'all three down' ? new Map() : counts;
    }
    const { log: _log, ...options } = o;
    return { options, durationMs, main: mainResult!, contrast: contrastResult!, gdnsd: gdnsdResult, bySource, convergence, faults, events: timeline.events,
      clientNames: timeline.clients.map((c) => c.subnet) };
  } finally {
    await Promise.all([main?.stop(), contrast?.stop(), gdnsd?.stop()]);
    await Promise.all([bgp.stop(), ris.stop(), signed.stop(), scheduler.stop()]);
    rmSync(state, { recursive: true, force: true });
    rmSync(contrastDir, { recursive: true, force: true });
    rmSync(schedulerDir, { recursive: true, force: true });
  }
}

// Every world workload served in exactly its regions, each region healthy with an instance address.
function complete(served: readonly WorkloadEndpoints[]): boolean {
  return WORKLOAD_NAMES.every((name, w) => {
    const got = served.find((s) => s.name === name);
    const want = regionsOf(w).map((r) => r.region).sort();
    return !!got && JSON.stringify(got.regions.map((r) => r.region).sort()) === JSON.stringify(want)
      && got.regions.every((r) => r.healthy && r.instances.some((i) => i.healthy && !!i.ipv4));
  });
}

// Answer address -> workload index * 16 + index of its region in the world's list, from the workloads a server serves.
function addressMap(served: readonly WorkloadEndpoints[]): [string, number][] {
  const out: [string, number][] = [];
  WORKLOAD_NAMES.forEach((name, w) => {
    const regions = regionsOf(w).map((r) => r.region);
    for (const r of served.find((s) => s.name === name)?.regions ?? []) {
      for (const i of r.instances) if (i.ipv4) out.push([i.ipv4, w * 16 + regions.indexOf(r.region)]);
    }
  });
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

async function inflict(kind: FaultKind, w: { bgp: BgpFeed; ris: RisFeed; signed: SignedFeed; main: GeoDns; timeline: Timeline; scheduler: ChaosScheduler }): Promise<void> {
  switch (kind) {
    case 'scheduler-kill': return w.scheduler.kill();
    case 'scheduler-restart': return w.scheduler.spawn();
    case 'bgp-kill': return w.bgp.kill();
    case 'bgp-restart': return w.bgp.start(w.timeline);
    case 'bgp-freeze': return w.bgp.freeze();
    case 'ris-empty': return w.ris.empty();
    case 'ris-truncate': return w.ris.truncate();
    case 'package-tamper': w.signed.tamper(); return w.signed.publish(w.timeline, 0.6);
    case 'package-expire': w.signed.expire(); return w.signed.publish(w.timeline, 0.7);
    case 'dns-kill': await w.main.kill(); return w.main.start();
  }
}

// How long after an event the server's own lookup of the client /24 gives the true place (within
// 1 km), polling the admin API every 250 ms for up to a fifth of the run (60 s at most). A hijack
// changes no truth: it is watched for 10 s, and reported as held when no lookup moved away.
async function watchConvergence(e: RoutingEvent, at: number, truth: Place | undefined, main: GeoDns, durationMs: number): Promise<Convergence> {
  if (!truth) return { event: e, ms: undefined, note: 'no clients (withdrawn)' };
  const ip = e.prefix.split('/')[0]!;
  const hijack = e.kind === 'hijack-more-specific' || e.kind === 'hijack-origin';
  const until = at + (hijack ? 10_000 : Math.min(60_000, durationMs / 5));
  let away: number | undefined;
  let last = '';
  while (Date.now() < until) {
    const l = await main.lookup(encodeURIComponent(ip));
    if (l) {
      const right = l.location !== null && distanceKm(l.location, truth) <= 1;
      last = `${l.layer}/${l.channel} ${l.prefix}`;
      if (right && !hijack) return { event: e, ms: Date.now() - at, note: last };
      if (!right && hijack) away ??= Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (hijack) return { event: e, ms: away === undefined ? 0 : undefined, note: away === undefined ? `held (${last})` : `moved away after ${away - at} ms (${last})` };
  return { event: e, ms: undefined, note: `not converged while watched (${last})` };
}

const OPTIONS = {
  queries: { type: 'string' }, seed: { type: 'string' }, rate: { type: 'string' }, prefixes: { type: 'string' }, 'min-duration': { type: 'string' },
  'prefixes6': { type: 'string' }, 'ipv6-percent': { type: 'string' }, 'without-gdnsd': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a whole number above 0, got '${text}'`);
  return n;
}

function percentOf(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n >= 100) throw new Error(`--${flag} must be a number from 0 to below 100, got '${text}'`);
  return n / 100;
}

if (require.main === module) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write('usage: npm run chaos -- [--queries 1000000] [--seed 13] [--rate 2500] [--prefixes 5000] [--prefixes6 1000] [--ipv6-percent 20] [--min-duration 100] [--without-gdnsd]\n');
    process.exit(0);
  }
  const options: ChaosOptions = {
    ...CHAOS_DEFAULTS,
    queries: positive('queries', values.queries, CHAOS_DEFAULTS.queries),
    seed: positive('seed', values.seed, CHAOS_DEFAULTS.seed),
    rate: positive('rate', values.rate, CHAOS_DEFAULTS.rate),
    prefixes: positive('prefixes', values.prefixes, CHAOS_DEFAULTS.prefixes),
    prefixes6: positive('prefixes6', values.prefixes6, CHAOS_DEFAULTS.prefixes6),
    ipv6Share: percentOf('ipv6-percent', values['ipv6-percent'], CHAOS_DEFAULTS.ipv6Share),
    gdnsd: values['without-gdnsd'] !== true,
    minDurationSeconds: positive('min-duration', values['min-duration'], CHAOS_DEFAULTS.minDurationSeconds),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  runChaos(options).then((r) => {
    process.stdout.write(`${formatReport(r)}\n`);
    process.exit(0);
  }, (e: unknown) => {
    process.stderr.write(`chaos: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
