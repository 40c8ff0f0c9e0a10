import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADDON_PATH, BatchedUdpSocket, batchedUdpAvailable, DATAGRAM_TOO_LARGE } from '../../dns/server/udp-batch';
import { ownSocketsOn } from '../tools/sockets';
import { waitFor, waitForValue } from '../tools/wait';

const run = promisify(execFile);

/**
 * Sends `payloads` from one client socket and collects the replies. They go out in waves of up to
 * 150 (each more than two batches), waiting for each wave's replies (up to `expect` in all), so
 * that the receive buffer, which this process drains itself, does not overflow. Then a marker
 * datagram: once its reply is back, the replies to everything sent before it are in, so a reply
 * that should not exist would have been seen. `sync: false` for a socket that stops answering.
 */
async function burst(port: number, payloads: readonly Buffer[], o: { address?: string; expect?: number; sync?: boolean } = {}): Promise<Buffer[]> {
  const address = o.address ?? '127.0.0.1';
  const expect = o.expect ?? payloads.length;
  const marker = `sync-${Math.random().toString(36).slice(2)}`;
  const client = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const replies: Buffer[] = [];
  let synced = false;
  client.on('message', (m) => { if (m.includes(marker)) synced = true; else replies.push(m); });
  await new Promise<void>((r) => client.bind(0, address, () => r()));
  try {
    for (let i = 0; i < payloads.length; i += 150) {
      const wave = payloads.slice(i, i + 150);
      for (const p of wave) client.send(p, port, address);
      const want = Math.min(expect, i + wave.length);
      const deadline = Date.now() + 5000;
      while (replies.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
    if (o.sync !== false) {
      client.send(Buffer.from(marker), port, address);
      await waitFor('the reply to the marker sent after the burst', () => synced, 5000, 5);
    }
  } finally {
    client.close();
  }
  return replies;
}

/** Resolves once `socket` has handed every datagram to the kernel (their send callbacks ran). */
function sendAll(socket: dgram.Socket, payloads: readonly string[], port: number): Promise<void> {
  return Promise.all(payloads.map((p) => new Promise<void>((resolve, reject) =>
    socket.send(Buffer.from(p), port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))))).then(() => undefined);
}

/** Bytes waiting in the receive queue of this process's UDP socket on `port`. */
function queuedBytes(port: number): number {
  return ownSocketsOn(port).find((k) => k.protocol === 'udp')?.rxQueueBytes ?? 0;
}

/** Sends `payloads` to an idle socket on `port` and waits until the kernel holds all of them in its receive queue. */
async function queueAll(client: dgram.Socket, port: number, payloads: readonly string[]): Promise<void> {
  await sendAll(client, payloads.slice(0, 1), port);
  const one = await waitForValue('the first datagram in the receive queue', () => queuedBytes(port) || undefined);
  await sendAll(client, payloads.slice(1), port);
  // Datagrams of one size take the same room each (their buffer's true size).
  await waitFor(`${payloads.length} datagrams in the receive queue`, () => queuedBytes(port) >= one * payloads.length);
}

/** This process's descriptor of the IPv4 UDP socket bound to `port`, found through /proc. */
function socketFd(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const row = readFileSync('/proc/self/net/udp', 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(hex));
  assert.ok(row, `no UDP socket on port ${port}`);
  const fd = readdirSync('/proc/self/fd').find((d) => {
    try { return readlinkSync(`/proc/self/fd/${d}`) === `socket:[${row[9]}]`; } catch { return false; }
  });
  assert.ok(fd !== undefined, `no descriptor for inode ${row[9]}`);
  return Number(fd);
}

describe('batched UDP socket (recvmmsg/sendmmsg addon)', function () {
  this.timeout(20_000);
  const open: BatchedUdpSocket[] = [];
  const socket = (address = '127.0.0.1', port = 0, reusePort = false): BatchedUdpSocket => {
    const s = BatchedUdpSocket.open(address, port, { reusePort, bufferBytes: 1 << 20 });
    open.push(s);
    return s;
  };
  afterEach(() => { for (const s of open.splice(0)) s.close(); });

  it('is built on this Linux machine', () => {
    assert.equal(process.platform, 'linux');
    assert.ok(batchedUdpAvailable(), 'npm run build compiles dns/server/native');
  });

  it('answers every datagram of a burst far larger than one batch, each to its own sender', async () => {
    const s = socket();
    const peers = new Set<string>();
    s.start((msg, peer) => { peers.add(peer); return Buffer.concat([Buffer.from('re:'), msg]); });
    const payloads = Array.from({ length: 500 }, (_, i) => Buffer.from(`q${i}`));
    const replies = await burst(s.port, payloads);
    assert.equal(replies.length, 500);
    assert.deepEqual(new Set(replies.map((r) => r.toString())), new Set(payloads.map((p) => `re:${p.toString()}`)));
    assert.deepEqual([...peers], ['127.0.0.1']);
    const stats = s.stats();
    assert.equal(stats.received, 501, 'the burst and its closing marker');
    assert.equal(stats.sent, 501);
    assert.equal(stats.sendDropped, 0);
  });

  it('serves IPv6 and gives the sender in canonical text', async () => {
    const s = socket('::1');
    let seen = '';
    s.start((msg, peer) => { seen = peer; return msg; });
    const replies = await burst(s.port, [Buffer.from('v6')], { address: '::1' });
    assert.deepEqual(replies.map((r) => r.toString()), ['v6']);
    assert.equal(seen, '::1');
  });

  it('on an IPv6 socket also serves IPv4 clients, as IPv4-mapped addresses (as node:dgram does)', async () => {
    // Bound to the mapped loopback address, so that nothing listens beyond 127.0.0.1.
    const s = socket('::ffff:127.0.0.1');
    let seen = '';
    s.start((msg, peer) => { seen = peer; return msg; });
    const replies = await burst(s.port, [Buffer.from('v4 via v6')]);
    assert.deepEqual(replies.map((r) => r.toString()), ['v4 via v6']);
    assert.equal(seen, '::ffff:127.0.0.1');
  });

  it('sends nothing for an undefined reply and hands over each message only for the call', async () => {
    const s = socket();
    const kept: Buffer[] = [];
    s.start((msg) => {
      kept.push(Buffer.from(msg));
      return msg[0] === 0x21 ? undefined : msg;
    });
    const replies = await burst(s.port, [Buffer.from('!silent'), Buffer.from('loud'), Buffer.from('!quiet')], { expect: 1 });
    assert.deepEqual(replies.map((r) => r.toString()), ['loud']);
    assert.deepEqual(kept.map((k) => k.toString()).filter((k) => !k.startsWith('sync-')).sort(), ['!quiet', '!silent', 'loud']);
  });

  it('drops a datagram larger than its receive slot and a reply larger than its send slot, and counts both', async () => {
    const s = socket();
    s.start((msg) => (msg.toString() === 'big reply' ? Buffer.alloc(5000) : msg));
    const replies = await burst(s.port, [Buffer.alloc(6000, 1), Buffer.from('big reply'), Buffer.from('fine')], { expect: 1 });
    assert.deepEqual(replies.map((r) => r.toString()), ['fine']);
    const stats = s.stats();
    assert.equal(stats.oversized, 1);
    assert.equal(stats.sendDropped, 1);
  });

  it('writes replies straight into the send slot, whatever the lengths of the datagrams, and counts one too large as dropped', async () => {
    const s = socket();
    const rooms = new Set<number>();
    s.startWriting((msg, _peer, out, at, room) => {
      rooms.add(room);
      if (msg.toString() === 'too big') return DATAGRAM_TOO_LARGE;
      if (msg.toString() === 'none') return -1;
      out.write('re:', at, 'latin1');
      msg.copy(out, at + 3);
      return msg.length + 3;
    });
    // Lengths change from one datagram to the next, so each receive slot sees several.
    const payloads = Array.from({ length: 300 }, (_, i) => Buffer.from(`q${'x'.repeat(i % 7)}${i}`));
    const replies = await burst(s.port, [...payloads, Buffer.from('too big'), Buffer.from('none')], { expect: payloads.length });
    assert.deepEqual(replies.map((r) => r.toString()).sort(), payloads.map((p) => `re:${p.toString()}`).sort());
    assert.deepEqual([...rooms], [4096]);
    assert.equal(s.stats().sendDropped, 1);
  });

  it('gives an IPv4 sender in dotted-quad text without leading zeros', async () => {
    const s = socket();
    const seen: string[] = [];
    s.start((msg, peer) => { seen.push(peer); return msg; });
    for (const from of ['127.0.0.1', '127.10.100.0', '127.255.9.99']) {
      const client = dgram.createSocket('udp4');
      try {
        await new Promise<void>((r) => client.bind(0, from, () => r()));
        const reply = new Promise<void>((r) => client.once('message', () => r()));
        client.send(Buffer.from('who'), s.port, '127.0.0.1');
        await reply;
      } finally {
        client.close();
      }
    }
    assert.deepEqual(seen, ['127.0.0.1', '127.10.100.0', '127.255.9.99']);
  });

  it('refuses a port in use with EADDRINUSE, unless every socket asks for SO_REUSEPORT', () => {
    const first = socket();
    assert.throws(() => socket('127.0.0.1', first.port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE' && /bind/.test(e.message));
    const shared = socket('127.0.0.1', 0, true);
    const second = socket('127.0.0.1', shared.port, true);
    assert.equal(second.port, shared.port);
  });

  it('rejects an address that is not an IP literal, naming it', () => {
    assert.throws(() => BatchedUdpSocket.open('localhost', 0), /IPv4 or IPv6 literal/);
  });

  it('rejects, as node:dgram does, an address with a literal before a NUL or past its longest length, and a port that is not an integer', () => {
    const literal = (e: NodeJS.ErrnoException): boolean => e.code === 'ERR_INVALID_IP_ADDRESS';
    assert.throws(() => BatchedUdpSocket.open('127.0.0.1\0.example', 0), literal);
    assert.throws(() => BatchedUdpSocket.open(`0000:0000:0000:0000:0000:ffff:127.0.0.1${'x'.repeat(20)}`, 0), literal);
    for (const port of [NaN, 1.5, -1, 65536, Infinity]) {
      assert.throws(() => BatchedUdpSocket.open('127.0.0.1', port), (e: NodeJS.ErrnoException) => e.code === 'ERR_SOCKET_BAD_PORT', `port ${port}`);
    }
    assert.equal(socket('0000:0000:0000:0000:0000:ffff:127.0.0.1').port > 0, true);
  });

  it('frees the port as soon as it is closed; close is idempotent and later use fails clearly', async () => {
    const s = BatchedUdpSocket.open('127.0.0.1', 0);
    s.start((m) => m);
    const port = s.port;
    assert.deepEqual((await burst(port, [Buffer.from('x')])).map(String), ['x']);
    assert.equal(ownSocketsOn(port).length, 1, 'bound while open');
    s.close();
    s.close();
    assert.throws(() => s.stats(), /closed/);
    assert.deepEqual(ownSocketsOn(port), [], 'no socket of this process holds the port once closed');
  });

  it('can be closed from inside its own handler mid-batch: the rest of the batch is not answered and the port is free', async () => {
    const s = BatchedUdpSocket.open('127.0.0.1', 0);
    const port = s.port;
    let seen = 0;
    s.start((msg) => {
      seen++;
      if (seen === 3) s.close();
      return msg;
    });
    const client = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    client.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    try {
      await sendAll(client, Array.from({ length: 40 }, (_, i) => `m${i}`), port);
      await waitFor('the handler to close the socket', () => seen >= 3);
      // The batch loop ends within the callback's turn: a later turn sees everything it did.
      await new Promise((r) => setImmediate(r));
    } finally {
      client.close();
    }
    // At most the two handled before the close, had they come in an earlier batch of their own.
    assert.ok(replies.length <= 2, `replies of a batch whose socket closed are not sent (got ${replies.length})`);
    assert.equal(seen, 3, 'no datagram handed over after the close');
    assert.deepEqual(ownSocketsOn(port), [], 'the port is free');
  });

  it('hands over no datagram after its handler closed it, as node:dgram emits no message after close()', async () => {
    const s = BatchedUdpSocket.open('127.0.0.1', 0);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    // Queued before reading starts, so that all 20 come in the first batch.
    await queueAll(client, s.port, Array.from({ length: 20 }, (_, i) => `m${String(i).padStart(2, '0')}`));
    const seen: string[] = [];
    s.start((msg) => {
      seen.push(msg.toString());
      if (seen.length === 3) s.close();
      return msg;
    });
    await waitFor('the handler to close the socket', () => seen.length >= 3);
    await new Promise((r) => setImmediate(r));
    client.close();
    assert.deepEqual(seen, ['m00', 'm01', 'm02']);
  });

  it('survives being closed while a flood arrives, and the process keeps serving', async () => {
    const s = BatchedUdpSocket.open('127.0.0.1', 0);
    s.start((m) => m);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    let sending = true;
    let sent = 0;
    const flood = (): void => {
      if (!sending) return;
      for (let i = 0; i < 50; i++) client.send(Buffer.from('flood'), s.port, '127.0.0.1', () => { sent++; });
      setImmediate(flood);
    };
    flood();
    try {
      await waitFor('the flood to be served', () => s.stats().received >= 1000, 10_000);
      s.close();
      const atClose = sent;
      await waitFor('more of the flood to arrive at the closed port', () => sent >= atClose + 1000, 10_000);
    } finally {
      sending = false;
      client.close();
    }
    const next = socket();
    next.start((m) => m);
    assert.equal((await burst(next.port, [Buffer.from('still here')])).length, 1);
  });

  it('keeps the process alive while open, and not after unref', async () => {
    const addon = join(__dirname, '..', '..', 'dns', 'server', 'udp-batch.js');
    const script = (unref: boolean): string => `const { BatchedUdpSocket } = require(${JSON.stringify(addon)});
      const s = BatchedUdpSocket.open('127.0.0.1', 0); s.start((m) => m); ${unref ? 's.unref();' : ''}
      setTimeout(() => { process.stdout.write('alive'); process.exit(0); }, 800).unref();`;
    assert.equal((await run(process.execPath, ['-e', script(false)], { timeout: 10_000 })).stdout, 'alive');
    assert.equal((await run(process.execPath, ['-e', script(true)], { timeout: 10_000 })).stdout, '');
  });

  it('sends a reply only to a sender of the current batch, whatever slot the handler names', async () => {
    // The wrapper always names a slot of the batch; the addon must not trust that. Driven raw.
    const module = { exports: {} as {
      open(a: string, p: number, r: boolean, b: number): { handle: unknown; port: number; tx: ArrayBuffer; meta: ArrayBuffer; batch: number };
      start(h: unknown, f: (count: number) => number): void; stats(h: unknown): { sent: number; sendDropped: number }; close(h: unknown): void;
    } };
    process.dlopen(module, ADDON_PATH);
    const native = module.exports;
    const o = native.open('127.0.0.1', 0, false, 0);
    const meta = new Int32Array(o.meta);
    const earlier = dgram.createSocket('udp4');
    const leaked: Buffer[] = [];
    earlier.on('message', (m) => leaked.push(m));
    const current = dgram.createSocket('udp4');
    await new Promise<void>((r) => earlier.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => current.bind(0, '127.0.0.1', () => r()));
    try {
      // Queued before reading starts, so that they make one first batch of 8 slots.
      await queueAll(earlier, o.port, Array.from({ length: 8 }, (_, i) => `e${i}`));
      const counts: number[] = [];
      native.start(o.handle, (count) => {
        counts.push(count);
        if (counts.length === 1) return 0;
        Buffer.from(o.tx).write('for slot 5');
        meta[o.batch] = 10;
        meta[2 * o.batch] = 5;
        return 1;
      });
      await waitFor('the first batch', () => counts.length >= 1);
      current.send(Buffer.from('one datagram'), o.port, '127.0.0.1');
      // The addon counts a refused reply before it returns from the batch that named it.
      await waitFor('the second batch and its reply refused', () => counts.length >= 2 && native.stats(o.handle).sendDropped >= 1);
      assert.deepEqual(counts, [8, 1]);
      assert.deepEqual(leaked.map(String), [], 'the reply went to the sender of an earlier batch');
      const { sent, sendDropped } = native.stats(o.handle);
      assert.deepEqual({ sent, sendDropped }, { sent: 0, sendDropped: 1 });
    } finally {
      earlier.close();
      current.close();
      native.close(o.handle);
    }
  });

  it('keeps serving, without spinning, after the kernel reports an ICMP error on the socket', async () => {
    const s = socket();
    s.start((m) => m);
    // Only with IP_RECVERR does an ICMP error get queued on a UDP socket and raise POLLERR, upon
    // which libuv stops the poll. The addon never sets it, so a child given the descriptor does
    // (perl is part of every Debian system), then sends a probe from a port it closes at once.
    // Synchronous, so that the probe is answered only after that: ICMP port unreachable.
    const perl = `use Socket; open(my $s, '+<&=', 3) or die "fd 3: $!";
      setsockopt($s, IPPROTO_IP, 11, pack('i', 1)) or die "IP_RECVERR: $!";
      socket(my $c, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
      send($c, 'probe', 0, sockaddr_in(${s.port}, inet_aton('127.0.0.1'))) or die "send: $!"; close($c);`;
    const child = spawnSync('perl', ['-e', perl], { stdio: ['ignore', 'ignore', 'pipe', socketFd(s.port)], timeout: 5000 });
    assert.equal(child.status, 0, child.stderr.toString());
    // The probe was read and answered, so the ICMP error is queued on the socket by now or soon.
    await waitFor('the probe to be handled', () => s.stats().received >= 1);
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 300));
    const cpu = process.cpuUsage(before);
    assert.ok(cpu.user + cpu.system < 150_000, `the event loop spun: ${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU in 300 ms`);
    assert.deepEqual((await burst(s.port, [Buffer.from('after the error')])).map(String), ['after the error']);
    assert.equal(s.stats().received, 3, 'the probe, the datagram after the error and its closing marker');
  });

  /** Runs `body` in a child node with a batched echo socket `s` and a bound client `c`; returns its output. */
  const child = async (flags: string[], body: string): Promise<string> => {
    const addon = join(__dirname, '..', '..', 'dns', 'server', 'udp-batch.js');
    const script = `const { BatchedUdpSocket } = require(${JSON.stringify(addon)});
      const c = require('node:dgram').createSocket('udp4');
      const replies = [];
      c.on('message', (r) => replies.push(r.toString()));
      const wait = (ms) => new Promise((r) => setTimeout(r, ms));
      const until = async (cond) => { const end = Date.now() + 5000; while (!cond() && Date.now() < end) await wait(5); };
      const s = BatchedUdpSocket.open('127.0.0.1', 0);
      c.bind(0, '127.0.0.1', async () => { ${body} });`;
    return (await run(process.execPath, [...flags, '-e', script], { timeout: 10_000 })).stdout;
  };

  it('keeps serving when a handler passes the message\'s buffer in a transfer list', async () => {
    // Detaching the receive buffer would hand its memory to the clone, freed by the next GC.
    const out = await child(['--expose-gc'], `
      let handled = 0;
      // Node 20 copies an untransferable buffer; Node 22 refuses the transfer. Either way it stays the socket's.
      s.start((m) => {
        if (handled++ === 0) {
          try { structuredClone(m.buffer, { transfer: [m.buffer] }); } catch (e) { if (e.name !== 'DataCloneError') throw e; }
        }
        return m;
      });
      c.send('a', s.port, '127.0.0.1'); await until(() => replies.length >= 1);
      gc();
      c.send('b', s.port, '127.0.0.1'); c.send('c', s.port, '127.0.0.1'); await until(() => replies.length >= 3);
      process.stdout.write(replies.join(',')); process.exit(0);`);
    assert.equal(out, 'a,b,c');
  });

  it('closes the socket and raises an error, instead of writing into freed memory, when a shared buffer is detached anyway', async () => {
    // ArrayBuffer.prototype.transfer (behind a flag in Node 20, standard from 22) ignores markAsUntransferable.
    const transferFlag = Number(process.versions.node.split('.')[0]) < 21 ? ['--harmony-rab-gsab-transfer'] : [];
    const out = await child(['--expose-gc', ...transferFlag], `
      process.on('uncaughtException', (e) => {
        let closed = false;
        try { s.stats(); } catch (x) { closed = x.code === 'ERR_SOCKET_CLOSED'; }
        s.close();
        process.stdout.write(e.code + ' closed=' + closed); process.exit(0);
      });
      let handled = 0;
      s.start((m) => { handled++; m.buffer.transfer(); return undefined; });
      c.send('a', s.port, '127.0.0.1'); await until(() => handled >= 1);
      gc();
      // The error ends the process from its handler; without one, 'b' is handled and nothing is raised.
      c.send('b', s.port, '127.0.0.1'); await until(() => handled >= 2); await wait(20);
      process.stdout.write('no error'); process.exit(0);`);
    assert.equal(out, 'ERR_BATCHED_UDP_DETACHED closed=true');
  });

  it('lets a worker thread end with its sockets open, on its own or by terminate(), and the process carries on', async () => {
    // In a child whose main thread never loads the addon, so that the worker's exit unloads it.
    const addon = join(__dirname, '..', '..', 'dns', 'server', 'udp-batch.js');
    const worker = `const { BatchedUdpSocket } = require(${JSON.stringify(addon)});
      const { parentPort, workerData } = require('node:worker_threads');
      const a = BatchedUdpSocket.open('127.0.0.1', 0); a.start((m) => m);
      const b = BatchedUdpSocket.open('127.0.0.1', 0); b.start((m) => m);
      if (workerData === 'own') { a.unref(); b.unref(); }
      parentPort.postMessage(a.port);`;
    const script = `const { Worker } = require('node:worker_threads');
      (async () => {
        for (const ending of ['own', 'terminate']) {
          const w = new Worker(${JSON.stringify(worker)}, { eval: true, workerData: ending });
          await new Promise((r) => w.once('message', r));
          const exited = new Promise((r) => w.once('exit', r));
          if (ending === 'terminate') await w.terminate();
          await exited;
          process.stdout.write(ending + ' ');
        }
        await new Promise((r) => setTimeout(r, 50));
        process.stdout.write('done');
      })();`;
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 10_000 });
    assert.equal(stdout, 'own terminate done');
  });
});
