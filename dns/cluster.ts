import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { GeoChannelsControl } from './admin/http';
import type { LocationRecorder } from './answer/locate';
import { GeoTable, GeoTableHolder, type PreparedGeoTable } from './geoip';
import type { RouteExplanation } from './geoip/channels';
import { NO_HIJACKS } from './geoip/channels/hijacks';
import { NoteFilter } from './geoip/channels/note-filter';
import type { DnsServerOptions, RunningDnsServer, UdpTransport } from './index';

/** Result of `startDnsCluster` in the primary process. */
export interface RunningDnsCluster {
  /** The port every worker serves on (the one the first worker bound when asked for port 0). */
  readonly port: number;
  readonly workers: number;
  /** Stops every worker (and the primary's GeoIP service). */
  close(): Promise<void>;
}

/** The GeoIP service as the primary runs it for its workers. */
export interface ClusterGeo {
  /** Columns of the table in force. */
  columns(): PreparedGeoTable;
  /** Calls `listener` with each new table's columns after it is swapped in. */
  subscribe(listener: (t: PreparedGeoTable) => void): void;
  readonly control: GeoChannelsControl;
  /** Where the workers' answered client prefixes go (the hot-prefix cache); without it workers note nothing. */
  readonly notes?: PrefixNotes;
  close(): Promise<void>;
}

/** Takes notes of client prefixes and the locations they were answered with (`HotPrefixCache` fits). */
export interface PrefixNotes {
  noteV4(ip: number, lat: number, lon: number, country: number): void;
  noteV6(w0: number, w1: number, lat: number, lon: number, country: number): void;
}

// Numbers per forwarded note: family, two key words, latitude, longitude, country code.
const NOTE_FIELDS = 6;
const NOTE_BATCH = 16_384;
const NOTE_SEND_MS = 1_000;
// A worker notes a prefix again after this long (as the hot-prefix cache does by default).
const RENOTE_MS = 300_000;

/**
 * A worker's recorder: notes go into a preallocated batch (one per /24 or /48 and table per
 * period, see `NoteFilter`) that is sent to the primary every second, or as soon as it is three
 * quarters full; notes arriving while a full batch waits to be sent are dropped and counted.
 */
export class ForwardingRecorder implements LocationRecorder {
  /** Notes dropped because the batch was full. */
  dropped = 0;
  private readonly batch = new Float64Array(NOTE_FIELDS * NOTE_BATCH);
  private count = 0;
  private sendQueued = false;
  private readonly filter = new NoteFilter(RENOTE_MS, Date.now);
  private readonly timer: NodeJS.Timeout;
  private readonly sendSoon = (): void => { this.sendQueued = false; this.flush(); };

  /** `send` hands a batch (`NOTE_FIELDS` numbers per note) to the primary. */
  constructor(private readonly send: (notes: Float64Array) => void) {
    this.timer = setInterval(() => { this.filter.expire(); this.flush(); }, NOTE_SEND_MS);
    this.timer.unref();
  }

  wantsV4(table: GeoTable, ip: number): boolean {
    return !this.filter.hasV4(table.id, ip);
  }

  noteV4Range(table: GeoTable, rangeIndex: number, ip: number): void {
    if (rangeIndex < 0) return;
    const id = table.locationIdOfV4(rangeIndex);
    const c = table.columns;
    if (this.push(4, (ip & 0xffffff00) >>> 0, 0, c.locationLat[id]!, c.locationLon[id]!, c.locationCountry[id]!)) this.filter.markV4(table.id, ip);
  }

  noteV6Range(table: GeoTable, rangeIndex: number, w0: number, w1: number): void {
    const a = w0 >>> 0;
    const b = (w1 & 0xffff0000) >>> 0;
    if (rangeIndex < 0 || this.filter.hasV6(table.id, a, b)) return;
    const id = table.locationIdOfV6(rangeIndex);
    const c = table.columns;
    if (this.push(6, a, b, c.locationLat[id]!, c.locationLon[id]!, c.locationCountry[id]!)) this.filter.markV6(table.id, a, b);
  }

  /** Sends what is batched now. */
  flush(): void {
    if (this.count === 0) return;
    const notes = this.batch.slice(0, NOTE_FIELDS * this.count);
    this.count = 0;
    this.send(notes);
  }

  /** Stops the timer after a last send. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private push(family: number, a: number, b: number, lat: number, lon: number, country: number): boolean {
    if (this.count === NOTE_BATCH) {
      this.dropped++;
      return false;
    }
    const o = NOTE_FIELDS * this.count++;
    const x = this.batch;
    x[o] = family;
    x[o + 1] = a;
    x[o + 2] = b;
    x[o + 3] = lat;
    x[o + 4] = lon;
    x[o + 5] = country;
    if (this.count === (NOTE_BATCH * 3) / 4 && !this.sendQueued) {
      this.sendQueued = true;
      setImmediate(this.sendSoon);
    }
    return true;
  }
}

/** Primary side: applies a worker's batch of notes (see `ForwardingRecorder`); malformed batches are ignored. */
export function applyNotes(notes: unknown, into: PrefixNotes): number {
  if (!(notes instanceof Float64Array) || notes.length % NOTE_FIELDS !== 0) return 0;
  let n = 0;
  for (let o = 0; o < notes.length; o += NOTE_FIELDS) {
    const family = notes[o];
    if (family === 4) into.noteV4(notes[o + 1]!, notes[o + 3]!, notes[o + 4]!, notes[o + 5]!);
    else if (family === 6) into.noteV6(notes[o + 1]!, notes[o + 2]!, notes[o + 3]!, notes[o + 4]!, notes[o + 5]!);
    else continue;
    n++;
  }
  return n;
}

type GeoCall = { op: 'status' } | { op: 'act'; name: string; action: 'pause' | 'resume' | 'fail' } | { op: 'explain'; address: string };
type GeoReply = { ok: true; value: unknown } | { ok: false; notFound: boolean; message: string };
type GeoMessage =
  | { type: 'geo-want' }
  | { type: 'geo-table'; table: PreparedGeoTable }
  | { type: 'geo-notes'; notes: Float64Array }
  | ({ type: 'geo-call'; id: number } & GeoCall)
  | ({ type: 'geo-reply'; id: number } & GeoReply);

const isGeo = (m: unknown): m is GeoMessage => typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith('geo-');

// Worker side: the table from the primary, kept current, and the channels control over IPC.
async function geoFromPrimary(): Promise<{ holder: GeoTableHolder; control: GeoChannelsControl; recorder: ForwardingRecorder }> {
  let holder: GeoTableHolder | undefined;
  let status: ReturnType<GeoChannelsControl['status']> | undefined;
  let next = 1;
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const first = new Promise<void>((resolve) => {
    process.on('message', (m: unknown) => {
      if (!isGeo(m)) return;
      if (m.type === 'geo-table') {
        const table = new GeoTable(m.table);
        if (holder) holder.swap(table);
        else { holder = new GeoTableHolder(table); resolve(); }
      } else if (m.type === 'geo-reply') {
        const c = calls.get(m.id);
        calls.delete(m.id);
        if (m.ok) c?.resolve(m.value);
        else c?.reject(m.notFound ? new RangeError(m.message) : new Error(m.message));
      }
    });
  });
  const call = (msg: GeoCall): Promise<unknown> => new Promise((resolve, reject) => {
    const id = next++;
    calls.set(id, { resolve, reject });
    process.send?.({ type: 'geo-call', ...msg, id });
  });
  process.send?.({ type: 'geo-want' });
  await first;
  const refresh = (): void => { call({ op: 'status' }).then((s) => { status = s as typeof status; }, () => undefined); };
  // The admin API reads status synchronously: keep a copy fresh from the primary.
  const poll = setInterval(refresh, 1000);
  poll.unref();
  refresh();
  const recorder = new ForwardingRecorder((notes) => { if (process.connected) process.send?.({ type: 'geo-notes', notes }); });
  process.once('disconnect', () => recorder.close());
  return {
    holder: holder!,
    recorder,
    control: {
      status: () => status ?? { channels: [], driving: 'static', layers: [], table: { v4Ranges: holder!.current.v4Count, v6Ranges: holder!.current.v6Count,
        generation: holder!.generation, builtAt: null }, lastRefusal: null, suspectedHijacks: NO_HIJACKS },
      act: async (name, action) => {
        await call({ op: 'act', name, action });
        status = (await call({ op: 'status' })) as typeof status;
      },
      explain: async (address) => ((await call({ op: 'explain', address })) as RouteExplanation | null) ?? undefined,
    },
  };
}

// Primary side: answers a worker's requests for the table and the channels.
function serveGeo(w: Worker, geo: ClusterGeo): void {
  w.on('message', (m: unknown) => {
    if (!isGeo(m)) return;
    if (m.type === 'geo-want') w.send({ type: 'geo-table', table: geo.columns() });
    else if (m.type === 'geo-notes') { if (geo.notes) applyNotes(m.notes, geo.notes); } else if (m.type === 'geo-call') {
      const reply = (r: GeoReply): void => { if (w.isConnected()) w.send({ type: 'geo-reply', id: m.id, ...r }); };
      const work = m.op === 'status' ? Promise.resolve(geo.control.status())
        : m.op === 'explain' ? Promise.resolve(geo.control.explain?.(m.address)).then((r) => r ?? null)
          : geo.control.act(m.name, m.action).then(() => null);
      work.then((value) => reply({ ok: true, value }), (e: unknown) => reply({ ok: false, notFound: e instanceof RangeError, message: (e as Error).message }));
    }
  });
}

/** Port messages between the primary and its DNS workers. */
type ClusterMessage =
  | { readonly type: 'dns-port?' }
  | { readonly type: 'dns-port'; readonly port: number }
  | { readonly type: 'dns-ready'; readonly port: number; readonly udpTransport: UdpTransport };

/** Asks the primary which port to bind: 0 for the first worker of a port-0 cluster, else the cluster's port. */
function portFromPrimary(): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: ClusterMessage): void => {
      if (m.type !== 'dns-port') return;
      process.off('message', onMessage);
      resolve(m.port);
    };
    process.on('message', onMessage);
    process.send?.({ type: 'dns-port?' } satisfies ClusterMessage);
  });
}

/** Forks one worker (serving it the GeoIP tables when `geo` is given), answers its port question with `port`, and resolves with its ready message. */
function forkWorker(port: number, forked: Worker[], geo: ClusterGeo | undefined): Promise<{ port: number; udpTransport: UdpTransport }> {
  const w = cluster.fork();
  forked.push(w);
  if (geo) serveGeo(w, geo);
  return new Promise((resolve, reject) => {
    w.on('message', (m: ClusterMessage) => {
      if (m.type === 'dns-port?') w.send({ type: 'dns-port', port } satisfies ClusterMessage);
      else if (m.type === 'dns-ready') resolve({ port: m.port, udpTransport: m.udpTransport });
    });
    w.once('exit', (code) => reject(new Error(`DNS worker ${w.id} exited with code ${String(code)} before it was ready`)));
  });
}

/**
 * Optional multi-core mode over `node:cluster`. Call it from the entry script: in the primary it
 * forks `workers` copies of that script and resolves with the cluster; in a worker it starts the
 * server and resolves with it. Over the batched UDP transport each worker binds its own socket
 * with SO_REUSEPORT and the kernel spreads datagrams by sender; over node:dgram the workers share
 * the primary's socket. The primary round-robins TCP connections. With `startGeo`, the GeoIP
 * channels and their supervisor run once, in the primary (a router sees one BGP session per host,
 * not one per worker): each worker receives every new table over IPC and the admin API's channel
 * calls go to the primary; without it each worker uses `options.geo` or loads its own table. The
 * admin API runs in worker 1 only. With `options.port` 0 the first worker binds a free port and the
 * others are started on the port it got, so a caller learns it from the result instead of guessing one.
 */
export async function startDnsCluster(options: DnsServerOptions, start: (o: DnsServerOptions) => Promise<RunningDnsServer>,
  workers = os.availableParallelism(), startGeo?: () => Promise<ClusterGeo>): Promise<RunningDnsCluster | RunningDnsServer> {
  if (cluster.isWorker) {
    const first = cluster.worker?.id === 1;
    const port = options.port ? options.port : await portFromPrimary();
    const geo = startGeo ? await geoFromPrimary() : undefined;
    const server = await start({ ...options, port, reusePort: true, adminPort: first ? options.adminPort : false,
      snapshotPath: first ? options.snapshotPath : undefined, ...(geo ? { geo: geo.holder, channels: geo.control, recorder: geo.recorder } : {}) });
    process.send?.({ type: 'dns-ready', port: server.port, udpTransport: server.udpTransport } satisfies ClusterMessage);
    process.on('disconnect', () => { server.close().then(() => process.exit(0), () => process.exit(1)); });
    return server;
  }
  // Tables travel as typed arrays: the advanced (structured clone) serialization keeps them binary.
  if (startGeo) cluster.setupPrimary({ serialization: 'advanced' });
  const geo = startGeo ? await startGeo() : undefined;
  const forked: Worker[] = [];
  geo?.subscribe((table) => { for (const w of forked) if (w.isConnected()) w.send({ type: 'geo-table', table }); });
  const count = Math.max(1, workers);
  let port = options.port ?? 5300;
  try {
    if (port === 0) {
      // The first worker alone, so that the others bind the port it got (SO_REUSEPORT needs a fixed
      // port). Over node:dgram the sockets are the primary's, one per requested address and port:
      // asking for port 0 again hands a worker the same socket, asking for the port it got would
      // make the primary bind that port a second time.
      const first = await forkWorker(0, forked, geo);
      port = first.port;
      const others = first.udpTransport === 'dgram' ? 0 : port;
      await Promise.all(Array.from({ length: count - 1 }, () => forkWorker(others, forked, geo)));
    } else {
      await Promise.all(Array.from({ length: count }, () => forkWorker(port, forked, geo)));
    }
  } catch (e) {
    for (const w of forked) if (!w.isDead()) w.kill();
    await geo?.close();
    throw e;
  }
  return {
    port, workers: forked.length,
    close: async () => {
      await Promise.all(forked.map((w) => new Promise<void>((resolve) => {
        if (w.isDead()) { resolve(); return; }
        w.once('exit', () => resolve());
        w.disconnect();
      })));
      await geo?.close();
    },
  };
}
