/**
 * The RIS channel: polls RIPE RIS MRT archives (or a mirror in the same layout, over http(s) or
 * file://), bootstraps from the latest `bview`, then applies each `updates` file in time order.
 * A file is parsed whole before any of its records is delivered, so a failed download or parse
 * leaves nothing half-applied; it is retried, and reported in `health()`. What was applied is kept
 * in a small state file: after a restart the channel rebuilds its table from the same files (the
 * consumer's table lives in memory) and goes on from the last applied updates file.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ChannelHealth, ChannelKind, ChannelSink, GeoChannel, PeerDown, RoutingUpdate } from '../index';
import { readElements } from './reader';
import { RoutingCollector } from './routing';
import { parseRisSettings, type RisSettings } from './settings';

/** A RIS archive file name: `bview.YYYYMMDD.HHMM.gz` or `updates.YYYYMMDD.HHMM.gz` (or `.bz2`). */
const FILE_RE = /^(bview|updates)\.(\d{4})(\d{2})(\d{2})\.(\d{2})(\d{2})\.(gz|bz2)$/;

/** One archive file. */
export interface RisFile {
  readonly kind: 'bview' | 'updates';
  readonly name: string;
  /** The collector's `YYYY.MM` folder. */
  readonly month: string;
  /** The time its name gives, ms since the epoch. */
  readonly at: number;
}

/** Parses a RIS file name; undefined when it is not one. */
export function parseRisFileName(name: string, month: string): RisFile | undefined {
  const m = FILE_RE.exec(name);
  if (m === null) return undefined;
  const at = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]));
  return { kind: m[1] as 'bview' | 'updates', name, month, at };
}

/** The `YYYY.MM` folders from `monthsBack` months before `now` up to `now`'s, oldest first. */
export function monthFolders(now: number, monthsBack: number): string[] {
  const d = new Date(now);
  const out: string[] = [];
  for (let i = monthsBack; i >= 0; i--) {
    const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1));
    out.push(`${t.getUTCFullYear()}.${String(t.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

interface CollectorState {
  /** The bview the table was built from, then the updates applied after it, in order. */
  bview: string | undefined;
  updates: string[];
  /** Time of the newest applied file's data, ms since the epoch. */
  dataAt: number | undefined;
}

interface StateFile {
  version: 1;
  collectors: Record<string, CollectorState>;
}

/** Options of `RisChannel` beyond its settings. */
export interface RisChannelOptions {
  readonly name?: string;
  /** The clock, ms since the epoch (tests pin it to their archive's dates). */
  readonly now?: () => number;
}

/** What the channel did, newest last (for `/geo/channels` and tests). */
export interface RisEvent {
  readonly at: number;
  readonly collector: string;
  readonly file: string;
  readonly outcome: 'applied' | 'replayed' | 'failed' | 'skipped';
  readonly detail: string;
}

/** The RIS MRT archive channel (kind `ris`). */
export class RisChannel implements GeoChannel {
  readonly name: string;
  readonly kind: ChannelKind = 'ris';
  private settings: RisSettings | undefined;
  private readonly raw: unknown;
  private readonly now: () => number;
  private sink: ChannelSink | undefined;
  private state: StateFile = { version: 1, collectors: {} };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private lastError: string | undefined;
  private everFailed = false;
  private readonly attempts = new Map<string, number>();
  private readonly prefixesByCollector = new Map<string, number>();
  private readonly replayPending = new Set<string>();
  /** The last 100 things the channel did. */
  readonly events: RisEvent[] = [];

  constructor(settings: unknown, options: RisChannelOptions = {}) {
    this.raw = settings;
    this.name = options.name ?? 'ris';
    this.now = options.now ?? Date.now;
  }

  /** Validates the settings, loads the state file, and starts polling (the first poll at once). */
  async start(sink: ChannelSink): Promise<void> {
    if (!this.stopped) return;
    this.settings = parseRisSettings(this.raw);
    this.state = await loadState(this.settings.stateFile);
    for (const c of this.settings.collectors) {
      const s = this.state.collectors[c];
      if (s?.bview !== undefined) this.replayPending.add(c);
    }
    this.sink = sink;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for a download in flight to end; idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.running;
  }

  health(): ChannelHealth {
    const newest = Object.values(this.state.collectors).reduce<number | undefined>((m, s) => (s.dataAt !== undefined && (m === undefined || s.dataAt > m) ? s.dataAt : m), undefined);
    let prefixes = 0;
    for (const n of this.prefixesByCollector.values()) prefixes += n;
    const applied = this.prefixesByCollector.size > 0;
    const staleMs = (this.settings?.staleAfterMinutes ?? 30) * 60_000;
    let state: ChannelHealth['state'];
    if (this.stopped && this.settings !== undefined) state = 'paused';
    else if (!applied) state = this.everFailed ? 'down' : 'starting';
    else state = newest !== undefined && this.now() - newest <= staleMs ? 'up' : 'stale';
    return { state, lastDataAt: applied ? newest : undefined, prefixes, lastError: this.lastError };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.pollAll().then((ok) => {
        this.running = undefined;
        const s = this.settings as RisSettings;
        this.schedule((ok ? s.pollIntervalSeconds : s.retryIntervalSeconds) * 1000);
      });
    }, delayMs);
  }

  private note(collector: string, file: string, outcome: RisEvent['outcome'], detail: string): void {
    this.events.push({ at: this.now(), collector, file, outcome, detail });
    if (this.events.length > 100) this.events.shift();
  }

  /** One poll of every collector; resolves false when something failed (the caller retries sooner). */
  private async pollAll(): Promise<boolean> {
    let ok = true;
    for (const c of (this.settings as RisSettings).collectors) {
      if (this.stopped) break;
      try {
        await this.pollCollector(c);
      } catch (e) {
        ok = false;
        this.everFailed = true;
        this.lastError = `${c}: ${e instanceof Error ? e.message : String(e)}`;
        this.sink?.healthChanged();
      }
    }
    return ok;
  }

  private async pollCollector(collector: string): Promise<void> {
    const s = this.settings as RisSettings;
    const st = this.state.collectors[collector] ?? { bview: undefined, updates: [], dataAt: undefined };
    const files = await this.list(collector, st);
    const bviews = files.filter((f) => f.kind === 'bview');
    const latestBview = bviews[bviews.length - 1];
    const current = st.bview === undefined ? undefined : files.find((f) => f.name === st.bview);

    if (this.replayPending.has(collector)) {
      // After a restart: rebuild from the files applied before, unless a newer bview replaces them.
      if (current !== undefined && (latestBview === undefined || latestBview.at <= current.at)) {
        const replay = [current, ...st.updates.map((n) => files.find((f) => f.name === n)).filter((f): f is RisFile => f !== undefined)];
        const parsed: (RoutingUpdate | PeerDown)[][] = [];
        let routes = 0;
        for (const f of replay) {
          const r = await this.parse(collector, f);
          parsed.push(r.records);
          routes = f.kind === 'bview' ? r.routes : routes;
        }
        for (const [i, recs] of parsed.entries()) {
          this.emit(recs);
          this.note(collector, replay[i].name, 'replayed', `${recs.length} records`);
        }
        this.prefixesByCollector.set(collector, routes);
      }
      this.replayPending.delete(collector);
    }

    if (latestBview !== undefined && (current === undefined || latestBview.at > current.at) && !this.prefixesByCollector.has(collector)) {
      await this.applyFile(collector, latestBview, { bview: latestBview.name, updates: [], dataAt: latestBview.at });
    }
    const now = this.state.collectors[collector];
    if (now?.bview === undefined) {
      if (latestBview === undefined) throw new Error(`no bview file under ${s.baseUrl}/${collector}/ in ${monthFolders(this.now(), s.bootstrapLookbackMonths).join(', ')}`);
      return;
    }
    const base = files.find((f) => f.name === now.bview)?.at ?? 0;
    const lastName = now.updates[now.updates.length - 1];
    const lastAt = lastName === undefined ? undefined : parseRisFileName(lastName, '')?.at;
    const pending = files.filter((f) => f.kind === 'updates' && f.at >= base && (lastAt === undefined || f.at > lastAt));
    for (const f of pending) {
      if (this.stopped) return;
      const cur = this.state.collectors[collector];
      await this.applyFile(collector, f, { bview: cur.bview, updates: [...cur.updates, f.name], dataAt: f.at + 5 * 60_000 });
    }
  }

  /** Parses `file` whole, then delivers its records and records it as applied; on failure delivers nothing. */
  private async applyFile(collector: string, file: RisFile, next: CollectorState): Promise<void> {
    const s = this.settings as RisSettings;
    const key = `${collector}/${file.month}/${file.name}`;
    let parsed: { records: (RoutingUpdate | PeerDown)[]; routes: number; errors: number };
    try {
      parsed = await this.parse(collector, file);
    } catch (e) {
      const n = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, n);
      const why = e instanceof Error ? e.message : String(e);
      if (n < s.maxAttemptsPerFile) {
        this.note(collector, file.name, 'failed', `attempt ${n}: ${why}`);
        throw new Error(`${file.name} failed (attempt ${n} of ${s.maxAttemptsPerFile}): ${why}`, { cause: e });
      }
      // Give up on this file so later ones still apply; the next bview repairs the gap.
      this.attempts.delete(key);
      this.note(collector, file.name, 'skipped', `after ${n} attempts: ${why}`);
      this.lastError = `${collector}: skipped ${file.name} after ${n} failed attempts: ${why}`;
      this.everFailed = true;
      const cur = this.state.collectors[collector];
      this.state.collectors[collector] = file.kind === 'bview' ? cur : { ...cur, updates: [...cur.updates, file.name] };
      await saveState(s.stateFile, this.state);
      this.sink?.healthChanged();
      return;
    }
    this.attempts.delete(key);
    this.emit(parsed.records);
    this.state.collectors[collector] = next;
    await saveState(s.stateFile, this.state);
    if (file.kind === 'bview') this.prefixesByCollector.set(collector, parsed.routes);
    else if (!this.prefixesByCollector.has(collector)) this.prefixesByCollector.set(collector, 0);
    this.lastError = parsed.errors > 0 ? `${collector}: ${file.name}: ${parsed.errors} malformed records skipped` : undefined;
    this.note(collector, file.name, 'applied', `${parsed.records.length} records${parsed.errors > 0 ? `, ${parsed.errors} malformed skipped` : ''}`);
    this.sink?.healthChanged();
  }

  private emit(records: readonly (RoutingUpdate | PeerDown)[]): void {
    const sink = this.sink;
    if (sink === undefined) return;
    for (const r of records) {
      try { sink.records(r); } catch { /* a sink never throws back into the channel */ }
    }
  }

  private async parse(collector: string, file: RisFile): Promise<{ records: (RoutingUpdate | PeerDown)[]; routes: number; errors: number }> {
    const s = this.settings as RisSettings;
    const collect = new RoutingCollector(collector);
    const firstErrors: string[] = [];
    const stats = await readElements(await this.open(`${collector}/${file.month}/${file.name}`), (e, recordOffset) => {
      collect.add(e, recordOffset);
    }, (e) => { if (firstErrors.length < 3) firstErrors.push(e.message); }, { maxRecordBytes: s.maxRecordBytes });
    if (stats.incomplete) throw new Error(`${file.name} is incomplete or corrupt: ${firstErrors.join('; ')}`);
    return { records: collect.records(), routes: collect.routeCount(), errors: stats.errors };
  }

  private async open(path: string): Promise<AsyncIterable<Uint8Array>> {
    const s = this.settings as RisSettings;
    const url = `${s.baseUrl.replace(/\/+$/, '')}/${path}`;
    if (url.startsWith('file://')) return createReadStream(fileURLToPath(url), { highWaterMark: 256 * 1024 });
    this.abort = new AbortController();
    const res = await fetch(url, { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(s.requestTimeoutSeconds * 1000)]) });
    if (!res.ok || res.body === null) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  /** The archive files of `collector` in the months that matter, oldest first. */
  private async list(collector: string, st: CollectorState): Promise<RisFile[]> {
    const s = this.settings as RisSettings;
    const now = this.now();
    let months = monthFolders(now, s.bootstrapLookbackMonths);
    const fromName = st.bview === undefined ? undefined : parseRisFileName(st.bview, '');
    if (fromName !== undefined) {
      const back = Math.max(0, (new Date(now).getUTCFullYear() - new Date(fromName.at).getUTCFullYear()) * 12 + new Date(now).getUTCMonth() - new Date(fromName.at).getUTCMonth());
      months = monthFolders(now, Math.max(back, s.bootstrapLookbackMonths));
    }
    const files: RisFile[] = [];
    for (const month of months) {
      for (const name of await this.listDir(`${collector}/${month}/`)) {
        const f = parseRisFileName(name, month);
        if (f !== undefined && f.at <= now) files.push(f);
      }
    }
    return files.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'bview' ? -1 : 1));
  }

  private async listDir(path: string): Promise<string[]> {
    const s = this.settings as RisSettings;
    const url = `${s.baseUrl.replace(/\/+$/, '')}/${path}`;
    if (url.startsWith('file://')) {
      try {
        return await readdir(fileURLToPath(url));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
    }
    const res = await fetch(url, { signal: AbortSignal.timeout(s.requestTimeoutSeconds * 1000) });
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    // RIS (and any autoindex mirror) lists files as links.
    const html = await res.text();
    return [...html.matchAll(/href="([^"/?]+)"/g)].map((m) => decodeURIComponent(m[1]));
  }
}

async function loadState(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, collectors: {} };
    throw e;
  }
  const parsed = JSON.parse(text) as Partial<StateFile>;
  if (parsed.version !== 1 || typeof parsed.collectors !== 'object' || parsed.collectors === null) {
    throw new Error(`RIS state file ${path} is not a version 1 state file`);
  }
  return { version: 1, collectors: parsed.collectors };
}

async function saveState(path: string, state: StateFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Write then rename, so a crash never leaves a torn state file.
  const tmp = join(dirname(path), `.${process.pid}.ris-state.tmp`);
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, path);
}
