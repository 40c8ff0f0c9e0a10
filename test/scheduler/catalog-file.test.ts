import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCatalog, readCatalogFile, tryFindRegion } from '../../providers';
import { startEmulators, type RunningEmulators } from '../../providers/emulator';
import { serveCommand } from '../../scheduler/cli/commands/serve';
import { loadSchedulerConfig, SchedulerConfigError } from '../../scheduler/config';
import { startScheduler, type SchedulerService } from '../../scheduler/service';
import { refreshedCatalog, writeCatalogFile } from '../stacks/catalog-fixture';
import { FAST_RESILIENCE, liveInstances } from './e2e/helpers';
import { waitFor } from './fakes';

const TOKEN = 'catalog-file-test-token-0123456';
/** An opt-in AWS region that only the catalog file has. */
const NEW_REGION = 'eu-test-1';

/** A refreshed catalog file whose AWS section has one more region, opt-in, offering m6i.large. */
function catalogWithNewRegion(dir: string): string {
  const doc = refreshedCatalog();
  const aws = doc.clouds.aws;
  aws.regions.push({ id: NEW_REGION, name: 'Europe (Test)', country: 'DE', continent: 'EU', lat: 50.1, lon: 8.7, priceFactor: 1, access: 'opt-in' });
  const size = aws.sizes.find((s) => s.name === 'm6i.large');
  assert.ok(size, 'the bundled catalog has m6i.large');
  size.offeredIn.push(NEW_REGION);
  return writeCatalogFile(dir, doc);
}

function buffer(): { text: () => string; write: (s: string) => boolean } {
  let out = '';
  return { text: () => out, write: (s: string) => { out += s; return true; } };
}

describe('scheduler.catalog.file and scheduler.regions.enabled', () => {
  let dir: string;
  let emulators: RunningEmulators | undefined;
  let svc: SchedulerService | undefined;

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-catalog-file-')); });
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
    await emulators?.stop();
    emulators = undefined;
    installCatalog();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enables an opt-in region only the catalog file has, and places a workload there on the emulated cloud', async function () {
    this.timeout(60_000);
    assert.equal(tryFindRegion('aws', NEW_REGION), undefined, 'the bundled catalog lacks the region');
    const file = catalogWithNewRegion(dir);
    emulators = await startEmulators({ ports: { aws: 0, azure: 0, alibaba: 0 }, pendingMs: 50, resilience: FAST_RESILIENCE, catalogs: readCatalogFile(file) });
    const config = loadSchedulerConfig({
      dataDir: ':memory:', api: { token: TOKEN, port: 0 }, reconciler: { intervalMs: 50, refreshIntervalSeconds: 0.3 },
      regions: { enabled: [`aws:${NEW_REGION}`] }, catalog: { file },
    });
    assert.deepEqual(config.regions.enabled, [`aws:${NEW_REGION}`]);
    svc = await startScheduler({ config, providers: emulators.providersConfig, log: () => undefined });
    const put = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(`${svc!.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.ok(res.ok, `${path}: ${res.status} ${await res.text()}`);
    };
    await put('/v1/policies/test-only', {
      apiVersion: 'meridian/v1', kind: 'RegionPolicy', metadata: { name: 'test-only' }, spec: { regions: { allow: [`aws:${NEW_REGION}`] } },
    });
    await put('/v1/workloads/api', {
      name: 'api', replicas: 2, size: { aws: 'm6i.large' }, image: { aws: 'ami-0123456789abcdef0' }, policy: 'test-only', dns: { name: 'api.meridian.test', ttl: 30 },
    });
    await waitFor('two running instances in the new region', async () => {
      const live = await liveInstances(emulators!, 'api');
      return live.length === 2 && live.every((i) => i.state === 'running');
    }, 45_000, 50);
    const live = await liveInstances(emulators, 'api');
    assert.deepEqual(live.map((i) => [i.cloud, i.region, i.type]), [['aws', NEW_REGION, 'm6i.large'], ['aws', NEW_REGION, 'm6i.large']]);
  });

  it('refuses an enabled region that neither the file nor the bundled catalog has, naming its key path in the serve config', async () => {
    const file = catalogWithNewRegion(dir);
    const serve = async (scheduler: Record<string, unknown>): Promise<SchedulerConfigError> => {
      const config = join(dir, 'meridian.json');
      writeFileSync(config, JSON.stringify({ scheduler: { dataDir: join(dir, 'data'), ...scheduler } }));
      try {
        await serveCommand({ argv: ['--config', config, '--port', '0'], env: {}, stdout: buffer(), stderr: buffer() });
      } catch (err) {
        assert.ok(err instanceof SchedulerConfigError, String(err));
        return err;
      }
      assert.fail('serve started');
    };
    const withFile = await serve({ catalog: { file }, regions: { enabled: [`aws:${NEW_REGION}`, 'aws:eu-tset-1', 'aws:mars-1'] } });
    assert.deepEqual(withFile.issues, [
      { path: '/scheduler/regions/enabled/1', message: `unknown region 'aws:eu-tset-1'; did you mean 'aws:${NEW_REGION}'?` },
      { path: '/scheduler/regions/enabled/2', message: "unknown region 'aws:mars-1'" },
    ]);
    // Without the file, the bundled catalog decides, and it lacks the region.
    const bundled = await serve({ regions: { enabled: [`aws:${NEW_REGION}`] } });
    assert.deepEqual(bundled.issues.map((i) => i.path), ['/scheduler/regions/enabled/0']);
    assert.match(bundled.message, new RegExp(`/scheduler/regions/enabled/0: unknown region 'aws:${NEW_REGION}'`));
  });
});
