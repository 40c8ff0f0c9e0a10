// Through the DNS: a meridian-dns process peers with BIRD 2 and GoBGP (which relays BIRD's routes),
// and answers real UDP queries with EDNS Client Subnet from dig. A prefix whose origin moves on both
// peers to an AS homed in North America moves its clients from Europe to us-east-1 once the
// confirmation time has passed; a more-specific that GoBGP alone announces from that AS moves
// nothing, and is counted, listed and explained.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loopbackAddress } from '../tools/daemon';
import { waitFor, waitForValue } from '../tools/wait';
import { region, runClient, workload } from './fixtures';
import { birdConfig, gobgpConfig, startBird, startGobgp, type Bird, type BirdOptions, type Gobgp, type SampleRoute } from './geoip/channels/bgp/fixtures';

const ENTRY = join(__dirname, '..', '..', 'dns', 'main.js');
const MERIDIAN_AS = 4200000001;
const BIRD_AS = 65010;
const GOBGP_AS = 65020;
// In geoip-lite's data 193.0.0.0/19 is in the Netherlands and 45.0.0.0/15 in the United States.
const EU_AS = 64500;
const US_AS = 64501;
const REHOME_AFTER_SECONDS = 4;
const US_ADDRESS = '192.0.2.10';
const EU_ADDRESS = '192.0.2.20';

function table(moved: boolean): SampleRoute[] {
  return [
    { prefix: '193.0.0.0/21', asPath: [EU_AS] },
    { prefix: '193.0.8.0/21', asPath: [EU_AS] },
    { prefix: '193.0.16.0/21', asPath: [moved ? US_AS : EU_AS] },
    { prefix: '45.0.0.0/15', asPath: [3356, US_AS] },
    { prefix: '12.0.0.0/20', asPath: [3356, US_AS] },
  ];
}

interface Lookup {
  layer: string | null;
  location: { country: string; continent: string } | null;
  route: {
    prefix: string; originAs: number | null; asPath: number[]; decision: string; reason: string;
    routes: { peer: string; originAs: number }[];
    originChanges: { newOrigin: number; peers: string[]; firstSeenAt: number; suspected: boolean }[];
  } | null;
}

interface HijackListing {
  prefix: string; oldOrigin: number | null; newOrigin: number; coveringPrefix: string | null; peers: string[];
  firstSeenAt: number; reportedAt: number; endedAt: number | null;
}

interface Channels {
  channels: { name: string; state: string; prefixes: number }[];
  table: { generation: number; builtAt: number | null };
  suspectedHijacks: { total: number; active: number; recent: HijackListing[] };
}

describe('meridian-dns answers through the routing overlay fed by BIRD 2 and GoBGP', function () {
  this.timeout(120_000);
  const me = loopbackAddress();
  const birdAddr = loopbackAddress();
  const gobgpAddr = loopbackAddress();
  let dir: string;
  let child: ChildProcess | undefined;
  let stderr = '';
  let bird: Bird | undefined;
  let gobgp: Gobgp | undefined;
  let birdOptions: BirdOptions;
  let dnsPort = 0;
  let admin = '';

  const getJson = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${admin}${path}`);
    assert.equal(res.status, 200, `GET ${path}`);
    return (await res.json()) as T;
  };
  const lookup = (ip: string): Promise<Lookup> => getJson<Lookup>(`/geo/lookup?ip=${ip}`);
  const channels = (): Promise<Channels> => getJson<Channels>('/geo/channels');
  // dig over UDP with the client's address as its ECS subnet: the addresses answered.
  const answer = async (client: string): Promise<string> =>
    (await runClient('dig', [`@127.0.0.1`, '-p', String(dnsPort), 'web.meridian.test', 'A', '+short', '+tries=1', '+time=2', `+subnet=${client}/32`])).trim();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-geo-bgp-'));
    const snapshot = join(dir, 'snapshot.json');
    const web = workload('web', [region('aws', 'us-east-1', [US_ADDRESS]), region('azure', 'westeurope', [EU_ADDRESS])]);
    writeFileSync(snapshot, JSON.stringify({ revision: 1, savedAt: new Date().toISOString(), workloads: [web] }));
    const config = join(dir, 'dns.json');
    writeFileSync(config, JSON.stringify({ geoip: {
      minSwapIntervalSeconds: 0, cache: { enabled: false },
      overlay: { reHomeMinPeers: 2, reHomeAfterSeconds: REHOME_AFTER_SECONDS, suspectAfterSeconds: 1 },
      bgp: {
        listen: { address: me, port: 0 }, localAs: MERIDIAN_AS, routerId: '10.255.4.1', connectRetrySeconds: 0.5,
        peers: [
          { address: birdAddr, mode: 'active', port: 1179, localAddress: me, peerAs: BIRD_AS },
          { address: gobgpAddr, mode: 'active', port: 1179, localAddress: me, peerAs: GOBGP_AS },
        ],
      },
    } }));
    birdOptions = {
      address: birdAddr, port: 1179, as: BIRD_AS, routerId: '10.255.4.2', routes4: table(false), routes6: [],
      neighbors: [
        { name: 'meridian', address: me, port: 179, as: MERIDIAN_AS, passive: true },
        { name: 'gobgp', address: gobgpAddr, port: 1179, as: GOBGP_AS },
      ],
    };
    bird = await startBird(birdConfig(birdOptions));
    gobgp = await startGobgp(gobgpConfig({
      address: gobgpAddr, port: 1179, as: GOBGP_AS, routerId: '10.255.4.3',
      neighbors: [{ address: birdAddr, port: 1179, as: BIRD_AS }, { address: me, port: 179, as: MERIDIAN_AS, passive: true }],
    }), gobgpAddr);
    child = spawn(process.execPath, [ENTRY, '--config', config, '--snapshot', snapshot, '--port', '0', '--admin-port', '0', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const ready = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { port: number; adminPort: number }));
      child!.once('exit', (code) => reject(new Error(`meridian-dns exited with ${String(code)}: ${stderr}`)));
    });
    dnsPort = ready.port;
    admin = `http://127.0.0.1:${ready.adminPort}`;
    // Five routes from each peer (GoBGP relays BIRD's).
    await waitFor('both sessions\' routes', async () => (await channels()).channels.find((c) => c.name === 'bgp')?.prefixes === 10, 60_000, 100);
    await waitFor('the overlay to know both peers\' routes', async () => (await lookup('193.0.16.1')).route?.routes.length === 2, 10_000, 100);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await bird?.stop();
    await gobgp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a European client from westeurope and an American one from us-east-1 before any change', async () => {
    assert.equal(await answer('193.0.16.1'), EU_ADDRESS);
    assert.equal(await answer('193.0.10.1'), EU_ADDRESS);
    assert.equal(await answer('45.0.0.1'), US_ADDRESS);
    const l = await lookup('193.0.16.1');
    assert.deepEqual([l.layer, l.route?.prefix, l.route?.originAs, l.route?.decision], ['static', '193.0.16.0/21', EU_AS, 'dataset']);
    assert.ok([`${BIRD_AS} ${EU_AS}`, `${GOBGP_AS} ${BIRD_AS} ${EU_AS}`].includes(l.route?.asPath.join(' ') ?? ''), `the path of one of the peers: ${l.route?.asPath.join(' ')}`);
  });

  it('moves the answer for a prefix to us-east-1 once its new origin has been on both peers for the confirmation time', async () => {
    bird!.reconfigure(birdConfig({ ...birdOptions, routes4: table(true) }));
    const change = await waitForValue('both peers to carry the new origin', async () => {
      const r = (await lookup('193.0.16.1')).route;
      const c = r?.originChanges.find((x) => x.newOrigin === US_AS);
      return r?.routes.every((x) => x.originAs === US_AS) && c ? c : undefined;
    }, 20_000, 50);
    assert.equal(change.peers.length, 2);
    assert.equal(change.suspected, false, 'seen by both peers: a re-homing, not a hijack');
    const early = await answer('193.0.16.1');
    if (Date.now() - change.firstSeenAt < (REHOME_AFTER_SECONDS - 1) * 1000) assert.equal(early, EU_ADDRESS, 'not before the confirmation time');
    await waitFor('the answer to move to us-east-1', async () => (await answer('193.0.16.1')) === US_ADDRESS, 30_000, 200);
    assert.ok(Date.now() - change.firstSeenAt >= REHOME_AFTER_SECONDS * 1000, 'not before the confirmation time');
    const l = await lookup('193.0.16.1');
    assert.deepEqual([l.layer, l.location?.continent, l.route?.originAs, l.route?.decision], ['overlay', 'NA', US_AS, 're-homed']);
    assert.match(l.route?.reason ?? '', new RegExp(`re-homed: origin changed from AS${EU_AS} to AS${US_AS}, seen by 2 peer\\(s\\) for at least ${REHOME_AFTER_SECONDS} s; located at AS${US_AS}'s home US/NA`));
    assert.equal(await answer('193.0.0.1'), EU_ADDRESS, 'the rest of the AS stays');
    assert.equal((await channels()).suspectedHijacks.total, 0, 'a re-homing is no hijack');
  });

  it('keeps the answer when one peer announces a more-specific from a foreign AS, and reports it', async () => {
    // The covering /21 must have been stable for the confirmation time before the more-specific appears.
    const stableSince = Date.now();
    await waitFor('the covering prefix to be stable', () => Date.now() - stableSince > REHOME_AFTER_SECONDS * 1000 + 200, 10_000, 50);
    gobgp!.gobgp('global', 'rib', '-a', 'ipv4', 'add', '193.0.10.0/24', 'nexthop', '192.0.2.1', 'aspath', String(US_AS));
    const listed = await waitForValue('the hijack in /geo/channels', async () => (await channels()).suspectedHijacks.recent.find((h) => h.prefix === '193.0.10.0/24'), 20_000, 100);
    assert.deepEqual([listed.oldOrigin, listed.newOrigin, listed.coveringPrefix, listed.peers, listed.endedAt], [EU_AS, US_AS, '193.0.8.0/21', [`bgp:${gobgpAddr}`], null]);
    assert.ok(listed.reportedAt >= listed.firstSeenAt + 1000, 'reported once it lasted the report delay');
    // A table swapped after the build that reported it began: that build's decisions are in force.
    await waitFor('the reporting build\'s table', async () => ((await channels()).table.builtAt ?? 0) > listed.reportedAt, 20_000, 100);
    assert.equal(await answer('193.0.10.1'), EU_ADDRESS, 'the answer stays');

    // Past the confirmation time, and in a table built from a later update, it is still not followed.
    await waitFor('the confirmation time to pass', () => Date.now() > listed.firstSeenAt + REHOME_AFTER_SECONDS * 1000 + 200, 10_000, 50);
    // 185.0.0.0/24 is not in geoip-lite's data: it shows in the overlay once a table built after this update is in force.
    gobgp!.gobgp('global', 'rib', '-a', 'ipv4', 'add', '185.0.0.0/24', 'nexthop', '192.0.2.1', 'aspath', String(US_AS));
    await waitFor('a table with the later update', async () => (await lookup('185.0.0.1')).layer === 'overlay', 20_000, 100);
    assert.equal(await answer('185.0.0.1'), US_ADDRESS, 'a new prefix of the American AS is located at its home');
    assert.equal(await answer('193.0.10.1'), EU_ADDRESS, 'the answer still stays');

    const l = await lookup('193.0.10.1');
    assert.deepEqual([l.layer, l.location?.country, l.route?.prefix, l.route?.decision, l.route?.originAs], ['static', 'NL', '193.0.10.0/24', 'suspected-hijack', null]);
    assert.deepEqual(l.route?.routes, [{ peer: `bgp:${gobgpAddr}`, originAs: US_AS }]);
    assert.match(l.route?.reason ?? '', /suspected hijack: 193\.0\.10\.0\/24 announced from AS64501 \(a more-specific of 193\.0\.8\.0\/21 \(origin AS64500\)\).*kept the last good location/);

    const status = await channels();
    assert.deepEqual([status.suspectedHijacks.total, status.suspectedHijacks.active], [1, 1]);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /^# TYPE meridian_dns_bgp_suspected_hijacks_total counter$/m);
    assert.match(metrics, /^meridian_dns_bgp_suspected_hijacks_total 1$/m);
    const lint = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = execFile('promtool', ['check', 'metrics'], (err, stdout, errOut) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, out: stdout + errOut }));
      p.stdin!.end(metrics);
    });
    assert.equal(lint.code, 0, `promtool check metrics: ${lint.out}`);
    assert.equal(stderr.split('\n').filter((line) => line.includes('suspected BGP hijack: 193.0.10.0/24')).length, 1, `logged once:\n${stderr}`);
  });
});
