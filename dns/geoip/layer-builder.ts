import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GeoIpError, type GeoIpErrorCode } from './errors';
import type { GeoLayerData } from './layers';
import { GeoTable, type PreparedGeoTable } from './table';
import type { GeoSource } from './types';

// How long a worker with no build pending is kept for the next one.
const IDLE_MS = 5_000;

type Reply = { id: number; ok: true; prepared: PreparedGeoTable } | { id: number; ok: false; code: GeoIpErrorCode; message: string };

/** A layer as the builder takes it: a table and what produced it. */
export interface GeoLayer {
  readonly layer: GeoLayerData['layer'];
  readonly channel: GeoLayerData['channel'];
  readonly table: GeoTable;
}

/**
 * Merges layers into one table in a worker thread, so a rebuild never stalls the serving thread:
 * the worker copies the layers' columns, merges, validates and indexes, and transfers the result;
 * this side only wraps it. The worker ends once no build has been pending for 5 s, giving its memory back.
 */
export class LayerBuilder {
  private worker: Worker | undefined;
  private next = 1;
  private idle: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, { resolve: (t: PreparedGeoTable) => void; reject: (e: Error) => void }>();

  /**
   * The merged table of `layers` (highest priority first), as columns ready to wrap or to send to
   * other processes. Rejects with `GeoIpError` when a layer is bad or the worker dies (a new one
   * starts on the next call); a rejected build leaves the caller's table as it was.
   */
  buildColumns(layers: readonly GeoLayer[], source: GeoSource, timeoutMs = 120_000): Promise<PreparedGeoTable> {
    const worker = this.ensure();
    const id = this.next++;
    return new Promise<PreparedGeoTable>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GeoIpError('GEOIP_BAD_DATA', `merging ${layers.length} layers took over ${timeoutMs} ms`));
        this.restart();
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (t) => { clearTimeout(timer); resolve(t); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      worker.postMessage({ id, source, layers: layers.map((l) => ({ layer: l.layer, channel: l.channel, data: l.table.columns })) });
    });
  }

  /** `buildColumns`, wrapped as a table. */
  async build(layers: readonly GeoLayer[], source: GeoSource): Promise<GeoTable> {
    return new GeoTable(await this.buildColumns(layers, source));
  }

  /** Stops the worker; pending builds reject. Idempotent. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    clearTimeout(this.idle);
    this.failAll('the layer builder was closed');
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    clearTimeout(this.idle);
    if (this.worker) return this.worker;
    const worker = new Worker(join(__dirname, 'layers-worker.js'));
    // The worker only runs while a build is pending; it must not keep the process alive alone.
    worker.unref();
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      // Builds are usually minutes apart: a worker idle for a while would only hold its heap
      // (copies of every layer), so it ends; a burst of builds reuses it.
      if (this.pending.size === 0) {
        clearTimeout(this.idle);
        this.idle = setTimeout(() => { if (this.pending.size === 0) this.restart(); }, IDLE_MS);
        this.idle.unref();
      }
      if (r.ok) p.resolve(r.prepared);
      else p.reject(new GeoIpError(r.code, r.message));
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(`the layer merge worker failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(`the layer merge worker exited with code ${code}`);
    });
    this.worker = worker;
    return worker;
  }

  private restart(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new GeoIpError('GEOIP_BAD_DATA', why));
    }
  }
}
