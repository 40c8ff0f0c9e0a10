// Deterministic prefixes and locations for the hot-prefix cache's tests and benchmark.
import { packCountry } from '../../../dns/geoip';

const COUNTRIES = ['DE', 'FR', 'JP', 'US', 'BR', 'AU', 'ZA', 'IN'].map(packCountry);

/** Location number `i`: coordinates with 7 decimals (the precision the cache keeps) and a country. */
export function fixtureLocation(i: number): { lat: number; lon: number; country: number } {
  return {
    lat: (((i * 7919) % 1_800_000_000) - 900_000_000) / 1e7,
    lon: (((i * 104_729) % 3_600_000_000) - 1_800_000_000) / 1e7,
    country: COUNTRIES[i % COUNTRIES.length],
  };
}

/** An IPv4 address (u32) in the `i`-th of 2^24 distinct /24s, with host bits set. */
export function fixtureV4(i: number): number {
  // 0x9e3779b1 is odd, so i -> i * it mod 2^24 is a permutation of the /24s.
  return ((Math.imul(i, 0x9e3779b1) & 0xffffff) * 256 + (i & 0xff)) >>> 0;
}

/** The first two words of an IPv6 address in the `i`-th distinct /48 under 2001:db8::/32's neighbours. */
export function fixtureV6(i: number): [number, number] {
  return [(0x20010000 + (i >>> 16)) >>> 0, (((i & 0xffff) << 16) | 0x1234) >>> 0];
}
