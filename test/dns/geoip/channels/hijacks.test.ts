import { strict as assert } from 'node:assert';
import type { SuspectedHijack } from '../../../../dns/geoip/channels';
import { describeHijack, HijackLog } from '../../../../dns/geoip/channels/hijacks';

const T0 = 1_700_000_000_000;

function hijack(prefix: string, newOrigin: number, peers: string[], firstSeenAt = T0): SuspectedHijack {
  return { prefix, oldOrigin: 64500, coveringPrefix: undefined, newOrigin, peers, asPath: [65000, newOrigin], firstSeenAt };
}

describe('suspected hijack log', () => {
  it('counts an event once however many builds report it, and ends it when it is no longer reported', () => {
    const log = new HijackLog();
    const h = hijack('10.0.0.0/16', 666, ['bgp:a']);
    assert.deepEqual(log.observe([h], T0 + 10), [h]);
    assert.deepEqual(log.observe([h], T0 + 20), [], 'already reported');
    assert.deepEqual(log.observe([{ ...h, peers: ['bgp:b'] }], T0 + 30), [], 'another peer, same event');
    const s = log.summary();
    assert.deepEqual([s.total, s.active], [1, 1]);
    assert.deepEqual(s.recent, [{
      prefix: '10.0.0.0/16', oldOrigin: 64500, newOrigin: 666, coveringPrefix: null, peers: ['bgp:a', 'bgp:b'], asPath: [65000, 666],
      firstSeenAt: T0, reportedAt: T0 + 10, endedAt: null,
    }]);
    log.observe([], T0 + 40);
    assert.deepEqual([log.summary().total, log.summary().active, log.summary().recent[0]?.endedAt], [1, 0, T0 + 40]);
    assert.equal(log.observe([{ ...h, firstSeenAt: T0 + 50 }], T0 + 60).length, 1, 'announced again later: a new event');
    assert.equal(log.summary().total, 2);
  });

  it('keeps the newest events first, at most its limit, and still counts every one', () => {
    const log = new HijackLog(3);
    for (let i = 0; i < 5; i++) log.observe([hijack(`10.${i}.0.0/16`, 666, ['bgp:a'])], T0 + i);
    const s = log.summary();
    assert.equal(s.total, 5);
    assert.deepEqual(s.recent.map((e) => e.prefix), ['10.4.0.0/16', '10.3.0.0/16', '10.2.0.0/16']);
    assert.equal(s.active, 1, 'each build reported only its own');
    assert.throws(() => new HijackLog(0), /limit/);
  });

  it('describes an event in one line with prefix, origins, peers and time', () => {
    const line = describeHijack({ ...hijack('10.0.5.0/24', 666, ['bgp:a', 'bgp:b']), coveringPrefix: '10.0.0.0/16' });
    assert.equal(line, 'suspected BGP hijack: 10.0.5.0/24 announced from AS666 (a more-specific of 10.0.0.0/16, originated by AS64500) by bgp:a, bgp:b ' +
      'since 2023-11-14T22:13:20.000Z, path 65000 666; the prefix keeps its last good location');
  });
});
