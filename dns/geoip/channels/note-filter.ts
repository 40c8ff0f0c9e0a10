/**
 * Which client prefixes were noted lately from one GeoIP table, so that the hot path notes each
 * /24 or /48 once per period instead of on every answer: IPv4 keeps one bit per /24 (2 MiB, made
 * on first use), IPv6 the key words of the last /48 seen per direct-mapped slot (a slot taken by
 * another /48 only costs a repeated note, never a missed one). Forgotten when the table changes
 * (its locations may differ) and when `expire` finds the period over (last-seen times stay fresh).
 */
import { mixKey } from './prefix-lru';

const V6_SLOTS = 65_536;
// Never a /48 key's second word (its low 16 bits are clear).
const EMPTY = 0xffffffff;

/** Prefixes noted from one table within a period. Allocation-free but for the first IPv4 use. */
export class NoteFilter {
  /** Answers whose prefix had been noted already, since creation. */
  repeats = 0;
  private seenV4: Uint8Array | undefined;
  private readonly seenV6A = new Uint32Array(V6_SLOTS);
  private readonly seenV6B = new Uint32Array(V6_SLOTS).fill(EMPTY);
  private tableId = -1;
  private since = 0;

  /** `periodMs`: how long a note holds; `now`: the clock, ms. */
  constructor(private readonly periodMs: number, private readonly now: () => number) {}

  /** True when the /24 of `ip` was noted from table `tableId` in this period (counted as a repeat). */
  hasV4(tableId: number, ip: number): boolean {
    if (tableId !== this.tableId) this.reset(tableId);
    const k = ip >>> 8;
    const seen = this.seenV4 ??= new Uint8Array(1 << 21);
    if ((seen[k >>> 3]! & (1 << (k & 7))) === 0) return false;
    this.repeats++;
    return true;
  }

  /** Marks the /24 of `ip` noted from table `tableId`. */
  markV4(tableId: number, ip: number): void {
    if (tableId !== this.tableId) this.reset(tableId);
    const k = ip >>> 8;
    const seen = this.seenV4 ??= new Uint8Array(1 << 21);
    seen[k >>> 3]! |= 1 << (k & 7);
  }

  /** True when the /48 (`a`, `b`: first word, second word with its low 16 bits clear) was noted from table `tableId`. */
  hasV6(tableId: number, a: number, b: number): boolean {
    if (tableId !== this.tableId) this.reset(tableId);
    const slot = mixKey(a, b) & (V6_SLOTS - 1);
    if (this.seenV6A[slot] !== a || this.seenV6B[slot] !== b) return false;
    this.repeats++;
    return true;
  }

  /** Marks the /48 (`a`, `b`) noted from table `tableId`. */
  markV6(tableId: number, a: number, b: number): void {
    if (tableId !== this.tableId) this.reset(tableId);
    const slot = mixKey(a, b) & (V6_SLOTS - 1);
    this.seenV6A[slot] = a;
    this.seenV6B[slot] = b;
  }

  /** Forgets every note once the period is over (call it from a timer). */
  expire(): void {
    if (this.tableId >= 0 && this.now() - this.since >= this.periodMs) this.reset(this.tableId);
  }

  private reset(tableId: number): void {
    this.seenV4?.fill(0);
    this.seenV6B.fill(EMPTY);
    this.tableId = tableId;
    this.since = this.now();
  }
}
