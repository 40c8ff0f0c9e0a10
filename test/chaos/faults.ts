/**
 * The fault schedule: by share of the run, what breaks. The scheduler is SIGKILLed for most of
 * the first fifth and started again on its data folder; each feed fails twice over (killed then
 * frozen; emptied then truncated; tampered then expired), the feeds stay broken once broken, and
 * the GeoDNS process is SIGKILLed and started again while all three are down.
 */
import type { Phase } from './replay';

/** Kinds of faults, in schedule order. */
export const FAULT_KINDS = ['scheduler-kill', 'scheduler-restart', 'bgp-kill', 'bgp-restart', 'bgp-freeze', 'ris-empty', 'ris-truncate', 'package-tamper', 'package-expire', 'dns-kill'] as const;
/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** When each fault strikes (share of the run). `bgp-restart` brings the daemons back only to freeze them. */
export const FAULT_SCHEDULE: readonly { readonly kind: FaultKind; readonly at: number; readonly describe: string }[] = [
  { kind: 'scheduler-kill', at: 0.01, describe: 'scheduler SIGKILLed (the GeoDNS keeps its last workload set)' },
  { kind: 'scheduler-restart', at: 0.19, describe: 'scheduler started again on its data folder and port' },
  { kind: 'bgp-kill', at: 0.20, describe: 'both BIRD daemons SIGKILLed' },
  { kind: 'bgp-restart', at: 0.28, describe: 'both BIRD daemons started again' },
  { kind: 'bgp-freeze', at: 0.31, describe: 'both BIRD daemons SIGSTOPped (sessions end when the hold timer expires)' },
  { kind: 'ris-empty', at: 0.40, describe: 'RIS archive emptied' },
  { kind: 'ris-truncate', at: 0.50, describe: 'RIS archive serves every file cut to 60%' },
  { kind: 'package-tamper', at: 0.60, describe: 'package bytes altered after the signed digest' },
  { kind: 'package-expire', at: 0.70, describe: 'zone re-signed with signatures expired a day ago' },
  { kind: 'dns-kill', at: 0.80, describe: 'GeoDNS SIGKILLed and started again' },
];

/** Share of the run at which each phase starts. */
const PHASE_STARTS: readonly [number, Phase][] = [[0, 'scheduler down'], [0.2, 'BGP down'], [0.4, 'BGP+RIS down'], [0.6, 'all three down'], [0.8, 'DNS restart']];

/** The phase of the run at share `t`, named after what is broken. */
export function phaseAt(t: number): Phase {
  let phase: Phase = 'scheduler down';
  for (const [from, p] of PHASE_STARTS) if (t >= from) phase = p;
  return phase;
}
