import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLIENT_JS } from './client';
import { PAGE_CSS } from './page';

/** One static file of the status page. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  /** Third-party files never change for an installed version; the page's own are revalidated. */
  readonly cacheControl: string;
}

const JS = 'text/javascript; charset=utf-8';
const VENDOR_CACHE = 'public, max-age=86400';

/**
 * Every file under `/ui/assets/`, read once: the page's script and style, and the map's libraries
 * and country shapes from the installed packages (d3-geo's UMD build needs d3-array's as the
 * global `d3` first). Nothing is fetched from a CDN or tile server.
 */
export function loadAssets(): ReadonlyMap<string, Asset> {
  // d3-array and d3-geo export only their bundles, which sit in dist/ beside the UMD builds; topojson-client's main is in dist/ too.
  const d3Array = dirname(require.resolve('d3-array'));
  const d3Geo = dirname(require.resolve('d3-geo'));
  const topojson = dirname(require.resolve('topojson-client'));
  const atlas = dirname(require.resolve('world-atlas/package.json'));
  const vendor = (file: string, contentType: string): Asset => ({ body: readFileSync(file), contentType, cacheControl: VENDOR_CACHE });
  return new Map<string, Asset>([
    ['app.js', { body: Buffer.from(CLIENT_JS), contentType: JS, cacheControl: 'no-cache' }],
    ['app.css', { body: Buffer.from(PAGE_CSS), contentType: 'text/css; charset=utf-8', cacheControl: 'no-cache' }],
    ['d3-array.min.js', vendor(join(d3Array, 'd3-array.min.js'), JS)],
    ['d3-geo.min.js', vendor(join(d3Geo, 'd3-geo.min.js'), JS)],
    ['topojson-client.min.js', vendor(join(topojson, 'topojson-client.min.js'), JS)],
    ['countries-110m.json', vendor(join(atlas, 'countries-110m.json'), 'application/json; charset=utf-8')],
  ]);
}
