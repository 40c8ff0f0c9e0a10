import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dumpMrt } from '../../../../../dns/cli';
import { mrtSamples, runToFile } from './samples';

const CLI = resolve(__dirname, '../../../../../scheduler/cli/main.js');

class Collect {
  text = '';
  write(s: string): boolean { this.text += s; return true; }
}

function firstDifference(want: string[], got: string[]): string {
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i]) return `line ${i + 1}:\n  bgpdump: ${want[i]}\n  ours:    ${got[i]}`;
  }
  return 'none';
}

describe('meridian mrt dump', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'meridian-mrt-dump-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('finds the six MRT samples to compare', () => {
    assert.equal(mrtSamples().length, 6, mrtSamples().join(', '));
  });

  for (const file of mrtSamples()) {
    it(`prints exactly the lines bgpdump -m prints for ${basename(file)}`, async () => {
      const refFile = join(dir, `${basename(file)}.bgpdump`);
      const ref = await runToFile('bgpdump', ['-m', file], refFile);
      assert.equal(ref.code, 0, ref.stderr);
      const want = readFileSync(refFile, 'utf8').split('\n');
      const out = new Collect();
      const err = new Collect();
      const result = await dumpMrt([file], out, err);
      assert.equal(err.text, '');
      assert.equal(result.errors, 0);
      const got = out.text.split('\n');
      assert.ok(want.length > 10, `bgpdump printed ${want.length} lines`);
      assert.equal(got.length, want.length, firstDifference(want, got));
      assert.ok(want.every((line, i) => line === got[i]), firstDifference(want, got));
      rmSync(refFile);
    });
  }

  it('reads bzip2 the same as gzip, and standard input through the meridian command', async () => {
    const file = mrtSamples().find((f) => f.includes('rrc06'));
    assert.ok(file);
    const bz2 = join(dir, 'rrc06.bz2');
    writeFileSync(bz2, execFileSync('bzip2', ['-c'], { input: gunzipSync(readFileSync(file)), maxBuffer: 1 << 28 }));
    const refFile = join(dir, 'ref');
    await runToFile('bgpdump', ['-m', file], refFile);
    const want = readFileSync(refFile, 'utf8');
    const out = new Collect();
    await dumpMrt([bz2], out, new Collect());
    assert.equal(out.text, want);
    const cliOut = join(dir, 'cli');
    const r = await runToFile(process.execPath, [CLI, 'mrt', 'dump', '-'], cliOut, bz2);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(cliOut, 'utf8'), want);
    // A file smaller than one bzip2 block (4,795 bytes of MRT) reads to its end too.
    const small = mrtSamples().find((f) => f.includes('add_path')) as string;
    const smallBz2 = join(dir, 'small.bz2');
    writeFileSync(smallBz2, execFileSync('bzip2', ['-c'], { input: gunzipSync(readFileSync(small)) }));
    await runToFile('bgpdump', ['-m', small], refFile);
    const smallOut = new Collect();
    const r2 = await dumpMrt([smallBz2], smallOut, new Collect());
    assert.equal(r2.errors, 0);
    assert.equal(smallOut.text, readFileSync(refFile, 'utf8'));
  });

  it('dumps several files in order and exits 1 with the reason when one is corrupt', async () => {
    const [a, b] = mrtSamples().filter((f) => /rrc06|add_path/.test(f));
    const broken = join(dir, 'broken.gz');
    const bytes = readFileSync(a);
    writeFileSync(broken, bytes.subarray(0, bytes.length - 100));
    const outFile = join(dir, 'several');
    const r = await runToFile(process.execPath, [CLI, 'mrt', 'dump', b, broken], outFile);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.gz: .*(gzip|ends inside)/);
    const lines = readFileSync(outFile, 'utf8').split('\n');
    assert.ok(lines[0].startsWith('TABLE_DUMP2_AP|'));
    assert.ok(lines.some((l) => l.startsWith('BGP4MP|')));
    const usage = await runToFile(process.execPath, [CLI, 'mrt', 'dump'], join(dir, 'usage'));
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /name at least one MRT file/);
  });
});
