import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CatalogFileError, catalogGeneration, installCatalog, readCatalogFile, type CloudCatalogData, type CloudId } from '../../providers';

/** A catalog file as read, with the modification time and size it had then. */
interface LoadedCatalog {
  readonly version: string;
  readonly data: Readonly<Record<CloudId, CloudCatalogData>>;
}

// Per absolute path: the data of the file's last version read; a refreshed file is read again.
const loaded = new Map<string, LoadedCatalog>();

// What this module installed last ('' is the bundled catalog) and the generation that install got:
// a different generation means something else in the process installed a catalog since.
let installed = { key: '', generation: catalogGeneration() };

function install(key: string, data?: Readonly<Record<CloudId, CloudCatalogData>>): void {
  if (installed.key === key && installed.generation === catalogGeneration()) return;
  installCatalog(data);
  installed = { key, generation: catalogGeneration() };
}

/**
 * Installs the catalog an Instance's `catalogFile` input names, or the bundled one when it names
 * none, so that the region and size checks (and the drivers) of this process answer from it. A
 * relative path starts at `cwd`: Pulumi runs the provider in the project directory, where the
 * program resolved the same path. A file is read again only when its modification time or size
 * changed. Returns why the file cannot be used (the bundled catalog is then installed), or undefined.
 */
export function useInstanceCatalog(catalogFile: string | undefined, cwd: string): string | undefined {
  if (catalogFile === undefined) {
    install('');
    return undefined;
  }
  const path = isAbsolute(catalogFile) ? catalogFile : resolve(cwd, catalogFile);
  try {
    let version: string;
    try {
      const stat = statSync(path);
      version = `${stat.mtimeMs} ${stat.size}`;
    } catch (err) {
      throw new CatalogFileError(path, [{ path: '', message: `cannot be read: ${(err as Error).message}` }]);
    }
    let entry = loaded.get(path);
    if (entry?.version !== version) {
      entry = { version, data: readCatalogFile(path) };
      loaded.set(path, entry);
    }
    install(`${path}\n${version}`, entry.data);
    return undefined;
  } catch (err) {
    if (!(err instanceof CatalogFileError)) throw err;
    loaded.delete(path);
    install('');
    return err.message;
  }
}
