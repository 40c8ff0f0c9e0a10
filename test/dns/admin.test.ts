import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { defaultGeoTable, exampleZoneConfig, loadDnsConfig, loadZoneConfig, type RunningDnsServer, startDnsServer } from '../../dns/index';
import { QTYPE } from '../../dns/wire/index';
import { expectedRegion } from './geo-reference';
import { globalRegions, query, workload } from './fixtures';

describe('GeoDNS admin API and configuration', function () {
  this.timeout(20_000);
  let server: RunningDnsServer;
  const web = workload('web', globalRegions());

  before(async () => {
    server = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: defaultGeoTable(), workloads: [web], log: () => undefined });
  });
  after(async () => server?.close());

  const get = async (p: string): Promise<Response> => fetch(`http://127.0.0.1:${server.adminPort}${p}`);

  it('explains a lookup: location, prefix, source and the region each workload would answer', async () => {
    const res = await get('/geo/lookup?ip=81.2.69.1');
    assert.equal(res.status, 200);
    const body = await res.json() as { location: { country: string }; prefix: string; source: string; workloads: Array<{ family: string; region: string }> };
    assert.equal(body.location.country, 'GB');
    assert.match(body.prefix, /^81\.2\.\d+\.\d+\/\d+$/);
    assert.equal(body.source, 'static');
    assert.equal(body.workloads.find((w) => w.family === 'A')?.region, web.regions[expectedRegion(web, '81.2.69.1')]!.region);
    assert.equal((await get('/geo/lookup?ip=not-an-ip')).status, 400);
    assert.equal((await get('/geo/lookup')).status, 400);
  });

  it('exposes Prometheus metrics by query type, rcode, region, location source and latency', async () => {
    await query(server.port, 'web.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' });
    await query(server.port, 'nope.meridian.test', QTYPE.A);
    const text = await (await get('/metrics')).text();
    assert.match(text, /meridian_dns_queries_total\{qtype="A"\} [1-9]/);
    assert.match(text, /meridian_dns_responses_total\{rcode="NXDOMAIN"\} 1/);
    assert.match(text, /meridian_dns_answers_total\{workload="web",region="azure:westeurope",source="static"\} 1/);
    assert.match(text, /meridian_dns_geo_source_total\{source="static",channel="static"\} 1/);
    assert.match(text, /meridian_dns_location_source_total\{via="ecs"\} 1/);
    assert.match(text, /meridian_dns_query_duration_seconds_count [1-9]/);
    // Replies the batched UDP transport could not hand to the kernel: none on an idle loopback.
    assert.match(text, /^meridian_dns_udp_send_dropped_total 0$/m);
    assert.match(text, /^meridian_dns_messages_total\{transport="udp"\} [1-9]\d*$/m);
  });

  it('keeps a workload\'s answer counts when a new state of it arrives, and drops the series of a region it leaves', async () => {
    const regions = globalRegions();
    server.upsertWorkload(workload('counted', regions));
    try {
      for (let i = 0; i < 3; i++) await query(server.port, 'counted.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' });
      const series = /meridian_dns_answers_total\{workload="counted",region="azure:westeurope",source="static"\} (\d+)/;
      assert.equal(series.exec(await (await get('/metrics')).text())?.[1], '3');
      // The same regions in another order with other addresses: the counts follow the region.
      const moved = [...regions].reverse().map((r) => ({ ...r, instances: r.instances.map((x) => ({ ...x, ipv4: x.ipv4?.replace(/\.0\./, '.9.') })) }));
      server.upsertWorkload(workload('counted', moved));
      await query(server.port, 'counted.meridian.test', QTYPE.A, { ecs: '81.2.69.0/24' });
      assert.equal(series.exec(await (await get('/metrics')).text())?.[1], '4');
      server.upsertWorkload(workload('counted', regions.filter((r) => r.region !== 'westeurope')));
      assert.equal(series.exec(await (await get('/metrics')).text()), null, 'no series for a region the workload left');
    } finally {
      server.deleteWorkload('counted');
    }
  });

  it('reports health', async () => {
    const res = await get('/healthz');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { workloads: number }).workloads, 1);
  });

  it('answers every error with the scheduler API\'s shape and codes', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['GET', '/nope', 404, 'MERIDIAN_ERR_NOT_FOUND'],
      ['GET', '/geo/lookup?ip=not-an-ip', 400, 'MERIDIAN_ERR_INVALID'],
      ['GET', '/geo/lookup', 400, 'MERIDIAN_ERR_INVALID'],
      ['DELETE', '/healthz', 405, 'MERIDIAN_ERR_METHOD_NOT_ALLOWED'],
      ['POST', '/state', 405, 'MERIDIAN_ERR_METHOD_NOT_ALLOWED'],
      ['POST', '/state/confirm', 409, 'MERIDIAN_ERR_CONFLICT'],
      ['POST', '/geo/channels/bgp/fail', 404, 'MERIDIAN_ERR_NOT_FOUND'],
    ];
    for (const [method, path, status, code] of cases) {
      const res = await fetch(`http://127.0.0.1:${server.adminPort}${path}`, { method });
      assert.equal(res.status, status, `${method} ${path}`);
      const body = await res.json() as { error: string; message: string; errors: Array<{ path: string; message: string }> };
      assert.deepEqual(Object.keys(body).sort(), ['error', 'errors', 'message'], `${method} ${path}`);
      assert.equal(body.error, code, `${method} ${path}`);
      assert.ok(body.message.length > 0 && Array.isArray(body.errors), `${method} ${path}`);
      if (status === 400) assert.equal(body.errors[0]?.path, 'ip');
    }
  });

  it('is ready at once with static zones, and not before it holds the scheduler\'s state when it follows a watch stream', async () => {
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { ready: boolean }).ready, true);
    // A port nothing listens on: the watch never delivers a state.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const watching = await startDnsServer({ port: 0, adminPort: 0, zones: exampleZoneConfig(), geo: defaultGeoTable(),
      watch: { url: `http://127.0.0.1:${closed}`, token: 't', minBackoffMs: 1000, maxBackoffMs: 1000 }, log: () => undefined });
    try {
      const res = await fetch(`http://127.0.0.1:${watching.adminPort}/readyz`);
      assert.equal(res.status, 503);
      const body = await res.json() as { error: string; errors: Array<{ message: string }> };
      assert.equal(body.error, 'MERIDIAN_ERR_NOT_READY');
      assert.match(body.errors[0]!.message, /watch stream/);
      assert.equal((await fetch(`http://127.0.0.1:${watching.adminPort}/healthz`)).status, 200);
    } finally {
      await watching.close();
    }
  });

  it('rejects bad configuration with every problem and its key path', async () => {
    assert.throws(() => loadZoneConfig({ zones: [{ origin: 'x.test', soa: { mname: 'ns.x.test' }, ns: [] }] }),
      (e: Error & { issues?: Array<{ path: string }> }) => !!e.issues?.some((i) => i.path === '/zones/0/soa/rname') && !!e.issues.some((i) => i.path === '/zones/0/ns'));
    assert.throws(() => loadDnsConfig({ zones: exampleZoneConfig().zones, port: 70000, ttlBounds: { minSeconds: 10, maxSeconds: 5 } }), /\/port/);
    const clash = { zones: [{ ...exampleZoneConfig().zones[0]!, records: [{ name: 'www', type: 'CNAME', value: 'web.meridian.test' },
      { name: 'www', type: 'TXT', value: 'x' }] }] };
    return startDnsServer({ port: 0, adminPort: false, zones: loadZoneConfig(clash), geo: defaultGeoTable(), log: () => undefined })
      .then(() => assert.fail('a CNAME beside other records must be rejected'), (e: Error) => assert.match(e.message, /CNAME and other records/));
  });

  it('fills defaults and freezes the server settings', () => {
    const cfg = loadDnsConfig({ zones: exampleZoneConfig().zones });
    assert.equal(cfg.port, 5300);
    assert.equal(cfg.admin.port, 8053);
    assert.ok(Object.isFrozen(cfg));
  });
});
