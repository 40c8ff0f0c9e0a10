/**
 * A GeoDNS server process of the chaos run (`server-entry.js`) following the scheduler's watch
 * stream: started, SIGKILLed and started again on the same ports and state folder, so a restart
 * finds its workload snapshot, its hot-prefix cache, its last package and its RIS position on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleZoneConfig, type WorkloadEndpoints } from '../../dns/index';
import { readSnapshot } from '../../dns/watch/snapshot';

/** Settings of one GeoDNS process. */
export interface GeoDnsSpec {
  /** Name in errors. */
  readonly name: string;
  /** Folder for its state (config file, cache, package, RIS position). */
  readonly stateDir: string;
  /** The `geoip` section. */
  readonly geoip: Record<string, unknown>;
  /** The scheduler's watch stream. */
  readonly watch: { readonly url: string; readonly token: string };
  readonly overlay: unknown;
}

/** Where the admin API says an address is located and which layer decided. */
export interface GeoLookup {
  readonly layer: string;
  readonly channel: string;
  readonly prefix: string;
  readonly location: { readonly lat: number; readonly lon: number; readonly country: string } | null;
}

/** What `/geo/channels` says: the driving channel, each channel's state, and the table's build count. */
export interface ChannelsStatus {
  readonly driving: string;
  readonly channels: readonly { readonly name: string; readonly state: string }[];
  readonly table?: { readonly generation: number };
}

/** A running (or restarting) GeoDNS child. */
export class GeoDns {
  port = 0;
  adminPort = 0;
  private proc: ChildProcess | undefined;
  private output = '';

  constructor(private readonly spec: GeoDnsSpec) {}

  /** Starts the process (on the ports of the previous run after a kill) and resolves once it answers. */
  async start(timeoutMs = 120_000): Promise<void> {
    const file = join(this.spec.stateDir, 'server.json');
    writeFileSync(file, JSON.stringify({
      config: {
        address: '127.0.0.1', port: this.port, admin: { address: '127.0.0.1', port: this.adminPort }, zones: exampleZoneConfig().zones,
        rrl: { enabled: false }, geoip: this.spec.geoip,
        watch: { ...this.spec.watch, minBackoffMs: 100, maxBackoffMs: 1000 }, snapshotPath: this.snapshotPath(),
      },
      overlay: this.spec.overlay,
    }));
    const proc = spawn(process.execPath, [join(__dirname, 'server-entry.js'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.output = '';
    proc.stderr!.on('data', (b: Buffer) => { this.output = (this.output + b.toString()).slice(-20_000); });
    const ready = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
      let line = '';
      const timer = setTimeout(() => reject(new Error(`${this.spec.name} did not answer within ${timeoutMs} ms: ${this.output}`)), timeoutMs);
      proc.stdout!.on('data', (b: Buffer) => {
        line += b.toString();
        const nl = line.indexOf('\n');
        if (nl >= 0) { clearTimeout(timer); resolve(JSON.parse(line.slice(0, nl)) as { port: number; adminPort: number }); }
      });
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${this.spec.name} exited with ${code}: ${this.output}`)); });
    });
    this.port = ready.port;
    this.adminPort = ready.adminPort;
  }

  /** SIGKILL: no shutdown, nothing flushed beyond what the process wrote on its own. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }

  /** What the admin API says about `ip`; undefined while the process does not answer. */
  async lookup(ip: string): Promise<GeoLookup | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.adminPort}/geo/lookup?ip=${ip}`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? await res.json() as GeoLookup : undefined;
    } catch {
      return undefined;
    }
  }

  /** `/geo/channels` (driving channel and each channel's state). */
  async channels(): Promise<ChannelsStatus | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.adminPort}/geo/channels`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? await res.json() as ChannelsStatus : undefined;
    } catch {
      return undefined;
    }
  }

  /** Answers counted by source in `/metrics` (`meridian_dns_answers_total`), summed over workloads and regions. */
  async answersBySource(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.adminPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      for (const m of text.matchAll(/^meridian_dns_answers_total\{[^}]*source="([^"]+)"[^}]*\} (\d+)/gm)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
    } catch {
      // A process being restarted has no metrics; the caller counts what it got.
    }
    return out;
  }

  /** The workloads it serves, as its snapshot file holds them (written on every state it takes from the watch stream). */
  async workloads(): Promise<readonly WorkloadEndpoints[]> {
    return (await readSnapshot(this.snapshotPath()))?.workloads ?? [];
  }

  /** State of its watch stream (`/healthz`); undefined while it does not answer. */
  async watchState(): Promise<string | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.adminPort}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? ((await res.json()) as { watch: { state: string } | null }).watch?.state : undefined;
    } catch {
      return undefined;
    }
  }

  private snapshotPath(): string {
    return join(this.spec.stateDir, 'workloads.json');
  }

  /** The last lines it printed (for errors). */
  log(): string {
    return this.output;
  }

  /** SIGTERM and wait (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}
