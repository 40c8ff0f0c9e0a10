/** The chaos run's table: answered and reasonable shares overall, per phase and per server, answers by source, convergence per event. */
import type { ChaosResult } from './run';
import { FAMILIES, PHASES, type ServerResult, type Tally } from './replay';
import type { RoutingEvent } from './timeline';
import { regionsOf, WORKLOAD_NAMES } from './world';
import { phaseAt } from './faults';

/** How long the server took to give an event's prefix its true place (undefined: it did not while watched). */
export interface Convergence {
  readonly event: RoutingEvent;
  readonly ms: number | undefined;
  readonly note: string;
}

/** A share as a percentage with enough digits to tell 99.992 from 99.999. */
export function percent(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(4)}%`;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [row(head, widths), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => row(r, widths))].join('\n');
}

function shares(t: Tally): string[] {
  return [String(t.sent), percent(t.answered, t.sent), percent(t.strict, t.answered), percent(t.tolerant, t.answered), String(t.answered - t.tolerant)];
}

/** The report as Markdown tables. */
export function formatReport(r: ChaosResult): string {
  const o = r.options;
  const out: string[] = [];
  out.push(`Chaos run: seed ${o.seed}, ${o.queries} queries over ${(r.durationMs / 1000).toFixed(0)} s, ${o.prefixes} IPv4 and ${o.prefixes6} IPv6 client prefixes `
    + `(${(o.ipv6Share * 100).toFixed(0)}% of the queries from IPv6), tolerance ${o.toleranceKm} km`);
  out.push('');
  const head = ['server / phase', 'queries', 'answered', 'strict', 'tolerant', 'wrong (tolerant)'];
  const rows: string[][] = [];
  const servers: [string, ServerResult][] = [['Meridian, all channels', r.main], ['Meridian, geoip-lite only', r.contrast]];
  if (r.gdnsd) servers.push(['gdnsd 3, geoip-lite data', r.gdnsd]);
  for (const [name, res] of servers) {
    rows.push([`${name}: overall`, ...shares(res.overall)]);
    for (const f of FAMILIES) rows.push([`  IPv${f} clients`, ...shares(res.byFamily[f])]);
    for (const p of PHASES) rows.push([`  ${p}`, ...shares(res.byPhase[p])]);
  }
  out.push(table(head, rows));
  out.push('');
  out.push(`Answered after a retry (server away while restarting): ${r.main.retried}. Wrong answers (strict): Meridian ${r.main.wrong.length}, geoip-lite only ${r.contrast.wrong.length}`
    + `${r.gdnsd ? `, gdnsd ${r.gdnsd.wrong.length}` : ''}.`);
  out.push('');
  const sources = [...new Set(PHASES.flatMap((p) => Object.keys(r.bySource[p])))].sort();
  out.push(table(['answers by source (server metrics)', ...sources], PHASES.map((p) => [p, ...sources.map((s) => String(r.bySource[p][s] ?? 0))])));
  out.push('');
  out.push(table(['routing event', 'at', 'what', 'converged after', 'how'], r.convergence.slice().sort((a, b) => a.event.at - b.event.at).map((c) => [
    c.event.kind, `${(c.event.at * 100).toFixed(0)}%`, c.event.describe, c.ms === undefined ? '-' : `${(c.ms / 1000).toFixed(1)} s`, c.note,
  ])));
  const failed = r.faults.filter((f) => f.error);
  out.push('');
  out.push(`Faults: ${r.faults.map((f) => `${f.kind}@${(f.at * 100).toFixed(0)}%${f.error ? ` FAILED: ${f.error}` : ''}`).join(', ')}${failed.length ? '' : ' (all inflicted)'}`);
  // Where the wrong answers come from: the event prefixes or the rest.
  const eventClients = new Map(r.events.map((e) => [e.client, e]));
  const cause = new Map<string, number>();
  for (const w of r.main.wrong) {
    const e = eventClients.get(w.client);
    const k = e ? `${e.kind} ${e.describe}` : 'no event on the prefix';
    cause.set(k, (cause.get(k) ?? 0) + 1);
  }
  if (cause.size) {
    out.push('');
    out.push(table(['Meridian wrong answers (strict) by prefix', 'answers'], [...cause].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n)])));
  }
  if (r.main.wrong.length) {
    out.push('');
    out.push(table(['first wrong answers: at', 'phase', 'client subnet', 'workload', 'answered', 'truth', 'tolerated'], r.main.wrong.slice(0, 12).map((w) => [
      `${(w.at * 100).toFixed(2)}%`, phaseAt(w.at), r.clientNames[w.client] ?? String(w.client), WORKLOAD_NAMES[w.workload]!,
      regionsOf(w.workload)[w.got]!.region, regionsOf(w.workload)[w.want]?.region ?? '-', w.tolerated ? 'yes' : 'no',
    ])));
  }
  return out.join('\n');
}
