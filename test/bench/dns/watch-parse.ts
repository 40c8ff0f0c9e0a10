// GeoDNS watch client on a large snapshot: a local server sends one snapshot event of N workloads
// (each in 7 regions with an instance, as in workloads-memory.ts) in chunks of `--chunk-kib` KiB,
// and the client decodes it. CPU time is this process's, from the request to the decoded snapshot;
// the server's part is writing pre-built strings. Linear framing shows as a flat CPU per 1,000
// workloads as N grows.
// Usage: node dist/test/bench/dns/watch-parse.js [--workloads 1000,10000,20000] [--chunk-kib 16] [--rounds 3]
// Prints one JSON line per N: { workloads, snapshotMiB, cpuMs (median of the rounds), cpuMsPer1000 }.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WatchClient } from '../../../dns/watch/client';
import { manyWorkload } from './workloads-memory';

function list(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const values = String(process.argv[i + 1]).split(',').map(Number);
  if (!values.every((v) => Number.isInteger(v) && v >= 1)) throw new Error(`${name} takes whole numbers >= 1, got ${String(process.argv[i + 1])}`);
  return values;
}

/** Decodes one snapshot of `body` served in `chunk`-character writes; CPU milliseconds of this process. */
async function once(body: string, chunk: number, workloads: number): Promise<number> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < body.length; i += chunk) res.write(body.slice(i, i + chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    return await new Promise<number>((resolve, reject) => {
      const start = process.cpuUsage();
      const client = new WatchClient({ url, token: 'bench', minBackoffMs: 10_000, maxBackoffMs: 10_000 }, (ev) => {
        const used = process.cpuUsage(start);
        client.stop();
        if (ev.type !== 'snapshot' || ev.workloads.length !== workloads) reject(new Error(`expected a snapshot of ${workloads} workloads, got ${ev.type}`));
        else resolve((used.user + used.system) / 1000);
      }, (line) => { client.stop(); reject(new Error(line)); });
      client.start();
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function main(): Promise<void> {
  const sizes = list('--workloads', [1000, 10_000, 20_000]);
  const [chunkKiB] = list('--chunk-kib', [16]);
  const [rounds] = list('--rounds', [3]);
  for (const n of sizes) {
    const workloads = Array.from({ length: n }, (_, k) => JSON.stringify(manyWorkload(k, 3)));
    const body = `event: snapshot\nid: 1\ndata: {"revision":1,"stateId":"000000000001","workloads":[${workloads.join(',')}]}\n\n`;
    const cpu: number[] = [];
    for (let r = 0; r < rounds; r++) cpu.push(await once(body, chunkKiB * 1024, n));
    cpu.sort((a, b) => a - b);
    const cpuMs = cpu[Math.floor(cpu.length / 2)]!;
    console.log(JSON.stringify({ workloads: n, snapshotMiB: +(body.length / 2 ** 20).toFixed(1), chunkKiB, rounds: cpu.map(Math.round),
      cpuMs: Math.round(cpuMs), cpuMsPer1000: +(cpuMs / (n / 1000)).toFixed(1) }));
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
