/**
 * Channel 3: the signed GeoIP package. Every poll interval it asks the configured servers for the
 * zone's DNSKEY RRset and the package TXT record with the DO bit, validates DS -> DNSKEY -> RRSIG
 * itself, fetches the package the record names, checks its digest and serial, loads it, keeps it
 * on disk, and only then emits one `LocationUpdate`. Any failure emits nothing and is reported with
 * its reason in `health().lastError`.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { ChannelHealth, ChannelSink, ChannelState, GeoChannel, LocationUpdate } from '../index';
import { DNSSEC_TYPE, parseDsText } from './dnssec';
import { parseServerAddress, queryDnssec, sectionRecords, type ServerAddress } from './dns-client';
import { loadPackageTable, openPackage, sha256File } from './package';
import { loadSignedChannelSettings, type SignedChannelSettings } from './settings';
import {
  SignedRejection, trustedKeys, validatedRecord, type SectionRecord, type SignedRejectionCode, type TrustAnchor, type ValidatedRecord,
} from './validate';

/** Options of the channel besides its settings. */
export interface SignedChannelOptions {
  /** Unique channel name; default `signed`. */
  readonly name?: string;
  /** Clock, ms since the epoch (signature windows, valid-until); default `Date.now`. */
  readonly now?: () => number;
  /** One line per acceptance or rejection; default stderr. */
  readonly log?: (line: string) => void;
}

/** The outcome of one check. */
export type CheckOutcome =
  | { readonly result: 'accepted'; readonly serial: number; readonly sha256: string }
  | { readonly result: 'unchanged'; readonly serial: number }
  | { readonly result: 'rejected'; readonly code: SignedRejectionCode; readonly reason: string };

/** The package in force, as kept in `current.json` next to `current.tar.gz`. */
interface CurrentPackage {
  readonly serial: number;
  readonly sha256: string;
  readonly url: string;
  readonly createdAt: number;
  readonly validUntil: number;
  readonly acceptedAt: number;
  readonly prefixes: number;
}

const CURRENT_FILE = 'current.tar.gz';
const CURRENT_META = 'current.json';
// setTimeout's longest delay (2^31 - 1 ms, about 24.8 days).
const MAX_TIMER_MS = 2_147_483_647;

/** The signed-package GeoIP channel (kind `signed`). */
export class SignedPackageChannel implements GeoChannel {
  readonly name: string;
  readonly kind = 'signed' as const;
  private readonly settings: Readonly<SignedChannelSettings>;
  private readonly servers: readonly ServerAddress[];
  private readonly anchors: readonly TrustAnchor[];
  private readonly zone: string;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private sink: ChannelSink | undefined;
  private state: ChannelState = 'starting';
  private lastError: string | undefined;
  private rejection: { code: SignedRejectionCode; reason: string; at: number } | undefined;
  private current: CurrentPackage | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private abort = new AbortController();
  private outcome: CheckOutcome | undefined;

  /** Validates `settings` (throws `SignedSettingsError` with every problem) and makes a stopped channel. */
  constructor(settings: unknown, options: SignedChannelOptions = {}) {
    this.settings = loadSignedChannelSettings(settings);
    this.servers = this.settings.servers.map(parseServerAddress);
    this.anchors = this.settings.trustAnchors.map(parseDsText);
    this.zone = this.anchors[0]!.owner;
    this.name = options.name ?? 'signed';
    this.now = options.now ?? Date.now;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Reloads the kept package (emitting it), then checks at once and every poll interval. */
  async start(sink: ChannelSink): Promise<void> {
    if (this.sink) throw new Error(`channel ${this.name} is already started`);
    await mkdir(this.settings.stateDir, { recursive: true });
    this.sink = sink;
    this.stopped = false;
    this.abort = new AbortController();
    this.chain = this.reload().then(() => this.poll());
  }

  /** Resolves once the check in progress (the first one, right after `start`) has ended, with the latest outcome. */
  async settled(): Promise<CheckOutcome | undefined> {
    await this.chain.catch(() => undefined);
    return this.outcome;
  }

  /** Stops polling and waits for a check in progress to end; emits nothing afterwards. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.pollTimer);
    clearTimeout(this.staleTimer);
    await this.chain.catch(() => undefined);
    this.sink = undefined;
  }

  /** `up` with a current package, `stale` past its valid-until, `down` after a rejection or with nothing accepted. */
  health(): ChannelHealth {
    let state = this.state;
    if (state === 'up' && this.current && this.now() > this.current.validUntil) state = 'stale';
    return { state, lastDataAt: this.current?.acceptedAt, prefixes: this.current?.prefixes ?? 0, lastError: this.lastError };
  }

  /** The serial of the package in force, if any. */
  get serial(): number | undefined {
    return this.current?.serial;
  }

  /** The last rejection with its code, for `/geo/channels` and tests; cleared by an acceptance. */
  lastRejection(): { readonly code: SignedRejectionCode; readonly reason: string; readonly at: number } | undefined {
    return this.rejection;
  }

  /** Runs one check now (after any in progress) and resolves with its outcome. */
  checkNow(): Promise<CheckOutcome> {
    const run = this.chain.catch(() => undefined).then(() => this.check());
    this.chain = run;
    return run;
  }

  private poll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.check().then(() => {
      if (this.stopped) return;
      this.pollTimer = setTimeout(() => { this.chain = this.chain.catch(() => undefined).then(() => this.poll()); },
        Math.min(this.settings.pollIntervalSeconds * 1000, MAX_TIMER_MS));
      this.pollTimer.unref?.();
    });
  }

  private setHealth(state: ChannelState, error: string | undefined): void {
    this.state = state;
    this.lastError = error;
    this.sink?.healthChanged();
  }

  private async reload(): Promise<void> {
    const dir = this.settings.stateDir;
    let meta: CurrentPackage;
    try {
      meta = JSON.parse(await readFile(join(dir, CURRENT_META), 'utf8')) as CurrentPackage;
    } catch {
      return; // nothing kept yet
    }
    try {
      const sha = await sha256File(join(dir, CURRENT_FILE));
      if (sha !== meta.sha256) throw new Error(`its SHA-256 is ${sha}, ${CURRENT_META} says ${meta.sha256}`);
      // Loaded even past its valid-until: stale data is the supervisor's to weigh, and health says so.
      const { record, table } = await this.loadPackage(join(dir, CURRENT_FILE), meta.serial, false);
      if (this.stopped) return;
      this.current = { ...meta, prefixes: table.v4Count + table.v6Count, createdAt: record.createdAt, validUntil: record.validUntil };
      this.emit({ kind: 'locations', serial: meta.serial, createdAt: record.createdAt, validUntil: record.validUntil, table });
      this.log(`geoip ${this.name}: reloaded package serial ${meta.serial} from ${dir}`);
      this.setHealth('up', undefined);
    } catch (err) {
      this.log(`geoip ${this.name}: ignoring the kept package in ${dir}: ${(err as Error).message}`);
    }
  }

  private emit(update: LocationUpdate): void {
    this.sink?.records(update);
    clearTimeout(this.staleTimer);
    if (update.validUntil !== undefined) {
      // Health turns stale on its own at valid-until; tell the supervisor when that happens.
      this.staleTimer = setTimeout(() => this.sink?.healthChanged(), Math.min(Math.max(0, update.validUntil - this.now() + 1), MAX_TIMER_MS));
      this.staleTimer.unref?.();
    }
  }

  private async check(): Promise<CheckOutcome> {
    this.outcome = await this.checkOnce();
    return this.outcome;
  }

  private async checkOnce(): Promise<CheckOutcome> {
    try {
      const outcome = await this.validateAndFetch();
      if (outcome.result !== 'rejected' && !this.stopped) {
        this.rejection = undefined;
        this.setHealth('up', undefined);
      }
      return outcome;
    } catch (err) {
      const rej = err instanceof SignedRejection ? err : new SignedRejection('SIGNED_PACKAGE_INVALID', (err as Error).message, { cause: err });
      if (!this.stopped) {
        this.rejection = { code: rej.code, reason: rej.message, at: this.now() };
        this.log(`geoip ${this.name}: package rejected (${rej.code}): ${rej.message}`);
        this.setHealth('down', rej.message);
      }
      return { result: 'rejected', code: rej.code, reason: rej.message };
    }
  }

  private async ask(name: string, type: number): Promise<SectionRecord[]> {
    const failures: string[] = [];
    for (const server of this.servers) {
      try {
        const { message } = await queryDnssec(server, name, type, { udpPayloadBytes: this.settings.udpPayloadBytes, timeoutMs: this.settings.queryTimeoutMs });
        const rcode = message.flags & 0x0f;
        if (rcode !== 0) throw new Error(`rcode ${rcode}`);
        return sectionRecords(message.answers);
      } catch (err) {
        failures.push(`${server.address}:${server.port}: ${(err as Error).message}`);
      }
    }
    const typeName = type === DNSSEC_TYPE.DNSKEY ? 'DNSKEY' : 'TXT';
    throw new SignedRejection('SIGNED_QUERY_FAILED', `no server answered ${typeName} ${name}: ${failures.join('; ')}`);
  }

  private async validateAndFetch(): Promise<CheckOutcome> {
    const keys = trustedKeys(this.zone, this.anchors, await this.ask(this.zone, DNSSEC_TYPE.DNSKEY), this.now());
    const record = validatedRecord(this.settings.name, this.zone, keys, await this.ask(this.settings.name, DNSSEC_TYPE.TXT), this.now());
    const cur = this.current;
    if (cur && record.serial < cur.serial) {
      throw new SignedRejection('SIGNED_SERIAL_NOT_NEWER', `published serial ${record.serial} is older than the current ${cur.serial}`);
    }
    if (cur && record.serial === cur.serial) {
      if (record.sha256 !== cur.sha256) {
        throw new SignedRejection('SIGNED_SERIAL_NOT_NEWER', `published serial ${record.serial} is the current one but its sha256 ${record.sha256} differs from the current ${cur.sha256}`);
      }
      return { result: 'unchanged', serial: record.serial };
    }
    const incoming = join(this.settings.stateDir, `incoming-${randomBytes(6).toString('hex')}.tar.gz`);
    try {
      const sha = await this.fetchPackage(record, incoming);
      if (sha !== record.sha256) {
        throw new SignedRejection('SIGNED_DIGEST_MISMATCH', `package from ${record.url} has SHA-256 ${sha}, the signed TXT record says ${record.sha256}`);
      }
      const { table, record: meta } = await this.loadPackage(incoming, record.serial, true);
      if (this.stopped) return { result: 'rejected', code: 'SIGNED_FETCH_FAILED', reason: 'channel stopped' };
      const acceptedAt = this.now();
      const current: CurrentPackage = { serial: record.serial, sha256: sha, url: record.url, createdAt: meta.createdAt, validUntil: meta.validUntil, acceptedAt, prefixes: table.v4Count + table.v6Count };
      // Kept before it is emitted: a restart must come back with what the table holds.
      await rename(incoming, join(this.settings.stateDir, CURRENT_FILE));
      const metaTmp = join(this.settings.stateDir, `${CURRENT_META}.tmp`);
      await writeFile(metaTmp, `${JSON.stringify(current)}\n`);
      await rename(metaTmp, join(this.settings.stateDir, CURRENT_META));
      this.current = current;
      this.emit({ kind: 'locations', serial: record.serial, createdAt: meta.createdAt, validUntil: meta.validUntil, table });
      this.log(`geoip ${this.name}: accepted package serial ${record.serial} (sha256 ${sha}, signed by key ${record.signedBy}, ${current.prefixes} ranges)`);
      return { result: 'accepted', serial: record.serial, sha256: sha };
    } finally {
      await rm(incoming, { force: true });
    }
  }

  private async loadPackage(file: string, serial: number, requireFresh: boolean): Promise<{ table: Awaited<ReturnType<typeof loadPackageTable>>; record: { createdAt: number; validUntil: number } }> {
    let opened;
    try {
      opened = await openPackage(file, join(this.settings.stateDir, 'work'));
    } catch (err) {
      throw new SignedRejection('SIGNED_PACKAGE_INVALID', `package does not unpack: ${(err as Error).message}`, { cause: err });
    }
    try {
      if (opened.manifest.serial !== serial) {
        throw new SignedRejection('SIGNED_PACKAGE_INVALID', `package manifest has serial ${opened.manifest.serial}, the signed TXT record says ${serial}`);
      }
      const validUntil = Date.parse(opened.manifest.validUntil);
      if (requireFresh && validUntil <= this.now()) {
        throw new SignedRejection('SIGNED_PACKAGE_INVALID', `package serial ${serial} was valid until ${opened.manifest.validUntil}, already past`);
      }
      let table;
      try {
        table = await loadPackageTable(opened);
      } catch (err) {
        throw new SignedRejection('SIGNED_PACKAGE_INVALID', `package data does not load: ${(err as Error).message}`, { cause: err });
      }
      return { table, record: { createdAt: Date.parse(opened.manifest.created), validUntil } };
    } finally {
      await rm(opened.dir, { recursive: true, force: true });
    }
  }

  // Streams the package into `to`, bounded in size and time; returns its SHA-256.
  private async fetchPackage(record: ValidatedRecord, to: string): Promise<string> {
    const max = this.settings.maxPackageBytes;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.settings.fetchTimeoutSeconds * 1000)]);
    let source: Readable;
    try {
      if (record.url.startsWith('file://')) {
        const path = fileURLToPath(record.url);
        const st = await stat(path);
        if (st.size > max) throw new Error(`it is ${st.size} bytes, over the ${max} allowed`);
        source = createReadStream(path);
      } else {
        const res = await fetch(record.url, { signal, redirect: 'follow' });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
        const len = Number(res.headers.get('content-length') ?? '0');
        if (len > max) throw new Error(`it is ${len} bytes, over the ${max} allowed`);
        source = Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
      }
      let bytes = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes > max) cb(new Error(`it is over the ${max} bytes allowed`));
          else cb(null, chunk);
        },
      });
      await pipeline(source, limit, createWriteStream(to), { signal });
    } catch (err) {
      throw new SignedRejection('SIGNED_FETCH_FAILED', `package could not be fetched from ${record.url}: ${(err as Error).message}`, { cause: err });
    }
    return sha256File(to);
  }
}
