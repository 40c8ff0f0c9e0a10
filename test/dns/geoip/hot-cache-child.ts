// Child process of the hot-prefix cache's crash test:
//   node hot-cache-child.js <cache file> <count> <flushIntervalMs>
// Opens the cache, notes <count> IPv4 /24s and <count> IPv6 /48s (locations from `fixtureLocation`),
// prints "flushed <records>" once the cache's own timer has written them, then keeps noting further
// prefixes until it is killed.
import { HotPrefixCache } from '../../../dns/geoip/channels/hot-cache';
import { fixtureLocation, fixtureV4, fixtureV6 } from './hot-cache-fixtures';

async function main(): Promise<void> {
  const [path, countText, intervalText] = process.argv.slice(2);
  const count = Number(countText);
  const cache = await HotPrefixCache.open({ path, maxPrefixes: 4 * count + 1000, ttlHours: 72, flushIntervalMs: Number(intervalText) });
  for (let i = 0; i < count; i++) {
    const loc = fixtureLocation(i);
    cache.noteV4(fixtureV4(i), loc.lat, loc.lon, loc.country);
    const [w0, w1] = fixtureV6(i);
    cache.noteV6(w0, w1, loc.lat, loc.lon, loc.country);
  }
  const watch = setInterval(() => {
    const written = cache.stats().writtenRecords;
    if (written < 2 * count) return;
    clearInterval(watch);
    process.stdout.write(`flushed ${written}\n`);
    // Keep the process busy noting until the parent kills it: a write may be in flight then.
    let i = count;
    setInterval(() => {
      for (let k = 0; k < 50; k++, i++) {
        const loc = fixtureLocation(i);
        cache.noteV4(fixtureV4(i), loc.lat, loc.lon, loc.country);
      }
    }, 1);
  }, 5);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
