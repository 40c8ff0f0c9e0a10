import { GEO_CHANNELS, GEO_LAYERS, type GeoChannelName, type GeoSource } from './types';

/**
 * A range's provenance (the layer and the channel that produced it) packed in one small integer,
 * so a merged table keeps it in a byte column and an answer carries it without allocating.
 */
export type ProvenanceCode = number;

/** The code of an answer no range decided (no entry for the address). */
export const NO_PROVENANCE: ProvenanceCode = GEO_LAYERS.length * GEO_CHANNELS.length;

/** Number of distinct codes, `NO_PROVENANCE` included: the size of a counter array indexed by code. */
export const PROVENANCE_CODES = NO_PROVENANCE + 1;

/** The code of (layer, channel). */
export function provenanceCode(layer: GeoSource, channel: GeoChannelName): ProvenanceCode {
  return GEO_LAYERS.indexOf(layer) * GEO_CHANNELS.length + GEO_CHANNELS.indexOf(channel);
}

/** The channel a table of `source` comes from when it carries no provenance column. */
export function defaultChannel(source: GeoSource): GeoChannelName {
  return source === 'dataset' ? 'signed' : source === 'overlay' ? 'bgp' : 'static';
}

/** The layer of a code (`none` for `NO_PROVENANCE`). */
export function layerOf(code: ProvenanceCode): GeoSource | 'none' {
  return code >= NO_PROVENANCE ? 'none' : GEO_LAYERS[Math.floor(code / GEO_CHANNELS.length)]!;
}

/** The channel of a code (`none` for `NO_PROVENANCE`). */
export function channelOf(code: ProvenanceCode): GeoChannelName | 'none' {
  return code >= NO_PROVENANCE ? 'none' : GEO_CHANNELS[code % GEO_CHANNELS.length]!;
}
