import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CatalogFileError, bundledCatalogData, installCatalog, readCatalogFile, tryFindSize, type CloudCatalogData, type CloudId,
} from '../../providers';
import { readCloudCatalog } from '../../providers/drivers';
import { AlibabaEmulator, AwsEmulator, TEST_CREDENTIALS, startEmulators, type RunningEmulators } from '../../providers/emulator';
import { catalogCommand } from '../../scheduler/cli/commands/catalog';
import { loadSchedulerConfig, SchedulerConfigError } from '../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../scheduler/service';

const TOKEN = 'catalog-refresh-test-token-0123';

/** The bundled data of a cloud plus one type offered in one region only, which the bundled catalog lacks. */
function withExtraType(cloud: CloudId, name: string, region: string): CloudCatalogData {
  const base = bundledCatalogData(cloud);
  return { ...base, sizes: [...base.sizes, { name, vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: 0.1, offeredIn: [region] }] };
}

function buffer(): { text: () => string; write: (s: string) => boolean } {
  let out = '';
  return { text: () => out, write: (s: string) => { out += s; return true; } };
}

describe('meridian catalog refresh', () => {
  let emulators: RunningEmulators | undefined;
  let svc: SchedulerService | undefined;
  let dir: string;

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-catalog-')); });
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
    await emulators?.stop();
    emulators = undefined;
    installCatalog();
    rmSync(dir, { recursive: true, force: true });
  });

  async function refresh(extraArgs: string[] = []): Promise<{ out: string; summary: { clouds: Record<string, { source: string; regions: number; types: number; unpriced: number }> } }> {
    emulators = await startEmulators({
      ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 50,
      catalogs: {
        aws: withExtraType('aws', 'm8i.large', 'eu-central-1'),
        azure: withExtraType('azure', 'Standard_D2s_v6', 'westeurope'),
        alibaba: withExtraType('alibaba', 'ecs.g9i.large', 'cn-hangzhou'),
      },
    });
    const config = join(dir, 'providers.json');
    writeFileSync(config, JSON.stringify({ providers: emulators.providersConfig }));
    const out = join(dir, 'catalog.json');
    const stdout = buffer();
    const code = await catalogCommand({ argv: ['refresh', '--config', config, '-o', out, '--json', ...extraArgs], env: {}, stdout, stderr: buffer() });
    assert.equal(code, 0);
    return { out, summary: JSON.parse(stdout.text()) as { clouds: Record<string, { source: string; regions: number; types: number; unpriced: number }> } };
  }

  it('reads every cloud through its SDK into a dated file: offerings per region, bundled prices, unknown prices as null', async function () {
    this.timeout(120_000);
    const { out, summary } = await refresh();
    for (const c of ['aws', 'azure', 'alibaba']) assert.equal(summary.clouds[c].source, 'api', c);
    const file = JSON.parse((await import('node:fs')).readFileSync(out, 'utf8')) as {
      format: string; version: number; generatedAt: string;
      clouds: Record<CloudId, { readAt: string; pricesAsOf: string; regions: Array<{ id: string; access?: string }>; sizes: Array<{ name: string; usdPerHour: number | null; offeredIn: string[] }> }>;
    };
    assert.equal(file.format, 'meridian-catalog');
    assert.equal(file.version, 1);
    assert.ok(!Number.isNaN(Date.parse(file.generatedAt)));
    const size = (c: CloudId, n: string) => file.clouds[c].sizes.find((s) => s.name === n);
    assert.deepEqual(size('aws', 'm8i.large'), { name: 'm8i.large', vcpu: 2, memoryGiB: 8, arch: 'x86_64', usdPerHour: null, offeredIn: ['eu-central-1'] });
    assert.deepEqual(size('azure', 'Standard_D2s_v6')?.offeredIn, ['westeurope']);
    assert.deepEqual(size('alibaba', 'ecs.g9i.large')?.offeredIn, ['cn-hangzhou']);
    assert.equal(size('aws', 'm6i.large')?.usdPerHour, 0.096, 'the bundled list price is kept');
    assert.equal(file.clouds.aws.pricesAsOf, bundledCatalogData('aws').pricesAsOf);
    // DescribeRegions with AllRegions: opt-in regions come back as opt-in; GovCloud and China stay from the bundled data.
    assert.equal(file.clouds.aws.regions.find((r) => r.id === 'af-south-1')?.access, 'opt-in');
    assert.ok(file.clouds.aws.regions.some((r) => r.id === 'cn-north-1'));
    assert.equal(summary.clouds.aws.unpriced, 1);
    // An opt-in region the account did not enable is not read: its offerings are the bundled ones.
    assert.ok(size('aws', 'm6i.large')?.offeredIn.includes('af-south-1'));
  });

  it('makes a type only the refreshed file has placeable once the scheduler is configured with it', async function () {
    this.timeout(120_000);
    const { out } = await refresh(['--cloud', 'aws']);
    const plan = async (): Promise<{ status: number; body: { ok: boolean; message?: string; regions?: Array<{ region: string; size: string }> } }> => {
      const res = await fetch(`${svc!.url}/v1/plan`, {
        method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          workload: { name: 'api', replicas: 1, size: { aws: 'm8i.large' }, image: { aws: 'ami-0123456789abcdef0' }, policy: 'fra', dns: { name: 'api.meridian.test', ttl: 30 } },
          policy: { apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'fra' }, spec: { regions: { allow: ['aws:eu-central-1'] } } },
        }),
      });
      return { status: res.status, body: await res.json() as { ok: boolean; message?: string; regions?: Array<{ region: string; size: string }> } };
    };
    const base = { dataDir: ':memory:', api: { token: TOKEN, port: 0 }, reconciler: { intervalMs: 50 } };
    svc = await startScheduler({ config: loadSchedulerConfig(base), providers: emulators!.providersConfig, log: () => undefined });
    const before = await plan();
    assert.equal(before.status, 400);
    assert.match(before.body.message ?? '', /unknown aws instance type 'm8i\.large'/);
    await svc.stop();
    svc = await startScheduler({ config: loadSchedulerConfig({ ...base, catalog: { file: out } }), providers: emulators!.providersConfig, log: () => undefined });
    const after = await plan();
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.ok, true, JSON.stringify(after.body));
    assert.deepEqual(after.body.regions?.map((r) => [r.region, r.size]), [['eu-central-1', 'm8i.large']]);
    // The azure and alibaba sections were not read: they are the bundled ones.
    assert.equal(readCatalogFile(out).azure.sizes.length, bundledCatalogData('azure').sizes.length);
  });

  it('refuses an unknown cloud name before reading anything', async () => {
    await assert.rejects(catalogCommand({ argv: ['refresh', '--cloud', 'aws,gcp'], env: {}, stdout: buffer(), stderr: buffer() }), /--cloud: expected a comma-separated list of aws, azure, alibaba, got 'aws,gcp'/);
  });
});

describe('catalog.file', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-catalog-')); });
  afterEach(() => { installCatalog(); rmSync(dir, { recursive: true, force: true }); });

  function fileWith(mutate: (doc: Record<string, unknown>) => void): string {
    const doc = JSON.parse(JSON.stringify({
      format: 'meridian-catalog', version: 1, generatedAt: '2026-12-01T00:00:00Z',
      clouds: Object.fromEntries((['aws', 'azure', 'alibaba'] as const).map((c) => {
        const d = bundledCatalogData(c);
        return [c, {
          source: 'bundled', readAt: '2026-12-01T00:00:00Z', referenceRegion: d.referenceRegion, pricesAsOf: d.pricesAsOf, regions: d.regions,
          sizes: d.sizes.map((s) => ({ name: s.name, vcpu: s.vcpu, memoryGiB: s.memoryGiB, arch: s.arch, usdPerHour: s.usdPerHour, offeredIn: [d.referenceRegion] })),
        }];
      })),
    })) as Record<string, unknown>;
    mutate(doc);
    const path = join(dir, 'catalog.json');
    writeFileSync(path, JSON.stringify(doc));
    return path;
  }

  const refused = (path: string, ...fragments: string[]) => (e: unknown) => {
    assert.ok(e instanceof CatalogFileError, String(e));
    assert.ok(e.message.includes(path), `names the file: ${e.message}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `'${e.message}' mentions '${f}'`);
    return true;
  };

  it('loads a valid file: what it offers is what the catalog answers', () => {
    const path = fileWith(() => undefined);
    installCatalog(readCatalogFile(path));
    assert.ok(tryFindSize('aws', 'us-east-1', 'm6i.large'));
    assert.equal(tryFindSize('aws', 'eu-central-1', 'm6i.large'), undefined, 'offered only in the reference region by this file');
    installCatalog();
    assert.ok(tryFindSize('aws', 'eu-central-1', 'm6i.large'), 'the bundled catalog again');
  });

  it('refuses a missing file, a file that is not JSON, another format or version, naming the problem', () => {
    const missing = join(dir, 'nope.json');
    assert.throws(() => readCatalogFile(missing), refused(missing, 'cannot be read'));
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{ not json');
    assert.throws(() => readCatalogFile(garbage), refused(garbage, 'is not JSON'));
    assert.throws(() => readCatalogFile(fileWith((d) => { d.format = 'other'; })), refused(join(dir, 'catalog.json'), "/format: expected 'meridian-catalog'"));
    assert.throws(() => readCatalogFile(fileWith((d) => { d.version = 2; })), refused(join(dir, 'catalog.json'), '/version: version 2 is not supported'));
  });

  it('refuses bad rows with their JSON path: a missing cloud, a negative vCPU, an unknown region, a duplicate type', () => {
    const path = join(dir, 'catalog.json');
    type Doc = { clouds: Record<string, { sizes: Array<Record<string, unknown>>; regions: Array<Record<string, unknown>> }> };
    assert.throws(() => readCatalogFile(fileWith((d) => { delete (d as unknown as Doc).clouds.azure; })), refused(path, '/clouds/azure'));
    assert.throws(() => readCatalogFile(fileWith((d) => { (d as unknown as Doc).clouds.aws.sizes[0].vcpu = -2; })), refused(path, '/clouds/aws/sizes/0/vcpu'));
    assert.throws(() => readCatalogFile(fileWith((d) => { (d as unknown as Doc).clouds.alibaba.sizes[1].offeredIn = ['mars-1']; })),
      refused(path, '/clouds/alibaba/sizes/1/offeredIn: unknown region(s) mars-1'));
    assert.throws(() => readCatalogFile(fileWith((d) => { const s = (d as unknown as Doc).clouds.aws.sizes; s.push({ ...s[0] }); })), refused(path, 'duplicate instance type'));
  });

  it('refuses a bad file with the settings, naming the key, the file and the problem; and at start when it went bad since', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '[]');
    const settings = { dataDir: ':memory:', api: { token: TOKEN, port: 0 }, catalog: { file: path } };
    assert.throws(() => loadSchedulerConfig(settings), (e: unknown) => {
      assert.ok(e instanceof SchedulerConfigError, String(e));
      assert.deepEqual(e.issues.map((i) => i.path), ['/catalog/file']);
      assert.ok(e.issues[0].message.includes(`catalog file ${path} is not usable: /: expected a JSON object`), e.message);
      return true;
    });
    const good = fileWith(() => undefined);
    const config = loadSchedulerConfig({ ...settings, catalog: { file: good } });
    writeFileSync(good, '[]');
    await assert.rejects(startScheduler({ config, providers: {}, log: () => undefined }), refused(good, 'expected a JSON object'));
  });

  it('rejects a catalog key the schema does not know, with its key path', () => {
    assert.throws(() => loadSchedulerConfig({ api: { token: TOKEN }, catalog: { path: 'x.json' } }), /\/catalog/);
  });
});

describe('catalog readers page through the clouds\' lists', () => {
  it('reads every EC2 and ECS type of a region when each answer holds only a few', async function () {
    this.timeout(120_000);
    const aws = await new AwsEmulator({ maxPageSize: 7 }).start();
    const ali = await new AlibabaEmulator({ maxPageSize: 7 }).start();
    try {
      const a = await readCloudCatalog('aws', { aws: { endpoint: aws.url, credentials: { ...TEST_CREDENTIALS.aws } } });
      const offeredFra = bundledCatalogData('aws').sizes.filter((s) => tryFindSize('aws', 'eu-central-1', s.name)).map((s) => s.name).sort();
      assert.ok(offeredFra.length > 7 * 3, 'more than three pages');
      assert.deepEqual([...(a.offerings.get('eu-central-1') ?? [])].sort(), offeredFra);
      const b = await readCloudCatalog('alibaba', { alibaba: { endpoint: ali.url, ...TEST_CREDENTIALS.alibaba } });
      assert.equal(b.types.length, bundledCatalogData('alibaba').sizes.length);
      assert.equal(b.offerings.get('cn-nanjing')?.has('ecs.g8i.large'), false);
      assert.equal(b.offerings.get('cn-hangzhou')?.has('ecs.g8i.large'), true);
    } finally {
      await aws.stop();
      await ali.stop();
    }
  });
});
