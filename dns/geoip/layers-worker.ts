// Worker-thread entry: merges layers (see layers.ts) and transfers the merged columns back, so the
// serving thread only wraps them. Serves requests one after another until terminated.
import { parentPort } from 'node:worker_threads';
import { mergeLayers, type GeoLayerData } from './layers';
import type { GeoSource } from './types';

interface Request { readonly id: number; readonly layers: readonly GeoLayerData[]; readonly source: GeoSource }

const port = parentPort;
port?.on('message', (req: Request) => {
  try {
    const prepared = mergeLayers(req.layers, req.source);
    const arrays = [prepared.locationLat, prepared.locationLon, prepared.locationCountry, prepared.v4Bounds, prepared.v4Locations,
      prepared.v6Bounds, prepared.v6Locations, prepared.v4Index, prepared.v6Index, prepared.v4Provenance, prepared.v6Provenance];
    port.postMessage({ id: req.id, ok: true, prepared }, arrays.flatMap((a) => (a ? [a.buffer as ArrayBuffer] : [])));
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    port.postMessage({ id: req.id, ok: false, code: typeof e.code === 'string' ? e.code : 'GEOIP_BAD_DATA', message: String(e.message ?? err) });
  }
});
