/**
 * The GeoIP package: a tar.gz holding `manifest.json` and a dataset, either geoip-lite's three city
 * data files (the layout the static fallback reads, so one loader serves both) or one MaxMind DB
 * (`geoip.mmdb`). Building, digesting, unpacking and loading it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tar from 'tar';
import { GeoIpError, GeoTable, loadGeoipLite, type PreparedGeoTable } from '../../index';

/** The package format this code writes and reads (`manifest.json`'s `formatVersion`). */
export const PACKAGE_FORMAT_VERSION = 1;

/** geoip-lite's city data files, as `readGeoipLite` reads them. */
export const GEOIP_LITE_FILES = ['geoip-city.dat', 'geoip-city6.dat', 'geoip-city-names.dat'] as const;

/** The name of the MaxMind DB inside a package. */
export const MMDB_FILE = 'geoip.mmdb';

/** `manifest.json` of a package. */
export interface PackageManifest {
  readonly format: 'meridian-geoip';
  readonly formatVersion: number;
  /** Whole number; a consumer accepts only a serial newer than the one it holds. */
  readonly serial: number;
  /** ISO 8601 time the package was built. */
  readonly created: string;
  /** ISO 8601 time after which the data is stale. */
  readonly validUntil: string;
  /** `geoip-lite` (three .dat files) or `mmdb` (`geoip.mmdb`). */
  readonly data: 'geoip-lite' | 'mmdb';
  /** The files next to the manifest, with their sizes in bytes. */
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
}

/** Options of `buildPackage`. */
export interface BuildPackageOptions {
  /** A folder with geoip-lite's three city data files, or a `.mmdb` file. */
  readonly from: string;
  /** Where to write the tar.gz. */
  readonly output: string;
  /** Default: the build time in seconds since the epoch. */
  readonly serial?: number;
  /** Days from `now` until the data is stale; default 7. */
  readonly validDays?: number;
  /** Build time, ms since the epoch; default now. */
  readonly now?: number;
}

/** What `buildPackage` made. */
export interface BuiltPackage {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly manifest: PackageManifest;
}

/** The SHA-256 of a file, hex, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Builds a package from a geoip-lite data folder or a `.mmdb` file; throws naming what is missing. */
export async function buildPackage(o: BuildPackageOptions): Promise<BuiltPackage> {
  const now = o.now ?? Date.now();
  const serial = o.serial ?? Math.floor(now / 1000);
  const validDays = o.validDays ?? 7;
  if (!Number.isSafeInteger(serial) || serial < 0) throw new RangeError(`serial must be a whole number >= 0, got ${serial}`);
  if (!(validDays > 0)) throw new RangeError(`validDays must be > 0, got ${validDays}`);
  const fromStat = await stat(o.from).catch(() => undefined);
  if (!fromStat) throw new Error(`--from ${o.from} does not exist`);
  const isMmdb = fromStat.isFile();
  if (isMmdb && !o.from.endsWith('.mmdb')) throw new Error(`--from ${o.from} is a file but not a .mmdb; give a .mmdb file or a folder with ${GEOIP_LITE_FILES.join(', ')}`);
  const sources: Array<{ name: string; path: string }> = isMmdb
    ? [{ name: MMDB_FILE, path: resolve(o.from) }]
    : GEOIP_LITE_FILES.map((name) => ({ name, path: resolve(join(o.from, name)) }));
  const files: Array<{ name: string; bytes: number }> = [];
  for (const s of sources) {
    const st = await stat(s.path).catch(() => undefined);
    if (!st?.isFile()) throw new Error(`${s.path} is missing: a geoip-lite data folder holds ${GEOIP_LITE_FILES.join(', ')}`);
    files.push({ name: s.name, bytes: st.size });
  }
  if (isMmdb) readMmdbHeaderCheck(await readFile(sources[0]!.path));
  const manifest: PackageManifest = {
    format: 'meridian-geoip', formatVersion: PACKAGE_FORMAT_VERSION, serial,
    created: new Date(now).toISOString(), validUntil: new Date(now + validDays * 86_400_000).toISOString(),
    data: isMmdb ? 'mmdb' : 'geoip-lite', files,
  };
  // The data files are linked into a staging folder, not copied: geoip-lite's are over 100 MB.
  const staging = await mkdtemp(join(resolve(o.output, '..'), '.geoip-package-'));
  try {
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const s of sources) await symlink(s.path, join(staging, s.name));
    await tar.c({ gzip: { level: 6 }, file: o.output, cwd: staging, portable: true, follow: true, noMtime: true },
      ['manifest.json', ...sources.map((s) => s.name)]);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const st = await stat(o.output);
  return { file: o.output, sha256: await sha256File(o.output), bytes: st.size, manifest };
}

const MMDB_MARKER = Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1');

function readMmdbHeaderCheck(db: Buffer): void {
  if (db.lastIndexOf(MMDB_MARKER) < 0) throw new Error('the .mmdb file has no MaxMind DB metadata marker');
}

/** Parses and checks `manifest.json`; throws naming the bad field. */
export function parseManifest(text: string): PackageManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new Error(`manifest.json is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const o = m as Partial<Record<keyof PackageManifest, unknown>>;
  if (typeof m !== 'object' || m === null) throw new Error('manifest.json is not an object');
  if (o.format !== 'meridian-geoip') throw new Error(`manifest.json format must be 'meridian-geoip', got ${JSON.stringify(o.format)}`);
  if (o.formatVersion !== PACKAGE_FORMAT_VERSION) throw new Error(`manifest.json formatVersion ${JSON.stringify(o.formatVersion)} is not supported (this reader knows ${PACKAGE_FORMAT_VERSION})`);
  if (typeof o.serial !== 'number' || !Number.isSafeInteger(o.serial) || o.serial < 0) throw new Error(`manifest.json serial must be a whole number, got ${JSON.stringify(o.serial)}`);
  for (const k of ['created', 'validUntil'] as const) {
    if (typeof o[k] !== 'string' || Number.isNaN(Date.parse(o[k]))) throw new Error(`manifest.json ${k} must be an ISO 8601 time, got ${JSON.stringify(o[k])}`);
  }
  if (o.data !== 'geoip-lite' && o.data !== 'mmdb') throw new Error(`manifest.json data must be 'geoip-lite' or 'mmdb', got ${JSON.stringify(o.data)}`);
  if (!Array.isArray(o.files)) throw new Error('manifest.json files must be a list');
  return m as PackageManifest;
}

/** An unpacked package: its manifest and the folder its files are in. */
export interface OpenedPackage {
  readonly manifest: PackageManifest;
  readonly dir: string;
}

/**
 * Unpacks a package into a new folder under `workDir` and checks it: only the manifest and the
 * files it lists, regular files only, each of the size it says. Throws naming the problem; on a
 * throw nothing is left behind.
 */
export async function openPackage(file: string, workDir: string): Promise<OpenedPackage> {
  await mkdir(workDir, { recursive: true });
  const dir = await mkdtemp(join(workDir, 'unpacked-'));
  try {
    const seen: string[] = [];
    const unexpected: string[] = [];
    const allowed = new Set<string>(['manifest.json', ...GEOIP_LITE_FILES, MMDB_FILE]);
    await tar.x({
      file, cwd: dir, strict: true, preserveOwner: false, noChmod: true,
      // A throw here would escape tar's parser as an uncaught exception: refuse, and fail after.
      filter: (path, entry) => {
        const name = path.replace(/^\.\//, '');
        const type = 'type' in entry ? entry.type : 'File';
        if (!allowed.has(name) || type !== 'File' || seen.includes(name)) {
          unexpected.push(`'${path}' (${type})`);
          return false;
        }
        seen.push(name);
        return true;
      },
    });
    if (unexpected.length) throw new Error(`package holds an unexpected entry ${unexpected.join(', ')}`);
    if (!seen.includes('manifest.json')) throw new Error('package has no manifest.json');
    const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const want = manifest.data === 'mmdb' ? [MMDB_FILE] : [...GEOIP_LITE_FILES];
    const present = (await readdir(dir)).filter((n) => n !== 'manifest.json');
    for (const name of want) {
      if (!present.includes(name)) throw new Error(`package lacks ${name}, which ${manifest.data} data needs`);
      const listed = manifest.files.find((f) => f.name === name);
      const st = await stat(join(dir, name));
      if (listed && listed.bytes !== st.size) throw new Error(`${name} is ${st.size} bytes, the manifest says ${listed.bytes}`);
    }
    return { manifest, dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

type WorkerReply = { ok: true; prepared: PreparedGeoTable } | { ok: false; message: string };

/** Builds the table of an unpacked package off the calling thread (source `dataset`); rejects with `GeoIpError`. */
export async function loadPackageTable(p: OpenedPackage, timeoutMs = 120_000): Promise<GeoTable> {
  if (p.manifest.data === 'geoip-lite') return loadGeoipLite({ dataDir: p.dir, source: 'dataset', timeoutMs });
  return new Promise<GeoTable>((resolvePromise, reject) => {
    const worker = new Worker(join(__dirname, 'mmdb-worker.js'), { workerData: { file: join(p.dir, MMDB_FILE) } });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => finish(() => reject(new GeoIpError('GEOIP_BAD_DATA', `loading ${MMDB_FILE} took over ${timeoutMs} ms`))), timeoutMs);
    worker.once('message', (reply: WorkerReply) => finish(() => {
      if (reply.ok) resolvePromise(new GeoTable(reply.prepared));
      else reject(new GeoIpError('GEOIP_BAD_DATA', reply.message));
    }));
    worker.once('error', (err) => finish(() => reject(new GeoIpError('GEOIP_BAD_DATA', `${MMDB_FILE} loader failed: ${err.message}`, { cause: err }))));
    worker.once('exit', (code) => finish(() => reject(new GeoIpError('GEOIP_BAD_DATA', `${MMDB_FILE} loader exited with code ${code} before answering`))));
  });
}

/** The package's file name for logs. */
export function packageLabel(file: string): string {
  return basename(file);
}
