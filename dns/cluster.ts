import cluster from 'node:cluster';
import os from 'node:os';
import type { DnsServerOptions, RunningDnsServer } from './index';

/** Result of `startDnsCluster` in the primary process. */
export interface RunningDnsCluster {
  readonly port: number;
  readonly workers: number;
  /** Stops every worker. */
  close(): Promise<void>;
}

/**
 * Optional multi-core mode over `node:cluster`. Call it from the entry script: in the primary it
 * forks `workers` copies of that script and resolves with the cluster; in a worker it starts the
 * server and resolves with it. Over the batched UDP transport each worker binds its own socket
 * with SO_REUSEPORT and the kernel spreads datagrams by sender; over node:dgram the workers share
 * the primary's socket. The primary round-robins TCP connections. Each
 * worker loads its own GeoIP table and follows the watch stream itself; the admin API runs in
 * worker 1 only. `options.port` must be fixed (not 0) so every worker binds the same port.
 */
export async function startDnsCluster(options: DnsServerOptions, start: (o: DnsServerOptions) => Promise<RunningDnsServer>,
  workers = os.availableParallelism()): Promise<RunningDnsCluster | RunningDnsServer> {
  if (cluster.isWorker) {
    const first = cluster.worker?.id === 1;
    const server = await start({ ...options, reusePort: true, adminPort: first ? options.adminPort : false, snapshotPath: first ? options.snapshotPath : undefined });
    process.send?.({ type: 'dns-ready', port: server.port });
    process.on('disconnect', () => { server.close().then(() => process.exit(0), () => process.exit(1)); });
    return server;
  }
  if (!options.port) throw new RangeError('startDnsCluster needs a fixed port');
  const forked = Array.from({ length: Math.max(1, workers) }, () => cluster.fork());
  await Promise.all(forked.map((w) => new Promise<void>((resolve, reject) => {
    w.on('message', (m: { type?: string }) => { if (m.type === 'dns-ready') resolve(); });
    w.once('exit', (code) => reject(new Error(`DNS worker ${w.id} exited with code ${String(code)} before it was ready`)));
  })));
  return {
    port: options.port, workers: forked.length,
    close: async () => {
      await Promise.all(forked.map((w) => new Promise<void>((resolve) => {
        if (w.isDead()) { resolve(); return; }
        w.once('exit', () => resolve());
        w.disconnect();
      })));
    },
  };
}
