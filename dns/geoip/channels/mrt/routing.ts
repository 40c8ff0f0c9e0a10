/**
 * MRT elements to the channels' routing records, per collector peer: a RIB dump becomes one full
 * table per peer, an updates file one record per peer and MRT record, and a session leaving
 * Established a peer-down. Pure and incremental: feed elements in file order, then take the records.
 */
import { flattenAsPath, originAsOf } from '../bgp/attributes';
import type { PeerDown, RouteRecord, RoutingUpdate } from '../index';
import type { MrtElement } from './elements';

/** RFC 4271 8.2.2: the FSM state number of Established. */
const ESTABLISHED = 6;

/** The channel's peer id of an element: `<collector>:<peer address>`. */
export function peerId(collector: string, e: Pick<MrtElement, 'peerAddress'>): string {
  return `${collector}:${e.peerAddress}`;
}

/** The route an A or B element describes. */
export function routeOf(e: MrtElement): RouteRecord {
  return { prefix: e.prefix, originAs: originAsOf(e.asPath), asPath: flattenAsPath(e.asPath) };
}

/** Collects the routing records of one MRT file's elements, in order. */
export class RoutingCollector {
  private readonly out: (RoutingUpdate | PeerDown)[] = [];
  /** Full tables of a RIB dump, per peer, in first-seen order. */
  private readonly tables = new Map<string, { at: number; announce: RouteRecord[] }>();
  private current: { peer: string; at: number; announce: RouteRecord[]; withdraw: string[]; key: string } | undefined;

  constructor(private readonly collector: string) {}

  /** Adds one element (elements of one MRT record arrive together). `recordKey` identifies its record. */
  add(e: MrtElement, recordKey: number): void {
    const peer = peerId(this.collector, e);
    const at = e.timestamp * 1000 + Math.floor((e.microseconds ?? 0) / 1000);
    if (e.type === 'B') {
      let t = this.tables.get(peer);
      if (t === undefined) { t = { at, announce: [] }; this.tables.set(peer, t); }
      t.announce.push(routeOf(e));
      return;
    }
    // Messages the collector itself sent say nothing about what the peer holds.
    if (e.source.includes('_LOCAL')) return;
    if (e.type === 'STATE') {
      this.close();
      if (e.oldState === ESTABLISHED && e.newState !== ESTABLISHED) this.out.push({ kind: 'peer-down', peer, at });
      return;
    }
    const key = `${recordKey}|${peer}`;
    if (this.current?.key !== key) {
      this.close();
      this.current = { peer, at, announce: [], withdraw: [], key };
    }
    if (e.type === 'A') this.current.announce.push(routeOf(e));
    else this.current.withdraw.push(e.prefix);
  }

  private close(): void {
    const c = this.current;
    if (c === undefined) return;
    this.out.push({ kind: 'routing', peer: c.peer, at: c.at, full: false, announce: c.announce, withdraw: c.withdraw });
    this.current = undefined;
  }

  /** The records so far: full tables of a RIB dump first (one per peer), then updates in file order. */
  records(): (RoutingUpdate | PeerDown)[] {
    this.close();
    const full: RoutingUpdate[] = [...this.tables].map(([peer, t]) => ({ kind: 'routing', peer, at: t.at, full: true, announce: t.announce, withdraw: [] }));
    return [...full, ...this.out];
  }

  /** Routes held: announced routes of full tables plus announcements of updates. */
  routeCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.announce.length;
    return n;
  }
}
