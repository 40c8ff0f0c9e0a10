import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const MOCHA = require.resolve('mocha/bin/mocha.js');

/** Runs mocha with the project's own .mocharc.json, its spec replaced by one file of `source`. */
function runSuite(dir: string, source: string): Promise<{ code: number | null; out: string }> {
  const spec = join(dir, `s${Math.random().toString(36).slice(2)}.test.js`);
  writeFileSync(spec, source);
  const config = { ...(JSON.parse(readFileSync(join(ROOT, '.mocharc.json'), 'utf8')) as Record<string, unknown>), spec: [spec] };
  const rc = join(dir, 'mocharc.json');
  writeFileSync(rc, JSON.stringify(config));
  return new Promise((done) => {
    execFile(process.execPath, [MOCHA, '--config', rc], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('the test runner configuration', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-mocharc-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the run when a test is marked .only, before running anything', async () => {
    const { code, out } = await runSuite(dir, `describe('x', () => { it.${'only'}('one', () => {}); it('two', () => {}); });`);
    assert.notEqual(code, 0, out);
    assert.match(out, /\.only.*forbidden/);
    assert.doesNotMatch(out, /passed/);
  });

  it('fails the run when a test is skipped', async () => {
    const { code, out } = await runSuite(dir, `describe('x', () => { it.${'skip'}('one', () => {}); it('two', () => {}); });`);
    assert.notEqual(code, 0, out);
    assert.match(out, /Pending test forbidden/);
  });

  it('counts in its summary line the tests a failing hook kept from running', async () => {
    const { code, out } = await runSuite(dir, `describe('x', () => { before(() => { throw new Error('no fixture'); }); it('one', () => {}); it('two', () => {}); });
      describe('y', () => { it('three', () => {}); });`);
    assert.notEqual(code, 0, out);
    assert.match(out, /^1 passed, 1 failed, 2 not run \(a hook failed\)$/m);
  });

  it('ends a clean run with the bare passed and failed counts', async () => {
    const { code, out } = await runSuite(dir, `describe('x', () => { it('one', () => {}); it('two', () => {}); });`);
    assert.equal(code, 0, out);
    assert.match(out, /^2 passed, 0 failed$/m);
  });
});
