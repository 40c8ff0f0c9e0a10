import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { loopbackAddress } from '../tools/daemon';
import { waitForValue } from '../tools/wait';

const ENTRY = join(__dirname, '..', '..', 'dns', 'main.js');

describe('meridian-dns runs the GeoIP channels its settings name', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-geo-wiring-')); });
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the BGP channel from geoip.bgp under the supervisor, and reports it in /geo/channels', async () => {
    const config = join(dir, 'dns.json');
    writeFileSync(config, JSON.stringify({ geoip: { cache: { enabled: false }, bgp: {
      listen: { address: loopbackAddress(), port: 0 }, localAs: 65001, routerId: '192.0.2.53', connectRetrySeconds: 1,
      // Nobody listens there: the session stays down and retries, while the server answers from geoip-lite's data.
      peers: [{ address: '127.0.0.1', mode: 'active', port: 9, peerAs: 65002 }],
    } } }));
    child = spawn(process.execPath, [ENTRY, '--config', config, '--port', '0', '--admin-port', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const ready = await new Promise<{ adminPort: number }>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { adminPort: number }));
      child!.once('exit', (code) => reject(new Error(`meridian-dns exited with ${String(code)}`)));
    });
    const status = await waitForValue('the BGP channel in /geo/channels', async () => {
      const body = await (await fetch(`http://127.0.0.1:${ready.adminPort}/geo/channels`)).json() as {
        driving: string; channels: Array<{ name: string; state: string; driving: boolean }> };
      return body.channels.some((c) => c.name === 'bgp') ? body : undefined;
    }, 20_000, 100);
    const bgp = status.channels.find((c) => c.name === 'bgp')!;
    assert.ok(['starting', 'down'].includes(bgp.state), `state ${bgp.state}`);
    assert.equal(bgp.driving, false);
    assert.equal(status.driving, 'static', 'geoip-lite drives while the session is down');
  });

  it('refuses to start with bad channel settings, naming where they are', async () => {
    const config = join(dir, 'dns.json');
    writeFileSync(config, JSON.stringify({ geoip: { cache: { enabled: false }, bgp: { localAs: 0, routerId: 'x', peers: [] } } }));
    const err = await promisify(execFile)(process.execPath, [ENTRY, '--config', config, '--port', '0', '--admin-port', 'off'], { timeout: 30_000 })
      .then(() => undefined, (e: { code?: number; stderr?: string }) => e);
    assert.ok(err, 'it exits with an error');
    assert.notEqual(err.code, 0);
    assert.match(err.stderr ?? '', /geoip\.bgp: .*localAs/);
  });
});
