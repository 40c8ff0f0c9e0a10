import assert from 'node:assert/strict';
import { FAULT_KINDS } from './faults';
import { formatReport } from './report';
import { PHASES } from './replay';
import { CHAOS_DEFAULTS, runChaos } from './run';

// The minimum share of reasonable answers (tolerant judgment) the GeoDNS must keep through the run.
const GOAL = 0.99992;

describe('chaos run: routing changes while the scheduler is SIGKILLed, every GeoIP feed fails and the GeoDNS is SIGKILLed', function () {
  this.timeout(900_000);

  it('answers every one of 100,000 ECS queries, IPv4 and IPv6, and keeps at least 99.992% of them in a reasonable region', async () => {
    const lines: string[] = [];
    // gdnsd, the second contrast, is left to the full run: writing its database costs about 20 s.
    const r = await runChaos({ ...CHAOS_DEFAULTS, queries: 100_000, minDurationSeconds: 120, gdnsd: false, log: (l) => lines.push(l) });
    const report = formatReport(r);
    const why = `\n${report}\n${lines.join('\n')}`;
    assert.deepEqual(r.faults.map((f) => [f.kind, f.error ?? 'ok']), FAULT_KINDS.map((k) => [k, 'ok']), why);
    assert.equal(r.main.overall.sent, 100_000, why);
    assert.equal(r.main.overall.answered, r.main.overall.sent, `unanswered queries${why}`);
    for (const p of PHASES) assert.ok(r.main.byPhase[p].sent > 10_000, `phase ${p} got ${r.main.byPhase[p].sent} queries${why}`);
    // A fifth of the clients are IPv6 (ECS with an IPv6 source prefix), answered and judged as the IPv4 ones.
    assert.ok(r.main.byFamily[6].sent > 10_000, `IPv6 clients sent ${r.main.byFamily[6].sent} queries${why}`);
    assert.equal(r.main.byFamily[6].answered, r.main.byFamily[6].sent, `unanswered IPv6 queries${why}`);
    const share = r.main.overall.tolerant / r.main.overall.answered;
    assert.ok(share >= GOAL, `reasonable share ${(share * 100).toFixed(4)}% is below ${GOAL * 100}%${why}`);
    // Every re-home and new prefix reached the server's table while the run watched.
    for (const c of r.convergence) {
      if (c.event.kind === 're-home' || c.event.kind === 'new-prefix') assert.notEqual(c.ms, undefined, `${c.event.kind} ${c.event.describe}: ${c.note}${why}`);
    }
    // The restarted server answered from what it kept on disk, not only from geoip-lite's data.
    assert.ok((r.bySource['DNS restart'].cache ?? 0) > 0, `no answer from the hot-prefix cache after the restart${why}`);
    // The contrast server (geoip-lite only) gets the moved prefixes wrong.
    assert.ok(r.contrast.wrong.length > 0, `the geoip-lite-only server made no mistake${why}`);
  });
});
