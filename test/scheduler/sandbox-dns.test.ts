import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSandboxDns, type SandboxDns } from '../../scheduler/sandbox-dns';
import { decode, messageRcode, QTYPE, RCODE } from '../../dns/wire/index';
import { buildQuery, sendUdp } from '../dns/fixtures';
import { waitFor } from '../tools/wait';
import { tempDataDir } from './e2e/helpers';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('meridian up: the GeoDNS process', function () {
  this.timeout(60_000);
  let dns: SandboxDns | undefined;
  let dir: string | undefined;

  after(async () => {
    await dns?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is restarted on the same port with growing delays when it dies, says so, and stays down once stopped', async () => {
    dir = tempDataDir('sandbox-dns');
    const lines: string[] = [];
    // No scheduler answers here: the server serves its zone and keeps retrying the watch stream.
    dns = await startSandboxDns({ host: '127.0.0.1', port: 0, adminPort: 0, schedulerUrl: 'http://127.0.0.1:9', token: 'sandbox-token-0123456789',
      snapshotPath: join(dir, 'snapshot.json'), log: (l) => lines.push(l) });
    const d = dns;
    const soa = async (): Promise<boolean> => {
      try {
        return messageRcode(decode(await sendUdp(d.port, buildQuery('meridian.test', QTYPE.SOA), 500))) === RCODE.NOERROR;
      } catch {
        return false;
      }
    };
    assert.ok(await soa());
    for (let round = 1; round <= 2; round++) {
      const pid = d.pid()!;
      process.kill(pid, 'SIGKILL');
      await waitFor(`restart ${round}`, () => d.restarts() === round, 20_000);
      assert.notEqual(d.pid(), pid);
      await waitFor(`answers after restart ${round}`, soa, 10_000);
    }
    const exits = lines.filter((l) => /GeoDNS server exited \(SIGKILL\); names are not served until it restarts in \d+ ms/.test(l));
    assert.deepEqual(exits.map((l) => Number(/in (\d+) ms/.exec(l)![1])), [250, 500], 'the delay doubles while it keeps dying');
    assert.equal(lines.filter((l) => /GeoDNS server restarted \(pid \d+\), serving on 127\.0\.0\.1:\d+ again/.test(l)).length, 2);

    const last = d.pid()!;
    await d.stop();
    assert.equal(alive(last), false);
    assert.equal(d.pid(), last, 'no new process after stop');
    assert.equal(d.restarts(), 2);
  });
});
