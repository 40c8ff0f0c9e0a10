import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { QTYPE } from '../../dns/wire/index';
import { loopbackAddress } from '../tools/daemon';
import { waitFor } from '../tools/wait';
import dgram from 'node:dgram';
import { decode } from '../../dns/wire/index';
import { addressesOf, buildQuery } from './fixtures';

function sendUdp(address: string, port: number, payload: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error(`no UDP answer from ${address}:${port} within ${timeoutMs} ms`)); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.send(payload, port, address);
  });
}

describe('GeoDNS cluster mode with GeoIP channels', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;
  const address = loopbackAddress();

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
  });

  it('runs the supervisor once in the primary, hands every new table to each worker, takes the workers\' answered prefixes, and takes channel actions through any worker\'s admin API', async () => {
    child = spawn(process.execPath, [path.join(__dirname, 'cluster-geo-entry.js'), '--address', address, '--port', '5300', '--admin-port', '8053'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`cluster not ready: ${err}`)), 30_000);
      child!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready 2')) { clearTimeout(t); resolve(); } });
      child!.once('exit', (code) => { clearTimeout(t); reject(new Error(`cluster exited ${String(code)}: ${err}`)); });
    });
    // Each query comes from a fresh socket (a fresh source port), so SO_REUSEPORT spreads them over both workers.
    const answers = async (): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < 16; i++) {
        const m = decode(await sendUdp(address, 5300, buildQuery('web.meridian.test', QTYPE.A, { ecs: '10.1.2.0/24' }), 2000));
        out.push(...addressesOf(m));
      }
      return [...new Set(out)];
    };
    // The signed channel's dataset (10/8 in Paris) reached every worker.
    await waitFor('every worker to answer from the dataset', async () => (await answers()).join() === '192.0.2.2', 20_000, 100);
    // The workers forward the client prefixes they answered to the primary (the hot-prefix cache's
    // side), in batches: 10.1.2.0/24 arrives with the dataset's Paris.
    await waitFor('the answered prefix at the primary', () => out.includes('noted 10.1.2.0 48.85 2.35'), 10_000, 50);
    const admin = `http://${address}:8053`;
    const res = await fetch(`${admin}/geo/channels/signed/fail`, { method: 'POST' });
    assert.equal(res.status, 200, await res.text());
    // Back to the static table (10/8 in Tokyo) everywhere.
    await waitFor('every worker to answer from the static table', async () => (await answers()).join() === '192.0.2.3', 20_000, 100);
    const status = await (await fetch(`${admin}/geo/channels`)).json() as { driving: string; channels: { name: string; state: string }[] };
    assert.deepEqual([status.driving, status.channels.map((c) => `${c.name}:${c.state}`)], ['bgp', ['bgp:up', 'signed:failed', 'static:up']]);
    // The routing overlay runs in the primary: a worker's /geo/lookup asks it why the routed prefix is located where it is.
    const lookup = await (await fetch(`${admin}/geo/lookup?ip=10.1.2.3`)).json() as { route: { prefix: string; originAs: number; decision: string; routes: unknown[] } | null };
    assert.deepEqual([lookup.route?.prefix, lookup.route?.originAs, lookup.route?.decision, lookup.route?.routes], ['10.1.0.0/16', 64500, 'dataset', [{ peer: 'bgp:192.0.2.9', originAs: 64500 }]]);
    assert.equal((await (await fetch(`${admin}/geo/lookup?ip=11.0.0.1`)).json() as { route: unknown }).route, null, 'no route covers it');
    assert.match(await (await fetch(`${admin}/metrics`)).text(), /^meridian_dns_bgp_suspected_hijacks_total 0$/m);
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
