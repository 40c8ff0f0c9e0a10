import { strict as assert } from 'node:assert';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { fenceHttpRequests } from '../../../scheduler/lease';

/** A raw TCP server that counts the bytes it receives, so that nothing sent goes unseen. */
async function countingServer(): Promise<{ port: number; bytes: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => {
      bytes += d.length;
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => bytes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function request(port: number, agent: http.Agent, body: string): { req: http.ClientRequest; done: Promise<string> } {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-length': Buffer.byteLength(body) } });
  const done = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(String(res.statusCode))); });
    req.on('error', reject);
  });
  req.end(body);
  return { req, done };
}

describe('HTTP request fence', () => {
  let allowed = true;
  const refused = new Error('fenced: request not sent');
  let unfence: (() => void) | undefined;
  let server: Awaited<ReturnType<typeof countingServer>> | undefined;
  let agent: http.Agent | undefined;

  beforeEach(async () => {
    allowed = true;
    unfence = fenceHttpRequests(() => (allowed ? undefined : refused));
    server = await countingServer();
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });

  afterEach(async () => {
    unfence?.();
    agent?.destroy();
    await server?.close();
  });

  it('lets requests through while the guard allows them', async () => {
    assert.equal(await request(server!.port, agent!, 'hello').done, '200');
    assert.ok(server!.bytes() > 0);
  });

  it('sends not one byte of a request refused on a connection already open', async () => {
    assert.equal(await request(server!.port, agent!, 'first').done, '200');
    const before = server!.bytes();
    allowed = false;
    await assert.rejects(request(server!.port, agent!, 'second').done, /fenced/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server!.bytes(), before);
  });

  it('checks again when the connection opens, before the data written while connecting leaves', async () => {
    const { done } = request(server!.port, agent!, 'written while connecting');
    // The write happened on this turn, before the connection could open.
    allowed = false;
    await assert.rejects(done, /fenced/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server!.bytes(), 0);
  });

  it('restores Node\'s own writes when the last guard is removed', async () => {
    allowed = false;
    unfence!();
    unfence = undefined;
    assert.equal(await request(server!.port, agent!, 'unfenced').done, '200');
    assert.equal(Object.hasOwn(http.ClientRequest.prototype, '_writeRaw'), false);
  });
});
