import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { GeoChannelsControl } from './admin/http';
import { GeoTable, GeoTableHolder, type PreparedGeoTable } from './geoip';
import type { RouteExplanation } from './geoip/channels';
import { NO_HIJACKS } from './geoip/channels/hijacks';
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
  close(): Promise<void>;
}

type GeoCall = { op: 'status' } | { op: 'act'; name: string; action: 'pause' | 'resume' | 'fail' } | { op: 'explain'; address: string };
type GeoReply = { ok: true; value: unknown } | { ok: false; notFound: boolean; message: string };
type GeoMessage =
  | { type: 'geo-want' }
  | { type: 'geo-table'; table: PreparedGeoTable }
  | ({ type: 'geo-call'; id: number } & GeoCall)
  | ({ type: 'geo-reply'; id: number } & GeoReply);

const isGeo = (m: unknown): m is GeoMessage => typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith('geo-');

// Worker side: the table from the primary, kept current, and the channels control over IPC.
async function geoFromPrimary(): Promise<{ holder: GeoTableHolder; control: GeoChannelsControl }> {
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
  return {
    holder: holder!,
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
    else if (m.type === 'geo-call') {
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
      snapshotPath: first ? options.snapshotPath : undefined, ...(geo ? { geo: geo.holder, channels: geo.control } : {}) });
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
