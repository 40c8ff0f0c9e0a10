/**
 * Elements: one line's worth of an MRT record, in the sense of bgpdump and libbgpstream: a RIB
 * entry (B), an announced (A) or withdrawn (W) prefix, or a session state change (STATE), each
 * with its peer. Pure functions of a record and the PEER_INDEX_TABLE before it.
 */
import {
  effectiveAggregator, effectiveAsPath, type Aggregator, type AsPathSegment, type PathAttributes,
} from '../bgp/attributes';
import type { MrtPeer, MrtRecord } from './codec';
import { isAddPathRib, isAddPathSubtype, isAs4Subtype, isLocalSubtype } from './codec';
import { MrtDecodeError } from './errors';

/** What an element says. */
export type ElementType = 'B' | 'A' | 'W' | 'STATE';

/** One element of an MRT record. */
export interface MrtElement {
  /**
   * The record's format as bgpdump names it: `TABLE_DUMP`, `TABLE_DUMP2`, `TABLE_DUMP2_AP`,
   * `BGP4MP`, `BGP4MP_ET`, and for messages the `_LOCAL`/`_AP` variants.
   */
  readonly source: string;
  readonly type: ElementType;
  /** Seconds since the epoch (the record's time). */
  readonly timestamp: number;
  /** Microseconds of a BGP4MP_ET record; undefined otherwise. */
  readonly microseconds: number | undefined;
  readonly peerAddress: string;
  readonly peerAs: number;
  /** Canonical CIDR text; empty for STATE. */
  readonly prefix: string;
  /** RFC 7911/8050 path identifier of ADD-PATH records. */
  readonly pathId: number | undefined;
  /** The route's attributes (B and A); undefined for W and STATE. */
  readonly attributes: PathAttributes | undefined;
  /** The effective AS path (AS4_PATH merged into a 2-byte AS_PATH, RFC 6793 4.2.3); empty for W and STATE. */
  readonly asPath: readonly AsPathSegment[];
  /** The next hop that applies to this prefix (MP_REACH_NLRI's or NEXT_HOP); empty when there is none, and for W and STATE. */
  readonly nextHop: string;
  /** The effective aggregator (AS4_AGGREGATOR when AGGREGATOR names AS_TRANS). */
  readonly aggregator: Aggregator | undefined;
  /** STATE only: the FSM states (RFC 4271 8.2.2: 1 Idle .. 6 Established); 0 otherwise. */
  readonly oldState: number;
  readonly newState: number;
}

/** One shape for every element, so the hot loop stays monomorphic. */
class Element implements MrtElement {
  constructor(
    readonly source: string,
    readonly type: ElementType,
    readonly timestamp: number,
    readonly microseconds: number | undefined,
    readonly peerAddress: string,
    readonly peerAs: number,
    readonly prefix: string,
    readonly pathId: number | undefined,
    readonly attributes: PathAttributes | undefined,
    readonly asPath: readonly AsPathSegment[],
    readonly nextHop: string,
    readonly aggregator: Aggregator | undefined,
    readonly oldState: number,
    readonly newState: number,
  ) {}
}

interface Route { attributes: PathAttributes; asPath: readonly AsPathSegment[]; nextHop: string; aggregator: Aggregator | undefined }

const AS4 = Object.freeze({ as4: true });
const AS2 = Object.freeze({ as4: false });

function routeOf(attributes: PathAttributes, as4: boolean, mpNextHop: boolean): Route {
  const o = as4 ? AS4 : AS2;
  const nextHop = mpNextHop && attributes.mpReach !== undefined ? attributes.mpReach.nextHops[0] : attributes.nextHop ?? '';
  return { attributes, asPath: effectiveAsPath(attributes, o), nextHop, aggregator: effectiveAggregator(attributes, o) };
}

const EMPTY: readonly AsPathSegment[] = [];

/**
 * Calls `visit` with each element of `record`, in bgpdump's order: for an UPDATE the withdrawn
 * routes, then MP_UNREACH_NLRI, then NLRI, then MP_REACH_NLRI. `peers` is the last
 * PEER_INDEX_TABLE; a RIB entry whose index it lacks throws `MRT_ERR_PEER_INDEX` before any
 * element of the record is visited.
 */
export function visitElements(record: MrtRecord, peers: readonly MrtPeer[] | undefined, visit: (e: MrtElement) => void): void {
  switch (record.kind) {
    case 'rib': {
      const count = peers?.length ?? 0;
      for (const entry of record.entries) {
        if (entry.peerIndex >= count) {
          throw new MrtDecodeError('MRT_ERR_PEER_INDEX', 0, peers === undefined
            ? `a RIB record for ${record.prefix} came before any PEER_INDEX_TABLE`
            : `a RIB entry for ${record.prefix} names peer ${entry.peerIndex}, the PEER_INDEX_TABLE has ${count}`);
        }
      }
      const source = isAddPathRib(record.subtype) ? 'TABLE_DUMP2_AP' : 'TABLE_DUMP2';
      for (const entry of record.entries) {
        const peer = (peers as readonly MrtPeer[])[entry.peerIndex];
        const r = routeOf(entry.attributes, true, true);
        visit(new Element(source, 'B', record.timestamp, undefined, peer.address, peer.asn, record.prefix, entry.pathId,
          r.attributes, r.asPath, r.nextHop, r.aggregator, 0, 0));
      }
      return;
    }
    case 'table-dump': {
      const r = routeOf(record.attributes, false, true);
      visit(new Element('TABLE_DUMP', 'B', record.timestamp, undefined, record.peerAddress, record.peerAs, record.prefix, undefined,
        r.attributes, r.asPath, r.nextHop, r.aggregator, 0, 0));
      return;
    }
    case 'bgp4mp-state':
      visit(new Element(record.microseconds === undefined ? 'BGP4MP' : 'BGP4MP_ET', 'STATE', record.timestamp, record.microseconds,
        record.peerAddress, record.peerAs, '', undefined, undefined, EMPTY, '', undefined, record.oldState, record.newState));
      return;
    case 'bgp4mp-message': {
      const u = record.update;
      if (u === undefined) return;
      const local = isLocalSubtype(record.subtype);
      const addPath = isAddPathSubtype(record.subtype);
      const us = record.microseconds;
      const source = `BGP4MP${us !== undefined ? '_ET' : ''}${local ? '_LOCAL' : ''}${addPath ? '_AP' : ''}`;
      // A message the collector sent is shown from its own side, as bgpdump does.
      const peerAddress = local ? record.localAddress : record.peerAddress;
      const peerAs = local ? record.localAs : record.peerAs;
      const t = record.timestamp;
      for (const p of u.withdrawn) visit(new Element(source, 'W', t, us, peerAddress, peerAs, p.prefix, p.pathId, undefined, EMPTY, '', undefined, 0, 0));
      const a = u.attributes;
      if (a.mpUnreach !== undefined) {
        for (const p of a.mpUnreach.withdraw) visit(new Element(source, 'W', t, us, peerAddress, peerAs, p.prefix, p.pathId, undefined, EMPTY, '', undefined, 0, 0));
      }
      const as4 = isAs4Subtype(record.subtype);
      if (u.announce.length > 0) {
        const r = routeOf(a, as4, false);
        for (const p of u.announce) visit(new Element(source, 'A', t, us, peerAddress, peerAs, p.prefix, p.pathId, a, r.asPath, r.nextHop, r.aggregator, 0, 0));
      }
      if (a.mpReach !== undefined && a.mpReach.announce.length > 0) {
        const r = routeOf(a, as4, true);
        for (const p of a.mpReach.announce) visit(new Element(source, 'A', t, us, peerAddress, peerAs, p.prefix, p.pathId, a, r.asPath, r.nextHop, r.aggregator, 0, 0));
      }
      return;
    }
    default:
      return;
  }
}

/** The elements of `record` as an array (see `visitElements`). */
export function elementsOf(record: MrtRecord, peers: readonly MrtPeer[] | undefined): MrtElement[] {
  const out: MrtElement[] = [];
  visitElements(record, peers, (e) => out.push(e));
  return out;
}

// ---------------------------------------------------------------------------------------------
// bgpdump -m text

const DELIM: Record<number, [string, string]> = { 1: ['{', '}'], 3: ['(', ')'], 4: ['[', ']'] };

/**
 * An AS path as bgpdump writes it: sequences space-separated, `{a,b}` for AS_SET, `(a b)` for
 * AS_CONFED_SEQUENCE, `[a,b]` for AS_CONFED_SET.
 */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  let s = '';
  let prevType = 2;
  let space = false;
  for (const seg of segments) {
    if (prevType !== 2) s += DELIM[prevType][1];
    if (space) s += ' ';
    if (seg.type !== 2) s += DELIM[seg.type][0];
    space = false;
    const sep = seg.type === 1 || seg.type === 4 ? ',' : ' ';
    for (const asn of seg.asns) {
      if (space) s += sep; else space = true;
      s += asn;
    }
    prevType = seg.type;
  }
  if (segments.length > 0 && prevType !== 2) s += DELIM[prevType][1];
  return s;
}

/** RFC 1997 communities as bgpdump writes them: `asn:value`, and the well-known names. */
export function formatCommunities(communities: readonly number[] | undefined): string {
  if (communities === undefined) return '';
  let s = '';
  for (const c of communities) {
    if (s.length > 0) s += ' ';
    if (c === 0xffffff01) s += 'no-export';
    else if (c === 0xffffff02) s += 'no-advertise';
    else if (c === 0xffffff03) s += 'local-AS';
    else s += `${c >>> 16}:${c & 0xffff}`;
  }
  return s;
}

const ORIGIN_TEXT = ['IGP', 'EGP', 'INCOMPLETE'];
/** What bgpdump prints for a route without a next hop (its INADDR_NONE placeholder). */
const NO_NEXT_HOP = '255.255.255.255';

/** The element's time column: seconds, with `.uuuuuu` for BGP4MP_ET. */
export function formatTime(e: Pick<MrtElement, 'timestamp' | 'microseconds'>): string {
  return e.microseconds === undefined ? String(e.timestamp) : `${e.timestamp}.${String(e.microseconds).padStart(6, '0')}`;
}

let tailOf: { attributes: PathAttributes | undefined; asPath: readonly AsPathSegment[]; nextHop: string; text: string } = {
  attributes: undefined, asPath: EMPTY, nextHop: '', text: '',
};

/** Everything after the prefix (and path id) of an A or B line; the elements of one UPDATE share it. */
function routeTail(e: MrtElement): string {
  const a = e.attributes as PathAttributes;
  if (tailOf.attributes === a && tailOf.asPath === e.asPath && tailOf.nextHop === e.nextHop) return tailOf.text;
  const agg = e.aggregator;
  const text = `${formatAsPath(e.asPath)}|${ORIGIN_TEXT[a.origin ?? 2]}|${e.nextHop === '' ? NO_NEXT_HOP : e.nextHop}|`
    + `${a.localPref ?? 0}|${a.med ?? 0}|${formatCommunities(a.communities)}|${a.atomicAggregate ? 'AG' : 'NAG'}|`
    + `${agg === undefined ? '' : `${agg.asn} ${agg.address}`}|`;
  tailOf = { attributes: a, asPath: e.asPath, nextHop: e.nextHop, text };
  return text;
}

/** One line of `bgpdump -m` output for `e` (without the newline). */
export function formatBgpdumpLine(e: MrtElement): string {
  const head = `${e.source}|${e.microseconds === undefined ? e.timestamp : formatTime(e)}|${e.type}|${e.peerAddress}|${e.peerAs}|`;
  if (e.type === 'STATE') return `${head}${e.oldState}|${e.newState}`;
  if (e.type === 'W') return e.pathId === undefined ? `${head}${e.prefix}` : `${head}${e.prefix}|${e.pathId}`;
  return `${head}${e.prefix}|${e.pathId === undefined ? '' : `${e.pathId}|`}${routeTail(e)}`;
}
