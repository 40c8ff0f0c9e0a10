import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { CloudCatalogData } from '../../catalog';
import type { CloudId } from '../../types';
import { EmulatorCatalog } from './catalog';
import { NO_FAULTS, validateFaultsPatch, type FaultSettings, type GateDecision } from './faults';
import { InstanceStore, type InstanceStoreSnapshot, type StoreOptions } from './store';

/** An HTTP request as the wire layers see it: body read, query parsed. */
export interface EmuRequest {
  readonly method: string;
  readonly url: URL;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** A wire layer's answer. */
export interface EmuResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** Settings common to every emulator. */
export interface EmulatorOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Milliseconds from create to running. */
  readonly pendingMs?: number;
  /** Largest page a list call returns. */
  readonly maxPageSize?: number;
  /**
   * A file that keeps the instances between runs, the way a real cloud keeps them: read at
   * start when it exists, written at stop. None by default (every run starts empty).
   */
  readonly stateFile?: string;
  /** What the cloud offers (regions, types, offerings); the bundled catalog's data by default. */
  readonly catalog?: CloudCatalogData;
}

/** Counts of calls by operation and outcome, for the admin API and tests. */
export type CallStats = Record<string, Record<string, number>>;

/**
 * The shared half of every cloud emulator: the HTTP server, the instance store, fault injection
 * and the admin API under `/_emulator/`. Subclasses speak one cloud's wire protocol.
 *
 * Admin API: `GET|PUT|PATCH /_emulator/faults`, `POST /_emulator/reset`,
 * `GET /_emulator/instances`, `GET /_emulator/stats`.
 */
export abstract class CloudEmulator {
  readonly store: InstanceStore;
  readonly maxPageSize: number;
  /** The regions and instance types this emulated cloud offers. */
  readonly catalog: EmulatorCatalog;
  protected faults: FaultSettings = NO_FAULTS;
  private server?: Server;
  private tokens = 0;
  private tokensAt = Date.now();
  private throttleAcc = 0;
  private errorAcc = 0;
  private readonly stats: CallStats = {};

  protected constructor(readonly cloud: CloudId, protected readonly options: EmulatorOptions, store: Omit<StoreOptions, 'cloud' | 'pendingMs'>) {
    this.store = new InstanceStore({ cloud, pendingMs: options.pendingMs ?? 2000, ...store });
    this.maxPageSize = options.maxPageSize ?? 100;
    this.catalog = new EmulatorCatalog(cloud, options.catalog);
  }

  /** Handles one API request of the cloud's protocol (not the admin API). */
  protected abstract handle(req: EmuRequest): Promise<EmuResponse>;

  /** The base URL once listening: `http://127.0.0.1:4566`. */
  get url(): string {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    if (!addr) throw new Error(`${this.cloud} emulator is not listening`);
    return `http://${addr.address}:${addr.port}`;
  }

  /** Starts listening (127.0.0.1 and a free port by default). */
  async start(): Promise<this> {
    const file = this.options.stateFile;
    if (file !== undefined && existsSync(file)) {
      try {
        this.store.restore(JSON.parse(readFileSync(file, 'utf8')) as InstanceStoreSnapshot);
      } catch (err) {
        throw new Error(`${this.cloud} emulator state ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const server = createServer((req, res) => { void this.dispatch(req, res); });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    return this;
  }

  /** Stops listening, closes open connections and saves the state file, if any. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const file = this.options.stateFile;
    if (file !== undefined) {
      // Written whole, then renamed, so a stop cut short never leaves half a file.
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(this.store.snapshot()));
      renameSync(`${file}.tmp`, file);
    }
  }

  /** Current fault settings. */
  getFaults(): FaultSettings {
    return this.faults;
  }

  /** Merges fault settings (the admin API's PATCH). Throws listing every invalid key. */
  patchFaults(patch: Partial<FaultSettings>): FaultSettings {
    const errors = validateFaultsPatch(patch);
    if (errors.length) throw new Error(`invalid faults: ${errors.join('; ')}`);
    this.faults = Object.freeze({ ...this.faults, ...patch });
    if (patch.rateLimit) { this.tokens = patch.rateLimit.burst; this.tokensAt = Date.now(); }
    return this.faults;
  }

  /** Clears faults, instances and stats. */
  reset(): void {
    this.faults = NO_FAULTS;
    this.store.reset();
    this.throttleAcc = 0;
    this.errorAcc = 0;
    for (const k of Object.keys(this.stats)) delete this.stats[k];
  }

  /** Calls seen so far, by operation and outcome. */
  callStats(): CallStats {
    return structuredClone(this.stats);
  }

  /** Records one call's outcome (wire layers call this once per API call). */
  protected count(operation: string, outcome: string): void {
    const row = (this.stats[operation] ??= {});
    row[outcome] = (row[outcome] ?? 0) + 1;
  }

  /**
   * Applies latency, outage, rate limit, throttle share and 5xx share for one call to `region`.
   * Wire layers call it after authentication and answer the decision in their cloud's own words.
   */
  protected async gate(region: string | undefined): Promise<GateDecision> {
    const f = this.faults;
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (region !== undefined && f.outages.includes(region)) return { kind: 'outage' };
    if (f.rateLimit) {
      const now = Date.now();
      this.tokens = Math.min(f.rateLimit.burst, this.tokens + ((now - this.tokensAt) / 1000) * f.rateLimit.ratePerSecond);
      this.tokensAt = now;
      if (this.tokens < 1) return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / f.rateLimit.ratePerSecond)) };
      this.tokens -= 1;
    }
    // Error diffusion spreads a share evenly: 0.5 hits exactly every other call, no luck involved.
    if (f.throttleShare > 0) {
      this.throttleAcc += f.throttleShare;
      if (this.throttleAcc >= 1) { this.throttleAcc -= 1; return { kind: 'throttled', retryAfterSeconds: f.retryAfterSeconds }; }
    }
    if (f.errorShare > 0) {
      this.errorAcc += f.errorShare;
      if (this.errorAcc >= 1) { this.errorAcc -= 1; return { kind: 'server-error' }; }
    }
    return { kind: 'pass' };
  }

  /** True (once per configured drop) when a mutating call's reply must be lost after it took effect. */
  protected takeDropReply(): boolean {
    if (this.faults.dropReplies <= 0) return false;
    this.faults = Object.freeze({ ...this.faults, dropReplies: this.faults.dropReplies - 1 });
    return true;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const url = new URL(req.url ?? '/', 'http://emulator.local');
      const emuReq: EmuRequest = { method: req.method ?? 'GET', url, path: url.pathname, headers: req.headers, body: Buffer.concat(chunks) };
      const out = url.pathname.startsWith('/_emulator/') ? this.admin(emuReq) : await this.handle(emuReq);
      if (out === DROP) { req.socket.destroy(); return; }
      res.writeHead(out.status, out.headers ?? {});
      res.end(out.body ?? '');
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`emulator internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private admin(req: EmuRequest): EmuResponse {
    const json = (status: number, body: unknown): EmuResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const route = `${req.method} ${req.path}`;
    try {
      switch (route) {
        case 'GET /_emulator/faults': return json(200, this.faults);
        case 'PATCH /_emulator/faults': return json(200, this.patchFaults(JSON.parse(req.body.toString() || '{}') as Partial<FaultSettings>));
        case 'PUT /_emulator/faults': this.faults = NO_FAULTS; return json(200, this.patchFaults(JSON.parse(req.body.toString() || '{}') as Partial<FaultSettings>));
        case 'POST /_emulator/reset': this.reset(); return json(200, { ok: true });
        case 'GET /_emulator/instances': return json(200, this.store.all());
        case 'GET /_emulator/stats': return json(200, this.stats);
        default: return json(404, { error: `no admin route ${route}` });
      }
    } catch (err) {
      return json(400, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Returned by a wire layer to drop the connection without a reply (a lost response). */
export const DROP: EmuResponse = Object.freeze({ status: 0 });
