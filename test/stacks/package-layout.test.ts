import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { resolveStackConfig } from '../../stacks';

const run = promisify(execFile);
const ROOT = process.cwd();

describe('the package as other projects install it', function () {
  this.timeout(60_000);

  it('loads neither the scheduler service, its store, nor a cloud SDK when imported', async () => {
    // A fresh process: what `import { Workload } from 'meridian'` loads, module by module.
    const script = `require('meridian'); console.log(JSON.stringify(Object.keys(require.cache)));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT });
    const loaded = (JSON.parse(stdout) as string[]).map((p) => p.slice(p.lastIndexOf('node_modules/') >= 0 ? p.lastIndexOf('node_modules/') : 0));
    for (const heavy of ['node_modules/@aws-sdk/', 'node_modules/@azure/', 'node_modules/@alicloud/', 'node_modules/better-sqlite3/',
      'node_modules/fastify/', 'node_modules/pg/', 'node_modules/inversify/']) {
      assert.deepEqual(loaded.filter((p) => p.startsWith(heavy)), [], `${heavy} is not loaded`);
    }
    for (const internal of ['/dist/scheduler/index.js', '/dist/scheduler/service.js', '/dist/scheduler/store/', '/dist/providers/drivers/', '/dist/dns/']) {
      assert.deepEqual(loaded.filter((p) => p.includes(internal)), [], `${internal} is not loaded`);
    }
    assert.ok(loaded.some((p) => p.endsWith('/dist/stacks/workload.js')));
  });

  it('keeps only stack configurations as Pulumi.<stack>.yaml at the project root', () => {
    // Pulumi reads every Pulumi.<name>.yaml beside Pulumi.yaml as the config of stack <name>.
    const stackFiles = readdirSync(ROOT).filter((f) => /^Pulumi\..+\.ya?ml$/.test(f));
    assert.deepEqual(stackFiles, ['Pulumi.dev.yaml']);
  });

  it('ships a real-cloud template whose config resolves once copied to the project root', () => {
    const doc = parse(readFileSync(join(ROOT, 'stacks', 'examples', 'real-clouds.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const definition = resolveStackConfig({
      documents: doc.config['meridian:documents'], workloads: doc.config['meridian:workloads'],
      tags: doc.config['meridian:tags'], readyTimeoutSeconds: doc.config['meridian:readyTimeoutSeconds'],
    }, { baseDir: ROOT });
    assert.deepEqual(definition.workloads.map((w) => w.name), ['shop']);
    assert.ok(definition.policies.some((p) => p.metadata.name === 'eu-residency'));
  });
});
