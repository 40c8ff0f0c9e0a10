import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Meridian's version, from the package.json above this file (in the source tree or in dist/). */
export function meridianVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'meridian' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
