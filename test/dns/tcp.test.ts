import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exampleZoneConfig, type RunningDnsServer, startDnsServer, type TcpOptions } from '../../dns/index';
import { GeoTable } from '../../dns/geoip/index';
import { decode, QTYPE, RCODE, messageRcode } from '../../dns/wire/index';
import { tcpClientKey } from '../../dns/server/tcp';
import { EDNS_OPTION_TCP_KEEPALIVE, tcpKeepaliveRequested, withTcpKeepalive } from '../../dns/wire/opt';
import { waitFor, waitForValue } from '../tools/wait';
import { buildQuery, globalRegions, runClient, sendTcp, workload } from './fixtures';

const TABLE = GeoTable.fromEntries([{ range: '0.0.0.0/0', lat: 50, lon: 8, country: 'DE' }]);

function frame(msg: Buffer): Buffer {
  const f = Buffer.alloc(2 + msg.length);
  f.writeUInt16BE(msg.length, 0);
  msg.copy(f, 2);
  return f;
}

/** A TCP connection from `localAddress` that collects framed replies and notes when it closes. */
class Conn {
  readonly socket: net.Socket;
  readonly replies: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);

  constructor(port: number, localAddress = '127.0.0.1') {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress });
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        this.replies.push(this.buf.subarray(2, 2 + this.buf.readUInt16BE(0)));
        this.buf = this.buf.subarray(2 + this.buf.readUInt16BE(0));
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => { this.closed = true; });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState === 'open') resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('close', () => reject(new Error('closed before it connected')));
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Reads one Prometheus sample from the admin API. */
async function metric(adminPort: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `metric ${sample} present`);
  return Number(line.slice(sample.length + 1));
}

/** Answers within `timeoutMs` over a fresh TCP connection from `localAddress`. */
async function tcpAnswers(port: number, localAddress: string, timeoutMs = 2_000): Promise<boolean> {
  const c = new Conn(port, localAddress);
  try {
    await c.connected();
    c.socket.write(frame(buildQuery('web.meridian.test', QTYPE.A, { id: 7 })));
    await waitFor('an answer', () => c.replies.length > 0 || c.closed, timeoutMs);
    return c.replies.length > 0 && decode(c.replies[0]!).id === 7;
  } catch {
    return false;
  } finally {
    c.destroy();
  }
}

describe('GeoDNS over TCP: limits no single client can exhaust (RFC 7766)', function () {
  this.timeout(30_000);
  let server: RunningDnsServer;
  const conns: Conn[] = [];
  const tcp: Partial<TcpOptions> = { maxConnections: 8, maxConnectionsPerClient: 4, queryTimeoutMs: 600, idleTimeoutMs: 1_500 };

  beforeEach(async () => {
    server = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: TABLE, workloads: [workload('web', globalRegions())],
      tcp, log: () => undefined });
  });
  afterEach(async () => {
    for (const c of conns.splice(0)) c.destroy();
    await server?.close();
  });

  it('accepts no more than the per-client limit from one address while other clients still get TCP answers', async () => {
    const mine = Array.from({ length: 7 }, () => new Conn(server.port, '127.0.0.1'));
    conns.push(...mine);
    await waitFor('the extra connections to be refused', () => mine.filter((c) => c.closed).length >= 3);
    assert.equal(mine.filter((c) => !c.closed).length, 4, 'exactly the per-client limit stays open');
    assert.equal(await metric(server.adminPort!, 'meridian_dns_tcp_closed_total{reason="client-limit"}'), 3);
    assert.ok(await tcpAnswers(server.port, '127.0.0.2'), 'another client is answered over TCP');
  });

  it('closes a trickling connection that completes no query within the query timeout, whatever it sends', async () => {
    const c = new Conn(server.port, '127.0.0.3');
    conns.push(c);
    await c.connected();
    const opened = Date.now();
    const query = frame(buildQuery('web.meridian.test', QTYPE.A));
    let i = 0;
    // One byte every 100 ms: any byte used to reset the idle timer, so the slot was held forever.
    const trickle = setInterval(() => { if (!c.closed && i < query.length - 1) c.socket.write(query.subarray(i, ++i)); }, 100);
    try {
      await waitFor('the trickling connection to be closed', () => c.closed, 5_000);
    } finally {
      clearInterval(trickle);
    }
    const held = Date.now() - opened;
    assert.ok(held >= 500 && held < 2_000, `closed after ${held} ms, expected about the 600 ms query timeout`);
    assert.equal(c.replies.length, 0);
    assert.equal(await metric(server.adminPort!, 'meridian_dns_tcp_closed_total{reason="query-timeout"}'), 1);
  });

  it('closes a connection idle after its last answer once the idle timeout passes', async () => {
    const c = new Conn(server.port, '127.0.0.4');
    conns.push(c);
    await c.connected();
    c.socket.write(frame(buildQuery('web.meridian.test', QTYPE.A, { id: 9 })));
    await waitFor('the answer', () => c.replies.length === 1);
    const answered = Date.now();
    await waitFor('the idle connection to be closed', () => c.closed, 5_000);
    const idle = Date.now() - answered;
    assert.ok(idle >= 1_300 && idle < 3_000, `closed after ${idle} ms idle, expected about 1500 ms`);
    assert.equal(await metric(server.adminPort!, 'meridian_dns_tcp_closed_total{reason="idle"}'), 1);
  });

  it('makes room for a new client by closing the connection idle longest when every slot is taken', async () => {
    const idle: Conn[] = [];
    for (let k = 0; k < 8; k++) {
      const c = new Conn(server.port, `127.0.1.${k + 1}`);
      idle.push(c);
      await c.connected();
      c.socket.write(frame(buildQuery('web.meridian.test', QTYPE.A, { id: k })));
      await waitFor(`answer ${k}`, () => c.replies.length === 1);
    }
    conns.push(...idle);
    assert.ok(await tcpAnswers(server.port, '127.0.2.1'), 'the new client is answered');
    await waitFor('the idlest connection to be closed', () => idle[0]!.closed);
    assert.deepEqual(idle.slice(1).map((c) => c.closed), Array(7).fill(false), 'only the one idle longest was closed');
    assert.equal(await metric(server.adminPort!, 'meridian_dns_tcp_closed_total{reason="evicted"}'), 1);
  });

  it('refuses a new connection while every slot is mid-query, and serves again once the query timeout frees them', async () => {
    const busy = Array.from({ length: 8 }, (_, k) => new Conn(server.port, `127.0.3.${k + 1}`));
    conns.push(...busy);
    await Promise.all(busy.map((c) => c.connected()));
    for (const c of busy) c.socket.write(Buffer.from([0, 40, 1]));
    await waitFor('the server to hold all eight', async () => (await metric(server.adminPort!, 'meridian_dns_tcp_connections')) === 8);
    assert.equal(await tcpAnswers(server.port, '127.0.4.1', 300), false, 'refused while full of unfinished queries');
    assert.equal(await metric(server.adminPort!, 'meridian_dns_tcp_closed_total{reason="full"}'), 1);
    await waitFor('the unfinished queries to time out', () => busy.every((c) => c.closed), 5_000);
    assert.ok(await tcpAnswers(server.port, '127.0.4.1'), 'served once the slots are free');
  });

  it('answers thousands of pipelined queries in order to a client that reads them', async () => {
    const c = new Conn(server.port, '127.0.5.1');
    conns.push(c);
    await c.connected();
    const n = 5_000;
    const burst = Buffer.concat(Array.from({ length: n }, (_, i) => frame(buildQuery('web.meridian.test', QTYPE.A, { id: i & 0xffff }))));
    c.socket.write(burst);
    await waitFor(`${n} answers`, () => c.replies.length === n || c.closed, 20_000);
    assert.equal(c.replies.length, n);
    c.replies.forEach((r, i) => assert.equal(r.readUInt16BE(0), i & 0xffff, `answer ${i} in order`));
  });

  it('tells a client that asks with edns-tcp-keepalive its idle timeout, over TCP only (RFC 7828)', async () => {
    const tcpOut = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), '+tcp', '+keepalive', 'web.meridian.test', 'A']);
    assert.match(tcpOut, /TCP KEEPALIVE: 1\.5 secs/, tcpOut);
    const plain = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), '+tcp', 'web.meridian.test', 'A']);
    assert.doesNotMatch(plain, /KEEPALIVE/i);
    const udpOut = await runClient('dig', ['@127.0.0.1', '-p', String(server.port), '+notcp', '+keepalive', 'web.meridian.test', 'A']);
    assert.match(udpOut, /status: NOERROR/);
    assert.doesNotMatch(udpOut, /KEEPALIVE: /i);
  });
});

describe('edns-tcp-keepalive codec', () => {
  it('appends the option to the OPT record and leaves messages without OPT alone', async () => {
    const withOpt = buildQuery('a.meridian.test', QTYPE.A, { edns: 1232, extraOptions: [{ code: EDNS_OPTION_TCP_KEEPALIVE, data: Buffer.alloc(0) }] });
    assert.equal(tcpKeepaliveRequested(withOpt), true);
    const patched = decode(withTcpKeepalive(withOpt, 25));
    const opt = patched.additionals.find((r) => r.type === QTYPE.OPT);
    assert.ok(opt && opt.data.kind === 'opt');
    const ka = opt.data.options.find((o) => o.code === EDNS_OPTION_TCP_KEEPALIVE && o.data.length === 2);
    assert.equal(ka?.data.readUInt16BE(0), 25);
    const bare = buildQuery('a.meridian.test', QTYPE.A);
    assert.equal(tcpKeepaliveRequested(bare), false);
    assert.equal(withTcpKeepalive(bare, 25), bare);
    assert.equal(tcpKeepaliveRequested(buildQuery('a.meridian.test', QTYPE.A, { edns: 1232 })), false);
  });

  it('never reads past a truncated or garbled message', () => {
    const q = buildQuery('a.meridian.test', QTYPE.A, { edns: 1232, extraOptions: [{ code: EDNS_OPTION_TCP_KEEPALIVE, data: Buffer.alloc(0) }] });
    for (let len = 0; len < q.length; len++) {
      const cut = q.subarray(0, len);
      assert.equal(tcpKeepaliveRequested(cut), false);
      assert.equal(withTcpKeepalive(cut, 1), cut);
    }
  });

  it('counts IPv4 clients by address and IPv6 clients by /64', () => {
    assert.equal(tcpClientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(tcpClientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(tcpClientKey('2001:db8:1:2:3:4:5:6'), tcpClientKey('2001:db8:1:2::9'));
    assert.notEqual(tcpClientKey('2001:db8:1:2::9'), tcpClientKey('2001:db8:1:3::9'));
    assert.equal(tcpClientKey('::1'), tcpClientKey('0:0:0:0:0:0:0:1'));
  });
});

/** Resident set size of a process, in bytes (Linux). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('GeoDNS process under TCP clients that never read their answers', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;

  after(() => { child?.kill('SIGKILL'); });

  it('stays within 96 MiB of its idle size and keeps answering others, then closes the stuck connections', async () => {
    // The production entry point, as its own process, so its memory is measured alone.
    child = spawn(process.execPath, [join(__dirname, '..', '..', 'dns', 'main.js'), '--port', '0', '--admin-port', '0', '--json'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    const ready = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { port: number; adminPort: number }));
      child!.once('exit', (code) => reject(new Error(`meridian-dns exited with ${String(code)}`)));
    });
    const pid = child.pid!;
    const before = rssBytes(pid);
    const chunk = Buffer.concat(Array.from({ length: 2_000 }, (_, i) => frame(buildQuery('www.meridian.test', QTYPE.A, { id: i, edns: 4096 }))));
    const pipeliners = Array.from({ length: 5 }, (_, k) => {
      const s = net.connect({ port: ready.port, host: '127.0.0.1', localAddress: `127.0.6.${k + 1}` });
      s.on('error', () => undefined);
      // Never read: the client's receive window fills, then the server's send buffer.
      s.pause();
      return s;
    });
    const until = Date.now() + 6_000;
    let peak = before;
    let sentBytes = 0;
    let othersAnswered = 0;
    const pump = async (s: net.Socket): Promise<void> => {
      while (Date.now() < until && !s.destroyed) {
        if (s.write(chunk)) sentBytes += chunk.length;
        else {
          await new Promise<void>((resolve) => {
            const done = (): void => { clearTimeout(t); s.off('drain', done); resolve(); };
            const t = setTimeout(done, 100);
            s.once('drain', done);
          });
        }
      }
    };
    const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(pid)); }, 100);
    const others = (async () => {
      while (Date.now() < until) {
        // On a loaded machine one answer may be slow; what matters is that others keep being answered.
        const reply = await sendTcp(ready.port, buildQuery('meridian.test', QTYPE.SOA), 5_000).catch(() => undefined);
        if (reply && messageRcode(decode(reply)) === RCODE.NOERROR) othersAnswered++;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await Promise.all([...pipeliners.map(pump), others]);
    } finally {
      clearInterval(sampler);
    }
    const grown = (peak - before) / 2 ** 20;
    assert.ok(sentBytes > 1_000_000, `the pipeliners sent ${sentBytes} bytes`);
    // Serving at full speed alone costs about 50-65 MiB of heap here; unbounded buffering grew by over 100 MiB a second.
    assert.ok(grown < 96, `RSS grew by ${grown.toFixed(1)} MiB`);
    assert.ok(othersAnswered >= 1, `other clients got ${othersAnswered} TCP answers meanwhile`);
    const stalled = await waitForValue('the stuck connections to be closed', async () => {
      const text = await (await fetch(`http://127.0.0.1:${ready.adminPort}/metrics`)).text();
      const n = Number(/meridian_dns_tcp_closed_total\{reason="write-stall"\} (\d+)/.exec(text)?.[1] ?? 0);
      return n >= 5 ? n : undefined;
      // The server stalls only once its answers fill both sockets' buffers (megabytes on loopback);
      // on a busy machine it answers slowly, so that takes a while.
    }, 90_000, 200);
    assert.equal(stalled, 5);
    for (const s of pipeliners) s.destroy();
  });
});
