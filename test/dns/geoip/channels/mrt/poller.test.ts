import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AFI_IPV4 } from '../../../../../dns/geoip/channels/bgp/attributes';
import type { ChannelRecord, ChannelSink } from '../../../../../dns/geoip/channels';
import { encodeRecord, type MrtRecord } from '../../../../../dns/geoip/channels/mrt';
import { RisChannel } from '../../../../../dns/geoip/channels/mrt/poller';
import { parseRisSettings, RisSettingsError } from '../../../../../dns/geoip/channels/mrt/settings';
import { waitFor } from '../../../../tools/wait';

const DAY = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function bview(): Buffer {
  const t = DAY / 1000;
  const records: MrtRecord[] = [
    { kind: 'peer-index', timestamp: t, collectorId: '193.0.4.28', viewName: '', peers: [
      { bgpId: '10.0.0.1', address: '192.0.2.1', asn: 64500 }, { bgpId: '10.0.0.2', address: '192.0.2.2', asn: 64501 }] },
    ...[0, 1, 2].map((i): MrtRecord => ({
      kind: 'rib', timestamp: t, subtype: 2, sequence: i, afi: AFI_IPV4, safi: 1, prefix: `10.${i}.0.0/16`,
      entries: [0, 1].map((p) => ({ peerIndex: p, originatedAt: t, attributes: { origin: 0, asPath: [{ type: 2, asns: [64500 + p, 3333 + i] }], nextHop: `192.0.2.${p + 1}` } })),
    })),
  ];
  return gzipSync(Buffer.concat(records.map((r) => encodeRecord(r))));
}

/** An updates file whose one UPDATE from peer 192.0.2.1 announces 198.51.<n>.0/24 from AS 65000+n. */
function updates(n: number): Buffer {
  const record: MrtRecord = {
    kind: 'bgp4mp-message', timestamp: DAY / 1000 + n * 300 + 10, microseconds: undefined, subtype: 4, peerAs: 64500, localAs: 12654,
    interfaceIndex: 0, afi: AFI_IPV4, peerAddress: '192.0.2.1', localAddress: '193.0.4.28', messageType: 2, body: undefined,
    update: { withdrawn: n > 1 ? [{ prefix: `198.51.${n - 1}.0/24` }] : [], attributes: { origin: 0, asPath: [{ type: 2, asns: [64500, 65000 + n] }], nextHop: '192.0.2.1' }, announce: [{ prefix: `198.51.${n}.0/24` }] },
  };
  return gzipSync(encodeRecord(record));
}

function updatesName(n: number): string {
  const m = n * 5;
  return `updates.20260101.${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}.gz`;
}

class Sink implements ChannelSink {
  readonly got: ChannelRecord[] = [];
  readonly errors: string[] = [];
  constructor(private readonly channel: () => RisChannel) {}
  records(r: ChannelRecord): void { this.got.push(r); }
  healthChanged(): void {
    const e = this.channel().health().lastError;
    if (e !== undefined && this.errors[this.errors.length - 1] !== e) this.errors.push(e);
  }
}

function announced(records: readonly ChannelRecord[]): string[] {
  return records.flatMap((r) => (r.kind === 'routing' && !r.full ? r.announce.map((a) => `${a.prefix} AS${a.originAs}`) : []));
}

describe('RIS poller channel', function () {
  this.timeout(60_000);
  let dir: string;
  let server: Server;
  let base: string;
  let requests: string[];
  const channels: RisChannel[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-ris-'));
    mkdirSync(join(dir, 'rrc00', '2026.01'), { recursive: true });
    requests = [];
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push(path);
      const local = join(dir, path);
      try {
        if (path.endsWith('/')) {
          // An autoindex page, as RIS's archive serves.
          const names = readdirSync(local);
          res.end(`<html><body>${names.map((n) => `<a href="${n}">${n}</a>`).join('\n')}</body></html>`);
        } else {
          res.end(readFileSync(local));
        }
      } catch {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await Promise.all(channels.splice(0).map((c) => c.stop()));
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  function start(clock: { now: number }, sink?: Sink): { channel: RisChannel; sink: Sink } {
    const channel = new RisChannel({ baseUrl: base, collectors: ['rrc00'], stateFile: join(dir, 'state', 'ris.json'),
      pollIntervalSeconds: 0.05, retryIntervalSeconds: 0.05, maxAttemptsPerFile: 50 }, { now: () => clock.now });
    channels.push(channel);
    const s = sink ?? new Sink(() => channel);
    return { channel, sink: s };
  }

  it('bootstraps from the latest bview, applies five updates files in order, retries a corrupt one, and resumes after a restart', async () => {
    const month = join(dir, 'rrc00', '2026.01');
    writeFileSync(join(month, 'bview.20260101.0000.gz'), bview());
    const good3 = updates(3);
    for (const n of [1, 2, 3, 4, 5]) writeFileSync(join(month, updatesName(n)), n === 3 ? good3.subarray(0, good3.length - 12) : updates(n));
    const clock = { now: DAY + 27 * MIN };
    const { channel, sink } = start(clock);
    assert.equal(channel.health().state, 'starting');
    await channel.start(sink);

    await waitFor('the corrupt third file to fail', () => channel.events.some((e) => e.outcome === 'failed'), 10_000);
    assert.deepEqual(announced(sink.got), ['198.51.1.0/24 AS65001', '198.51.2.0/24 AS65002']);
    assert.match(sink.errors.join('\n'), /updates\.20260101\.0015\.gz failed \(attempt 1 of 50\): .*(incomplete|corrupt)/);
    writeFileSync(join(month, updatesName(3)), good3);

    await waitFor('all five updates files applied', () => channel.events.some((e) => e.file === updatesName(5) && e.outcome === 'applied'), 10_000);
    const full = sink.got.filter((r) => r.kind === 'routing' && r.full);
    assert.deepEqual(full.map((r) => r.kind === 'routing' && `${r.peer} ${r.announce.length}`), ['rrc00:192.0.2.1 3', 'rrc00:192.0.2.2 3']);
    assert.equal(sink.got.indexOf(full[0]), 0, 'the bview comes first');
    assert.deepEqual(announced(sink.got), [1, 2, 3, 4, 5].map((n) => `198.51.${n}.0/24 AS${65000 + n}`));
    const withdrawn = sink.got.flatMap((r) => (r.kind === 'routing' ? r.withdraw : []));
    assert.deepEqual(withdrawn, ['198.51.1.0/24', '198.51.2.0/24', '198.51.3.0/24', '198.51.4.0/24']);
    const health = channel.health();
    assert.equal(health.state, 'up');
    assert.equal(health.lastDataAt, DAY + 30 * MIN);
    assert.equal(health.prefixes, 6);
    assert.equal(health.lastError, undefined);
    const state = JSON.parse(readFileSync(join(dir, 'state', 'ris.json'), 'utf8')) as { collectors: { rrc00: { bview: string; updates: string[] } } };
    assert.equal(state.collectors.rrc00.bview, 'bview.20260101.0000.gz');
    assert.deepEqual(state.collectors.rrc00.updates, [1, 2, 3, 4, 5].map(updatesName));
    await channel.stop();
    assert.equal(channel.health().state, 'paused');

    // Two more files appear while it is down; the age shows once the clock moves on.
    for (const n of [6, 7]) writeFileSync(join(month, updatesName(n)), updates(n));
    clock.now = DAY + 80 * MIN;
    const restarted = start(clock);
    requests = [];
    await restarted.channel.start(restarted.sink);
    await waitFor('updates 6 and 7 applied after the restart', () => restarted.channel.events.some((e) => e.file === updatesName(7)), 10_000);
    const outcomes = restarted.channel.events.map((e) => `${e.outcome} ${e.file}`);
    assert.deepEqual(outcomes, [
      'replayed bview.20260101.0000.gz', ...[1, 2, 3, 4, 5].map((n) => `replayed ${updatesName(n)}`),
      `applied ${updatesName(6)}`, `applied ${updatesName(7)}`,
    ]);
    assert.deepEqual(announced(restarted.sink.got), [1, 2, 3, 4, 5, 6, 7].map((n) => `198.51.${n}.0/24 AS${65000 + n}`));
    assert.equal(requests.filter((r) => r.endsWith(updatesName(6))).length, 1);
    assert.equal(restarted.channel.health().lastDataAt, DAY + 40 * MIN);
    assert.equal(restarted.channel.health().state, 'stale');
  });

  it('reads a mirror through file:// and reports a collector without any bview as down', async () => {
    writeFileSync(join(dir, 'rrc00', '2026.01', 'bview.20260101.0000.gz'), bview());
    writeFileSync(join(dir, 'rrc00', '2026.01', updatesName(1)), updates(1));
    const clock = { now: DAY + 6 * MIN };
    const channel = new RisChannel({ baseUrl: pathToFileURL(dir).href, collectors: ['rrc00', 'rrc01'], stateFile: join(dir, 'st.json'),
      pollIntervalSeconds: 0.05, retryIntervalSeconds: 0.05 }, { now: () => clock.now });
    channels.push(channel);
    const sink = new Sink(() => channel);
    await channel.start(sink);
    await waitFor('the file:// mirror applied', () => announced(sink.got).length === 1, 10_000);
    await waitFor('rrc01 reported', () => (channel.health().lastError ?? '').includes('rrc01: no bview file'), 10_000);
    assert.equal(channel.health().state, 'up');
  });

  it('rejects settings with every bad key named', () => {
    assert.throws(() => parseRisSettings({ baseUrl: 'ftp://x', collectors: ['rrc1'], pollIntervalSeconds: 0 }), (e: RisSettingsError) => {
      const paths = e.issues.map((i) => i.path);
      return ['/baseUrl', '/collectors/0', '/pollIntervalSeconds', '/stateFile'].every((p) => paths.includes(p));
    });
    const s = parseRisSettings({ stateFile: '/tmp/x.json' });
    assert.equal(s.pollIntervalSeconds, 300);
    assert.ok(Object.isFrozen(s));
  });
});
