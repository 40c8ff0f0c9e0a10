import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { flattenAsPath } from '../../../../../dns/geoip/channels/bgp/attributes';
import { readElements, type MrtElement } from '../../../../../dns/geoip/channels/mrt';
import { daemonDir, loopbackAddress, startDaemon, type Daemon } from '../../../../tools/daemon';
import { waitFor, waitForValue } from '../../../../tools/wait';

const run = promisify(execFile);

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  yield readFileSync(path);
}

async function parse(path: string): Promise<{ elements: MrtElement[]; errors: string[] }> {
  const elements: MrtElement[] = [];
  const errors: string[] = [];
  await readElements(fileChunks(path), (e) => elements.push(e), (e) => errors.push(e.message));
  return { elements, errors };
}

function routeSet(elements: readonly MrtElement[]): string[] {
  return elements.map((e) => `${e.prefix} ${flattenAsPath(e.asPath).join(' ')}`).sort();
}

describe('RIB dumps written by routing daemons', function () {
  this.timeout(120_000);
  const daemons: Daemon[] = [];
  afterEach(async () => { await Promise.all(daemons.splice(0).map((d) => d.stop())); });

  it('parses a BIRD 2 TABLE_DUMP_V2 dump with the 400 static routes BIRD holds, 4-byte AS paths included', async () => {
    const dir = daemonDir('bird-mrt');
    const want: string[] = [];
    const v4 = Array.from({ length: 300 }, (_, i) => {
      const path = [65001, 65100 + (i % 50), 4_200_000_000 + i];
      want.push(`10.${i >> 8}.${i & 255}.0/24 ${path.join(' ')}`);
      // prepend() puts each AS in front, so the origin goes first.
      return `  route 10.${i >> 8}.${i & 255}.0/24 blackhole { ${[...path].reverse().map((a) => `bgp_path.prepend(${a});`).join(' ')} };`;
    });
    const v6 = Array.from({ length: 100 }, (_, i) => {
      want.push(`2001:db8${i === 0 ? '' : `:${i.toString(16)}`}::/48 65002 ${64512 + i}`);
      return `  route 2001:db8:${i.toString(16)}::/48 blackhole { bgp_path.prepend(${64512 + i}); bgp_path.prepend(65002); };`;
    });
    writeFileSync(join(dir, 'bird.conf'), `router id 192.0.2.254;
ipv4 table master4;
ipv6 table master6;
protocol device { }
protocol static s4 { ipv4;
${v4.join('\n')}
}
protocol static s6 { ipv6;
${v6.join('\n')}
}
protocol mrt { table "master*"; filename "${dir}/dump-%N-%s.mrt"; period 1; }
`);
    const sock = join(dir, 'bird.ctl');
    const bird = await startDaemon({
      cmd: 'bird', args: ['-f', '-c', join(dir, 'bird.conf'), '-s', sock, '-P', join(dir, 'bird.pid')], dir,
      ready: async () => (await run('birdc', ['-s', sock, 'show', 'status']).then((r) => r.stdout, () => '')).includes('Daemon is up'),
    });
    daemons.push(bird);
    const counted = await run('birdc', ['-s', sock, 'show', 'route', 'count']);
    const held = [...counted.stdout.matchAll(/^(\d+) of \d+ routes .* in table/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(held, 400, counted.stdout);
    // BIRD writes a new file every period; a file is complete once a later one for its table exists.
    const files = await waitForValue('two dumps of each table', () => {
      const names = readdirSync(dir).filter((f) => f.endsWith('.mrt')).sort();
      const t4 = names.filter((n) => n.includes('master4'));
      const t6 = names.filter((n) => n.includes('master6'));
      return t4.length >= 2 && t6.length >= 2 ? [join(dir, t4[0]), join(dir, t6[0])] : undefined;
    }, 20_000, 100);
    const elements: MrtElement[] = [];
    for (const f of files) {
      const r = await parse(f);
      assert.deepEqual(r.errors, []);
      elements.push(...r.elements);
    }
    const got = routeSet(elements);
    const missing = want.filter((w) => !got.includes(w));
    assert.deepEqual(missing, [], `missing ${missing.length}, e.g. ${missing.slice(0, 2).join(', ')}; got e.g. ${got.filter((g) => !want.includes(g)).slice(0, 2).join(', ')}`);
    assert.equal(elements.length, 400);
    assert.ok(elements.every((e) => e.source === 'TABLE_DUMP2' && e.type === 'B'));
    assert.deepEqual(got, want.sort());
    const bgpdump = await run('bgpdump', ['-m', files[0]], { maxBuffer: 1 << 24 });
    assert.equal(bgpdump.stdout.trim().split('\n').length, 300);
  });

  it('parses the RIB dump GoBGP writes ([[mrt-dump]] table) with the 200 routes it learned from BIRD over BGP', async function () {
    // GoBGP dumps its table at start and then at most once a minute (its minimum interval).
    this.timeout(150_000);
    const dir = daemonDir('gobgp-mrt');
    const birdAddr = loopbackAddress();
    const gobgpAddr = loopbackAddress();
    const want: string[] = [];
    const routes = Array.from({ length: 200 }, (_, i) => {
      const path = [65001, 65100 + (i % 20), 4_200_000_000 + i];
      want.push(`172.16.${i}.0/24 ${path.join(' ')}`);
      // BIRD prepends its own AS 65001 on export; the static path holds the rest.
      return `  route 172.16.${i}.0/24 blackhole { ${[...path.slice(1)].reverse().map((a) => `bgp_path.prepend(${a});`).join(' ')} };`;
    });
    // strict bind: BIRD listens on its own loopback address only, not on every address's port 179,
    // which another BIRD on the machine may hold (its BGP protocol fails when it cannot listen).
    writeFileSync(join(dir, 'bird.conf'), `router id 192.0.2.253;
protocol device { }
protocol static s4 { ipv4;
${routes.join('\n')}
}
protocol bgp togobgp {
  local ${birdAddr} as 65001;
  neighbor ${gobgpAddr} port 1790 as 64512;
  multihop;
  strict bind on;
  ipv4 { import none; export filter { bgp_next_hop = 192.0.2.1; accept; }; };
}
`);
    writeFileSync(join(dir, 'gobgpd.toml'), `[global.config]
  as = 64512
  router-id = "192.0.2.254"
  port = 1790
  local-address-list = ["${gobgpAddr}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${birdAddr}"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "${gobgpAddr}"
[[mrt-dump]]
  [mrt-dump.config]
    dump-type = "table"
    file-name = "${dir}/rib.20060102.150405.mrt"
    dump-interval = 60
`);
    const cli = ['-u', gobgpAddr, '-p', '50051'];
    const gobgpd = await startDaemon({
      cmd: 'gobgpd', args: ['-f', join(dir, 'gobgpd.toml'), '--api-hosts', `${gobgpAddr}:50051`, '--pprof-disable'], dir,
      ready: async () => run('gobgp', [...cli, 'global']).then(() => true, () => false),
    });
    daemons.push(gobgpd);
    const bird = await startDaemon({
      cmd: 'bird', args: ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], dir,
      ready: async () => (await run('birdc', ['-s', join(dir, 'bird.ctl'), 'show', 'status']).then((r) => r.stdout, () => '')).includes('Daemon is up'),
    });
    daemons.push(bird);
    await waitFor('GoBGP to hold the 200 routes', async () => {
      const rib = await run('gobgp', [...cli, 'global', 'rib', '-a', 'ipv4'], { maxBuffer: 1 << 24 }).then((r) => r.stdout, () => '');
      return rib.split('\n').filter((l) => l.includes('172.16.')).length === 200;
    }, 30_000, 250);
    const heldAt = Date.now();
    // The first dump written after GoBGP held them all.
    const file = await waitForValue('a dump written after the routes arrived', () => readdirSync(dir)
      .filter((f) => f.startsWith('rib.') && statSync(join(dir, f)).mtimeMs > heldAt)
      .map((f) => join(dir, f))[0], 90_000, 500);
    let r = await parse(file);
    await waitFor('the dump to be complete', async () => (r = await parse(file)).elements.length >= 200, 10_000, 200)
      .catch((e: Error) => { throw new Error(`${e.message}: ${r.elements.length} elements, errors ${r.errors.slice(0, 3).join('; ')}`); });
    assert.deepEqual(r.errors, []);
    assert.ok(r.elements.every((e) => e.source === 'TABLE_DUMP2' && e.peerAddress === birdAddr && e.peerAs === 65001));
    assert.deepEqual(routeSet(r.elements), want.sort());
    assert.ok(r.elements.every((e) => e.nextHop === '192.0.2.1'));
  });
});
