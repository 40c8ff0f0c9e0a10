// Small datasets and packages for the signed channel's tests, and a sink that applies what a
// channel emits to a table holder as the supervisor would.
import { join } from 'node:path';
import type { ChannelRecord, ChannelSink, LocationUpdate } from '../../../../../dns/geoip/channels/index';
import { GeoTable, GeoTableHolder } from '../../../../../dns/geoip/index';
import { writeGeoipLiteFixture } from '../../fixtures';

/** A London address in dataset A, in Berlin in dataset B. */
export const MOVED_IP = '81.2.69.160';
/** A Tokyo address in both datasets. */
export const TOKYO_IP = '1.0.16.1';

/** Writes dataset A (81.2.69.0/24 in GB) or B (81.2.69.0/24 moved to DE) as geoip-lite files under `root`; returns the folder. */
export function writeDataset(root: string, which: 'A' | 'B'): string {
  const dir = join(root, `dataset-${which}`);
  const first = which === 'A' ? { c: 'GB', lat: 51.5142, lon: -0.0931 } : { c: 'DE', lat: 52.52, lon: 13.405 };
  writeGeoipLiteFixture(dir, [first.c, 'JP', 'US'], [
    { start: '1.0.16.0', end: '1.0.16.255', nameId: 1, lat: 35.6895, lon: 139.6917 },
    { start: '81.2.69.0', end: '81.2.69.255', nameId: 0, lat: first.lat, lon: first.lon },
  ], [
    { start: '2001:db8::', end: '2001:db8::ffff', nameId: 2, lat: 37.751, lon: -97.822 },
  ]);
  return dir;
}

/** A sink that swaps each emitted dataset into a holder, and what it saw. */
export interface Recorder {
  readonly holder: GeoTableHolder;
  readonly updates: LocationUpdate[];
  readonly sink: ChannelSink;
  healthChanges: number;
}

/** A recorder whose holder starts with a one-range table that places everything at 0,0 with no country. */
export function recorder(): Recorder {
  const holder = new GeoTableHolder(GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 0, lon: 0, country: '' }]));
  const r: Recorder = {
    holder, updates: [], healthChanges: 0,
    sink: {
      records: (rec: ChannelRecord) => {
        if (rec.kind !== 'locations') throw new Error(`a signed channel emitted a ${rec.kind} record`);
        r.updates.push(rec);
        holder.swap(rec.table);
      },
      healthChanged: () => { r.healthChanges++; },
    },
  };
  return r;
}

/** The country the holder's table gives `ip`. */
export function countryOf(r: Recorder, ip: string): string | undefined {
  return r.holder.current.lookup(ip)?.country;
}
