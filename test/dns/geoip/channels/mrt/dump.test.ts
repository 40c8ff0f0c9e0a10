import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { dumpMrt } from '../../../../../dns/cli';
import type { PathAttributes } from '../../../../../dns/geoip/channels/bgp/attributes';
import { encodeRecord, openInput, readElements } from '../../../../../dns/geoip/channels/mrt';
import { BgpdumpLineWriter } from '../../../../../dns/geoip/channels/mrt/line-writer';
import { mrtSamples, runToFile } from './samples';

/** The dump without its byte fast path: every record decoded, every element formatted on its own. */
async function dumpElementByElement(path: string): Promise<{ text: string; errors: string }> {
  const chunks: Buffer[] = [];
  const writer = new BgpdumpLineWriter((c) => chunks.push(c), 4096);
  let errors = '';
  await readElements(openInput(path), (e) => writer.write(e), (e) => { errors += `${path}: ${e.message}\n`; });
  writer.flush();
  return { text: Buffer.concat(chunks).toString('latin1'), errors };
}

const CLI = resolve(__dirname, '../../../../../scheduler/cli/main.js');

class Collect {
  text = '';
  write(s: Uint8Array | string): boolean { this.text += typeof s === 'string' ? s : Buffer.from(s).toString('latin1'); return true; }
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

  it('writes through a stream that holds chunks a while, reusing them once written, byte for byte as bgpdump -m', async () => {
    // 13.5 MB of MRT that print as 71.7 MB: some input chunks fill two output chunks between the dump's waits for drain.
    const file = mrtSamples().find((f) => f.includes('et-header')) as string;
    const refFile = join(dir, 'reuse.bgpdump');
    assert.equal((await runToFile('bgpdump', ['-m', file], refFile)).code, 0);
    const outFile = join(dir, 'reuse.out');
    // A small high-water mark: most chunks wait in the stream's buffer while the dump goes on.
    const stream = createWriteStream(outFile, { highWaterMark: 1024 });
    let chunks = 0;
    const sink = {
      write: (chunk: Uint8Array | string, done?: (error?: Error | null) => void): boolean => { chunks++; return stream.write(chunk, done); },
      once: (event: 'drain', listener: () => void): unknown => stream.once(event, listener),
    };
    const result = await dumpMrt([file], sink, new Collect());
    stream.end();
    await once(stream, 'close');
    assert.equal(result.errors, 0);
    assert.ok(chunks > 4, `${chunks} chunks`);
    assert.ok(readFileSync(outFile).equals(readFileSync(refFile)), firstDifference(readFileSync(refFile, 'utf8').split('\n'), readFileSync(outFile, 'utf8').split('\n')));
  });

  it('prints a RIB dump of more distinct attribute sets than its tail cache holds, some repeated within a record, as bgpdump -m does', async () => {
    const t = 1_700_000_000;
    const records = [encodeRecord({ kind: 'peer-index', timestamp: t, collectorId: '193.0.4.28', viewName: '',
      peers: [{ bgpId: '10.0.0.1', address: '192.0.2.1', asn: 64500 }, { bgpId: '10.0.0.2', address: '2001:db8::2', asn: 4_200_000_000 }] })];
    // 30,000 prefixes with a path of their own (about 9 MB of cached keys and text, twice the cache),
    // every third one announced by both peers with the same attributes.
    for (let i = 0; i < 30_000; i++) {
      const attributes = (p: number): PathAttributes => ({ origin: 0, asPath: [{ type: 2, asns: [64500 + p, 3356, 100_000 + i, 4_000_000_000 - i] }],
        nextHop: `192.0.2.${p + 1}`, med: i, communities: [(3356 << 16) | (i & 0xffff), 0xffffff01] });
      records.push(encodeRecord({ kind: 'rib', timestamp: t, subtype: 2, sequence: i, afi: 1, safi: 1,
        prefix: `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`,
        entries: [{ peerIndex: 0, originatedAt: t, attributes: attributes(0) }, { peerIndex: 1, originatedAt: t, attributes: attributes(i % 3 === 0 ? 0 : 1) }] }));
    }
    const file = join(dir, 'many-tails.mrt');
    writeFileSync(file, Buffer.concat(records));
    const refFile = join(dir, 'many-tails.bgpdump');
    assert.equal((await runToFile('bgpdump', ['-m', file], refFile)).code, 0);
    const want = readFileSync(refFile, 'utf8');
    const out = new Collect();
    const result = await dumpMrt([file], out, new Collect());
    assert.equal(result.lines, 60_000);
    assert.ok(out.text === want, firstDifference(want.split('\n'), out.text.split('\n')));
  });

  it('prints a BGP4MP_ET microsecond field of more than six digits whole, as bgpdump -m does', async () => {
    const file = join(dir, 'et-microseconds.mrt');
    const state = { kind: 'bgp4mp-state', timestamp: 1445565678, subtype: 0, peerAs: 3856, localAs: 12654, interfaceIndex: 0, afi: 1,
      peerAddress: '206.220.231.55', localAddress: '193.0.4.28', oldState: 1, newState: 2 } as const;
    writeFileSync(file, Buffer.concat([1234567, 42, 999999].map((microseconds) => encodeRecord({ ...state, microseconds }))));
    const refFile = join(dir, 'et-microseconds.bgpdump');
    const ref = await runToFile('bgpdump', ['-m', file], refFile);
    assert.equal(ref.code, 0, ref.stderr);
    const want = readFileSync(refFile, 'utf8');
    assert.match(want, /\|1445565678\.1234567\|STATE\|/);
    const out = new Collect();
    await dumpMrt([file], out, new Collect());
    assert.equal(out.text, want);
    assert.equal((await dumpElementByElement(file)).text, want);
  });

  it('writes every sample byte for byte the same through its fast path as element by element', async () => {
    for (const file of mrtSamples()) {
      const out = new Collect();
      const err = new Collect();
      await dumpMrt([file], out, err);
      const slow = await dumpElementByElement(file);
      assert.equal(out.text, slow.text, basename(file));
      assert.equal(err.text, slow.errors, basename(file));
    }
  });

  it('writes the same lines and reports the same errors as element by element on randomly damaged records', async () => {
    const bases = [
      gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('rrc06')) as string)).subarray(0, 30_000),
      gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('add_path')) as string)),
      gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('et-header')) as string)).subarray(0, 30_000),
      gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('20160811')) as string)).subarray(0, 30_000),
      gunzipSync(readFileSync(mrtSamples().find((f) => f.includes('20020722')) as string)).subarray(0, 30_000),
    ];
    const damagedFile = join(dir, 'damaged.mrt');
    let withErrors = 0;
    for (const base of bases) {
      await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (edits) => {
        const damaged = Uint8Array.from(base);
        for (const [i, v] of edits) damaged[i] = v;
        writeFileSync(damagedFile, damaged);
        const out = new Collect();
        const err = new Collect();
        await dumpMrt([damagedFile], out, err);
        const slow = await dumpElementByElement(damagedFile);
        if (err.text !== '') withErrors++;
        assert.equal(out.text, slow.text);
        assert.equal(err.text, slow.errors);
      }), { numRuns: 120 });
    }
    assert.ok(withErrors > 0, 'some damage was reported');
  });

  it('reads bzip2 through lbzip2, bzip2 or, when no such program runs, its JavaScript decoder, and reports a corrupt bzip2 stream after what it read', async () => {
    const file = mrtSamples().find((f) => f.includes('20160811'));
    assert.ok(file);
    const raw = gunzipSync(readFileSync(file));
    const bz2 = join(dir, 'updates.bz2');
    writeFileSync(bz2, execFileSync('bzip2', ['-c'], { input: raw, maxBuffer: 1 << 28 }));
    const refFile = join(dir, 'ref-updates');
    await runToFile('bgpdump', ['-m', file], refFile);
    const want = readFileSync(refFile, 'utf8');
    const out = new Collect();
    const r = await dumpMrt([bz2], out, new Collect(), { bzip2Command: join(dir, 'no-such-bzip2') });
    assert.equal(r.errors, 0);
    assert.equal(out.text, want);
    // Both programs' output, in whatever pieces their pipes hand over (bzip2 writes 5,000 bytes at a time).
    for (const bzip2Command of ['lbzip2', 'bzip2']) {
      const viaProgram = new Collect();
      const rp = await dumpMrt([bz2], viaProgram, new Collect(), { bzip2Command });
      assert.equal(rp.errors, 0, bzip2Command);
      assert.ok(viaProgram.text === want, `${bzip2Command}: ${firstDifference(want.split('\n'), viaProgram.text.split('\n'))}`);
    }
    // Damage the last of its bzip2 blocks: bzip2 gives the blocks before it, then its complaint;
    // lbzip2 decodes blocks in parallel and may stop before it has written the earlier ones, so it
    // gives some of them, in order; the JavaScript decoder only complains. Of a list, the first
    // program that starts runs.
    const bytes = Buffer.from(readFileSync(bz2));
    for (let i = bytes.length - 2000; i < bytes.length - 1900; i++) bytes[i] ^= 0x55;
    const broken = join(dir, 'broken.bz2');
    writeFileSync(broken, bytes);
    const missing = join(dir, 'no-such-bzip2');
    for (const bzip2Command of ['lbzip2', 'bzip2', [missing, 'bzip2'], missing]) {
      const partial = new Collect();
      const err = new Collect();
      const b = await dumpMrt([broken], partial, err, { bzip2Command });
      const name = String(bzip2Command);
      assert.deepEqual(b.failedInputs, [broken], name);
      assert.match(err.text, /the bzip2 stream is corrupt/, name);
      const lines = partial.text.split('\n');
      if (bzip2Command === 'lbzip2') {
        // Whatever it printed is the start of the file's elements, whole lines only.
        assert.equal(lines[lines.length - 1], '', `${name}: the output ends with a whole line`);
        assert.deepEqual(lines.slice(0, -1), want.split('\n').slice(0, lines.length - 1), name);
      } else if (bzip2Command !== missing) {
        assert.ok(lines.length > 1000, `${name}: ${lines.length} lines before the damage`);
        assert.deepEqual(lines.slice(0, 1000), want.split('\n').slice(0, 1000));
      }
    }
  });

  it('loads only the mrt command\'s modules and no package for meridian mrt, and lists every command for --help', async () => {
    const empty = join(dir, 'empty.mrt');
    writeFileSync(empty, '');
    const script = `const { main } = require(${JSON.stringify(CLI)});
      main(['mrt', 'dump', ${JSON.stringify(empty)}], {}).then((code) => {
        const all = Object.keys(require.cache);
        const loaded = all.filter((k) => k.includes('/cli/commands/')).map((k) => k.replace(/.*\\/commands\\//, ''));
        const packages = all.filter((k) => k.includes('/node_modules/'));
        process.stdout.write(JSON.stringify({ code, loaded, packages }));
      });`;
    const outFile = join(dir, 'lazy');
    const r = await runToFile(process.execPath, ['-e', script], outFile);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(outFile, 'utf8');
    const { code, loaded, packages } = JSON.parse(text.slice(text.lastIndexOf('{"code"'))) as { code: number; loaded: string[]; packages: string[] };
    assert.equal(code, 0);
    assert.deepEqual(loaded.sort(), ['mrt.js']);
    // Each package costs start-up time, which a dump of a short file is mostly made of.
    assert.deepEqual(packages, []);
    const help = await runToFile(process.execPath, [CLI, '--help'], outFile);
    assert.equal(help.code, 0);
    const listed = readFileSync(outFile, 'utf8');
    for (const name of ['up', 'serve', 'apply', 'plan', 'get', 'delete', 'regions', 'emulators', 'geoip', 'resolve', 'mrt']) {
      assert.match(listed, new RegExp(`^  ${name} `, 'm'), name);
    }
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
