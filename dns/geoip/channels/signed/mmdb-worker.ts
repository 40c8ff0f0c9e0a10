// Worker-thread entry: reads a MaxMind DB, validates and indexes the table, and transfers the typed
// arrays back, so the serving thread only wraps them (see package.ts).
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareGeoTable } from '../../index';
import { readMmdb } from './mmdb';

const port = parentPort;
if (port) {
  try {
    const prepared = prepareGeoTable(readMmdb(readFileSync((workerData as { file: string }).file)));
    const arrays = [prepared.locationLat, prepared.locationLon, prepared.locationCountry, prepared.v4Bounds,
      prepared.v4Locations, prepared.v6Bounds, prepared.v6Locations, prepared.v4Index, prepared.v6Index];
    port.postMessage({ ok: true, prepared }, arrays.map((a) => a.buffer as ArrayBuffer));
  } catch (err) {
    port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
  }
}
