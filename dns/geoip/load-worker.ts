// Worker-thread entry: reads geoip-lite's data, validates and indexes it, and transfers the typed
// arrays back, so the serving thread only wraps them (see loader.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { readGeoipLite, type GeoipLiteOptions } from './geoip-lite';
import { prepareGeoTable } from './table';

const port = parentPort;
if (port) {
  try {
    const prepared = prepareGeoTable(readGeoipLite(workerData as GeoipLiteOptions));
    const arrays = [prepared.locationLat, prepared.locationLon, prepared.locationCountry, prepared.v4Bounds,
      prepared.v4Locations, prepared.v6Bounds, prepared.v6Locations, prepared.v4Index, prepared.v6Index];
    port.postMessage({ ok: true, prepared }, arrays.map((a) => a.buffer as ArrayBuffer));
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    port.postMessage({ ok: false, code: typeof e.code === 'string' ? e.code : 'GEOIP_BAD_DATA', message: String(e.message ?? err) });
  }
}
