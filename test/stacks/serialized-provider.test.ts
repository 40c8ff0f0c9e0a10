import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
import { OPERATIONS_MODULE, sharedInstanceProvider } from '../../stacks';
import { REFRESHED_ONLY_SIZE, writeCatalogFile } from './catalog-fixture';

const run = promisify(execFile);

// What Pulumi's dynamic-provider host does with the serialized text (getProvider in
// @pulumi/pulumi/cmd/dynamic-provider): load it as a module with no file name, so it resolves
// modules from the working directory; then one `check` of inputs with two mistakes, or of those
// inputs with the changes given as JSON in the second argument.
const HOST = `
const requireFromString = require(${JSON.stringify(require.resolve('require-from-string', { paths: [require.resolve('@pulumi/pulumi')] }))});
const text = require('node:fs').readFileSync(process.argv[1], 'utf8');
const provider = requireFromString(text).handler();
const changes = JSON.parse(process.argv[2] ?? '{}');
Promise.resolve().then(() => provider.check({}, { cloud: 'aws', region: 'mars-north-1', size: 'm6i.large', image: 'ami-1', workload: 'web', tags: { team: 7 },
  resourceUrn: 'urn:pulumi:prod::storefront::pulumi-nodejs:dynamic/meridian/cloud:Instance::web-aws-mars-north-1-0', ...changes }))
  .then((r) => console.log(JSON.stringify(r.failures ?? [])), (e) => { console.log(JSON.stringify({ error: e.message })); });
`;

describe('the Instance provider as Pulumi serializes it', function () {
  this.timeout(60_000);
  let text: string;
  let dir: string;

  before(async () => {
    // The SDK's own serialization, as dynamic.Resource calls it (serializeProvider in @pulumi/pulumi/dynamic).
    const provider = sharedInstanceProvider();
    text = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
    dir = mkdtempSync(join(tmpdir(), 'meridian-serialized-'));
    writeFileSync(join(dir, 'provider.js'), text);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the package name of the operations module and no absolute path', () => {
    assert.ok(text.includes(JSON.stringify(OPERATIONS_MODULE)) || text.includes(`'${OPERATIONS_MODULE}'`), text);
    assert.ok(!text.includes(process.cwd()), 'no working directory');
    assert.ok(!text.includes('/work/'), 'no checkout path');
    assert.ok(!/["'`]\/[a-z]/.test(text), 'no absolute path in any string');
  });

  it('loads the operations from a project that installed the package', async () => {
    // A project directory whose node_modules holds the package, as `npm install <checkout>` links it.
    const project = join(dir, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'storefront', dependencies: { meridian: '*' } }));
    symlinkSync(process.cwd(), join(project, 'node_modules', 'meridian'), 'dir');
    const { stdout } = await run(process.execPath, ['-e', HOST, join(dir, 'provider.js')], { cwd: project });
    const failures = JSON.parse(stdout) as Array<{ property: string; reason: string }>;
    assert.deepEqual(failures.map((f) => f.property).sort(), ['region', 'tags.team']);
  });

  it('checks against the catalog file named relative to the project directory it runs in', async () => {
    const project = join(dir, 'with-catalog');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'storefront', dependencies: { meridian: '*' } }));
    symlinkSync(process.cwd(), join(project, 'node_modules', 'meridian'), 'dir');
    writeCatalogFile(project);
    const fresh = { region: REFRESHED_ONLY_SIZE.region, size: REFRESHED_ONLY_SIZE.name, tags: {} };
    const check = async (changes: Record<string, unknown>) => JSON.parse((await run(process.execPath, ['-e', HOST, join(dir, 'provider.js'), JSON.stringify(changes)], { cwd: project })).stdout) as Array<{ property: string }>;
    assert.deepEqual((await check(fresh)).map((f) => f.property), ['size'], 'the bundled catalog does not have the type');
    assert.deepEqual(await check({ ...fresh, catalogFile: 'catalog.json' }), []);
  });

  it('loads the operations from Meridian\'s own project through the package\'s exports', async () => {
    const { stdout } = await run(process.execPath, ['-e', HOST, join(dir, 'provider.js')], { cwd: process.cwd() });
    const failures = JSON.parse(stdout) as Array<{ property: string }>;
    assert.deepEqual(failures.map((f) => f.property).sort(), ['region', 'tags.team']);
  });

  it('names the module and the fix when the project does not have the package', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const { stdout } = await run(process.execPath, ['-e', HOST, join(dir, 'provider.js')], { cwd: empty });
    const { error } = JSON.parse(stdout) as { error: string };
    assert.match(error, /cannot load 'meridian\/stacks\/instance-operations' from .*empty: install the meridian package/);
  });
});
