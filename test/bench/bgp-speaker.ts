// The process the BGP benchmark measures: Meridian's BGP channel alone (passive, one neighbour),
// reporting over IPC how many routes its Adj-RIB-In holds, its RSS and its CPU time. Started by
// `bgp.bench.ts` with `--expose-gc`; settings as JSON in argv[2]; `--overlay` also feeds the overlay.
import { BgpChannel } from '../../dns/geoip/channels/bgp';
import { Overlay } from '../../dns/geoip/channels/overlay';

/** What the speaker process reports. */
export interface SpeakerStatus {
  readonly prefixes: number;
  readonly rssBytes: number;
  readonly cpuMicros: number;
  readonly listenPort: number | undefined;
  readonly established: boolean;
  readonly overlayPrefixes: number;
}

async function main(): Promise<void> {
  const channel = new BgpChannel(JSON.parse(process.argv[2]) as unknown);
  const overlay = process.argv.includes('--overlay') ? new Overlay() : undefined;
  await channel.start({ records: (r) => { if (overlay && r.kind !== 'locations') overlay.apply(r, 'bgp'); }, healthChanged: () => undefined });
  process.on('message', (m: unknown) => {
    if (m === 'stop') {
      void channel.stop().then(() => process.exit(0));
      return;
    }
    if (m === 'gc') (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    const status: SpeakerStatus = {
      prefixes: channel.health().prefixes, rssBytes: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system,
      listenPort: channel.listenPort, established: channel.peers().some((p) => p.state === 'Established'),
      overlayPrefixes: overlay?.size ?? 0,
    };
    process.send?.(status);
  });
  process.send?.('ready');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
