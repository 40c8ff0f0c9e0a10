import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GeoIpError, type GeoIpErrorCode } from './errors';
import type { GeoipLiteOptions } from './geoip-lite';
import { GeoTable, type PreparedGeoTable } from './table';

type WorkerReply = { ok: true; prepared: PreparedGeoTable } | { ok: false; code: GeoIpErrorCode; message: string };

/** Options for `loadGeoipLite`. */
export interface LoadOptions extends GeoipLiteOptions {
  /** Give up (and stop the worker) after this long; default 60 s. */
  readonly timeoutMs?: number;
}

/**
 * Builds the geoip-lite table in a worker thread and resolves with it. Parsing, validation and
 * indexing run off the calling thread; the caller only wraps transferred arrays, so a reload does
 * not stall queries. Rejects with `GeoIpError` (the worker's code, or `GEOIP_BAD_DATA` on a crash or
 * timeout); on rejection nothing is left running.
 */
export function loadGeoipLite(options: LoadOptions = {}): Promise<GeoTable> {
  const { timeoutMs = 60_000, ...workerOptions } = options;
  return new Promise<GeoTable>((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'load-worker.js'), { workerData: workerOptions });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => finish(() => reject(new GeoIpError('GEOIP_BAD_DATA', `loading geoip-lite data took over ${timeoutMs} ms`))), timeoutMs);
    worker.once('message', (reply: WorkerReply) => finish(() => {
      if (reply.ok) resolve(new GeoTable(reply.prepared));
      else reject(new GeoIpError(reply.code, reply.message));
    }));
    worker.once('error', (err) => finish(() => reject(new GeoIpError('GEOIP_BAD_DATA', `geoip-lite loader failed: ${err.message}`, { cause: err }))));
    worker.once('exit', (code) => finish(() => reject(new GeoIpError('GEOIP_BAD_DATA', `geoip-lite loader exited with code ${code} before answering`))));
  });
}
