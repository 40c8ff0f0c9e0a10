/**
 * gdnsd 3 as a second contrast server: its geoip plugin in "City Auto Mode" (nearest datacenter by
 * the coordinates of the client's record) over a MaxMind DB written from geoip-lite's own data,
 * so it answers from the same static data as the geoip-lite-only Meridian, with its own lookup and
 * distance code. One DYNA name per workload, each over that workload's regions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QTYPE } from '../../dns/wire/index';
import { readGeoipLite } from '../../dns/geoip/index';
import { writeGdnsdResources, type GdnsdResource } from '../bench/dns/gdnsd';
import { writeGeoMmdb } from '../bench/dns/mmdb-writer';
import { buildQuery, sendUdp } from '../dns/fixtures';
import { loopbackAddress, startDaemon, type Daemon } from '../tools/daemon';
import { udpPortsOn } from '../tools/sockets';
import { regionsOf, WORKLOAD_NAMES } from './world';

/** A running gdnsd serving the chaos workloads from geoip-lite's data. */
export class Gdnsd {
  readonly address = loopbackAddress();
  /** Its UDP port, once started (it listens on port 0 of an address of its own; the kernel says which port it got). */
  port = 0;
  private readonly dir = mkdtempSync(join(tmpdir(), 'meridian-chaos-gdnsd-'));
  private daemon: Daemon | undefined;
  /** Nodes of the search tree of the database it reads. */
  treeNodes = 0;

  /**
   * Writes the database and the config, starts gdnsd, and resolves once it answers a query with
   * ECS; `address(w, r)` is the instance address of region `r` of workload `w` (indices into the world's lists).
   */
  async start(address: (w: number, r: number) => string): Promise<void> {
    const mmdb = join(this.dir, 'geoip-lite-city.mmdb');
    this.treeNodes = writeGeoMmdb(readGeoipLite(), mmdb, "geoip-lite's city data");
    const resources: GdnsdResource[] = WORKLOAD_NAMES.map((name, w) => ({
      name, regions: regionsOf(w).map((r, i) => ({ ...r, dc: `${r.cloud}-${r.region}`, ipv4: address(w, i) })),
    }));
    const conf = writeGdnsdResources(this.dir, { address: this.address, port: 0 }, mmdb, resources);
    const probe = buildQuery(`${WORKLOAD_NAMES[0]}.meridian.test`, QTYPE.A, { ecs: '192.0.2.0/24' });
    this.daemon = await startDaemon({
      cmd: '/usr/sbin/gdnsd', args: ['-c', conf, 'start'], dir: this.dir, readyTimeoutMs: 60_000,
      ready: async () => {
        this.port = udpPortsOn(this.address)[0] ?? 0;
        return this.port !== 0 && await sendUdp(this.port, probe, 500, this.address).then(() => true, () => false);
      },
    });
  }

  /** SIGTERM (SIGKILL after 3 s) and remove its folder. */
  async stop(): Promise<void> {
    await this.daemon?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What it printed (for errors). */
  log(): string {
    return this.daemon?.output() ?? '';
  }
}
