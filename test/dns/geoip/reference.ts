// geoip-lite's own lookup, the reference our table is checked against (the package ships no types).
import { createRequire } from 'node:module';

/** The subset of a geoip-lite result the comparison uses. */
export interface GeoipLiteResult {
  readonly country: string;
  readonly ll: readonly [number | null, number | null];
}

/** geoip-lite's public API as used here. */
export interface GeoipLiteModule {
  lookup(ip: string | number): GeoipLiteResult | null;
}

const load = createRequire(__filename);

/** The geoip-lite module (loads its data on first require). */
export function geoipLite(): GeoipLiteModule {
  return load('geoip-lite') as GeoipLiteModule;
}

/** A small deterministic PRNG (xorshift32) so a failing case can be replayed from its seed. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
