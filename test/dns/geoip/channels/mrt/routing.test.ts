import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { PeerDown, RoutingUpdate } from '../../../../../dns/geoip/channels';
import { openInput, readElements, RoutingCollector } from '../../../../../dns/geoip/channels/mrt';
import { mrtSamples } from './samples';

async function collect(file: string): Promise<(RoutingUpdate | PeerDown)[]> {
  const c = new RoutingCollector('rrc00');
  await readElements(openInput(file), (e, offset) => c.add(e, offset), (e) => { throw e; });
  return c.records();
}

describe('MRT elements to routing records', function () {
  this.timeout(60_000);

  it('turns an updates file into per-peer records with every announcement and withdrawal bgpdump shows, and sessions leaving Established into peer-downs', async () => {
    const file = mrtSamples().find((f) => f.includes('20160811')) as string;
    const lines = execFileSync('bgpdump', ['-m', file], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n');
    const records = await collect(file);
    const routing = records.filter((r): r is RoutingUpdate => r.kind === 'routing');
    assert.ok(routing.every((r) => !r.full && r.peer.startsWith('rrc00:')));
    const announced = routing.flatMap((r) => r.announce.map((a) => `${r.peer.slice(6)}|${a.prefix}|${a.asPath.join(' ')}`));
    const wantA = lines.filter((l) => l.split('|')[2] === 'A').map((l) => { const f = l.split('|'); return `${f[3]}|${f[5]}|${f[6]}`; });
    assert.deepEqual(announced, wantA);
    const withdrawn = routing.flatMap((r) => r.withdraw.map((w) => `${r.peer.slice(6)}|${w}`));
    assert.deepEqual(withdrawn, lines.filter((l) => l.split('|')[2] === 'W').map((l) => { const f = l.split('|'); return `${f[3]}|${f[5]}`; }));
    const downs = records.filter((r): r is PeerDown => r.kind === 'peer-down').map((r) => r.peer);
    const wantDowns = lines.filter((l) => { const f = l.split('|'); return f[2] === 'STATE' && f[5] === '6' && f[6] !== '6'; }).map((l) => `rrc00:${l.split('|')[3]}`);
    assert.ok(wantDowns.length > 0);
    assert.deepEqual(downs, wantDowns);
    const origin = routing.flatMap((r) => r.announce).find((a) => a.prefix === '192.140.252.0/22');
    assert.equal(origin?.originAs, 135310);
  });

  it('turns a RIB dump into one full table per peer', async () => {
    const file = mrtSamples().find((f) => f.includes('64k_stream')) as string;
    const records = await collect(file);
    assert.ok(records.length > 1);
    assert.ok(records.every((r) => r.kind === 'routing' && r.full && r.withdraw.length === 0));
    const routes = records.reduce((n, r) => n + (r.kind === 'routing' ? r.announce.length : 0), 0);
    assert.equal(routes, 23);
    assert.equal(new Set(records.map((r) => r.peer)).size, records.length);
  });
});
