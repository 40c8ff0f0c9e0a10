// The GeoDNS process of the chaos run: `node server-entry.js FILE`, FILE holding
// `{ config, overlay }`: `meridian-dns`'s own start-up (settings through loadDnsConfig, with the
// scheduler's watch stream and a snapshot file; geoip-lite in a worker, the channels of
// GEO_PARTS, the supervisor, the hot-prefix cache), and the overlay's confirmation time
// shortened to fit a run of minutes. Prints one line `{ port, adminPort }` once it answers.
import { readFileSync } from 'node:fs';
import { loadGeoipLite } from '../../dns/geoip';
import { Overlay } from '../../dns/geoip/channels/overlay';
import { startGeoService } from '../../dns/geoip/channels/service';
import { dnsOptionsFromConfig, loadDnsConfig, startDnsServer } from '../../dns/index';
import { GEO_PARTS } from '../../dns/main';

interface EntryInput {
  readonly config: unknown;
  readonly overlay: unknown;
}

async function main(file: string): Promise<void> {
  const input = JSON.parse(readFileSync(file, 'utf8')) as EntryInput;
  const config = loadDnsConfig(input.config);
  const log = (line: string): void => { process.stderr.write(`${line}\n`); };
  const service = await startGeoService(config.geoip, await loadGeoipLite(), { ...GEO_PARTS, overlay: () => new Overlay(input.overlay) }, { log });
  const server = await startDnsServer({ ...dnsOptionsFromConfig(config), geo: service.holder, channels: service.supervisor,
    recorder: service.recorder, log });
  process.stdout.write(`${JSON.stringify({ port: server.port, adminPort: server.adminPort })}\n`);
  process.once('SIGTERM', () => {
    server.close().then(() => service.close()).then(() => process.exit(0), () => process.exit(1));
  });
}

main(process.argv[2]!).catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
