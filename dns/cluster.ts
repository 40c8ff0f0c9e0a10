import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { DnsServerOptions, RunningDnsServer, UdpTransport } from './index';

/** Result of `startDnsCluster` in the primary process. */
export interface RunningDnsCluster {
  /** The port every worker serves on (the one the first worker bound when asked for port 0). */
  readonly port: number;
  readonly workers: number;
  /** Stops every worker. */
  close(): Promise<void>;
}

/** Messages between the primary and its DNS workers. */
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

/** Forks one worker, answers its port question with `port`, and resolves with its ready message. */
function forkWorker(port: number, forked: Worker[]): Promise<{ port: number; udpTransport: UdpTransport }> {
  const w = cluster.fork();
  forked.push(w);
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
 * the primary's socket. The primary round-robins TCP connections. Each
 * worker loads its own GeoIP table and follows the watch stream itself; the admin API runs in
 * worker 1 only. With `options.port` 0 the first worker binds a free port and the others are
 * started on the port it got, so a caller learns it from the result instead of guessing one.
 */
export async function startDnsCluster(options: DnsServerOptions, start: (o: DnsServerOptions) => Promise<RunningDnsServer>,
  workers = os.availableParallelism()): Promise<RunningDnsCluster | RunningDnsServer> {
  if (cluster.isWorker) {
    const first = cluster.worker?.id === 1;
    const port = options.port ? options.port : await portFromPrimary();
    const server = await start({ ...options, port, reusePort: true, adminPort: first ? options.adminPort : false, snapshotPath: first ? options.snapshotPath : undefined });
    process.send?.({ type: 'dns-ready', port: server.port, udpTransport: server.udpTransport } satisfies ClusterMessage);
    process.on('disconnect', () => { server.close().then(() => process.exit(0), () => process.exit(1)); });
    return server;
  }
  const forked: Worker[] = [];
  const count = Math.max(1, workers);
  let port = options.port ?? 5300;
  try {
    if (port === 0) {
      // The first worker alone, so that the others bind the port it got (SO_REUSEPORT needs a fixed
      // port). Over node:dgram the sockets are the primary's, one per requested address and port:
      // asking for port 0 again hands a worker the same socket, asking for the port it got would
      // make the primary bind that port a second time.
      const first = await forkWorker(0, forked);
      port = first.port;
      const others = first.udpTransport === 'dgram' ? 0 : port;
      await Promise.all(Array.from({ length: count - 1 }, () => forkWorker(others, forked)));
    } else {
      await Promise.all(Array.from({ length: count }, () => forkWorker(port, forked)));
    }
  } catch (e) {
    for (const w of forked) if (!w.isDead()) w.kill();
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
    },
  };
}
