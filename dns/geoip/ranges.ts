/** One inclusive address range with a location index; addresses as bigint so one code serves both families. */
export interface RangeRecord {
  readonly start: bigint;
  readonly end: bigint;
  readonly loc: number;
}

/**
 * Turns possibly unsorted, overlapping ranges into sorted, disjoint ones with longest-prefix-match
 * meaning: where one range lies inside another, the inner (more specific) one wins. Where two
 * ranges overlap only partly, the one starting later wins the shared part. Contiguous results
 * with the same location are merged. Pure; the input is not modified.
 */
export function normalizeRanges(records: readonly RangeRecord[]): RangeRecord[] {
  // Wider first on equal starts, so that an inner range is pushed above its container.
  const sorted = records.filter((r) => r.start <= r.end)
    .sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.end === b.end ? 0 : a.end > b.end ? -1 : 1));
  const out: RangeRecord[] = [];
  const emit = (start: bigint, end: bigint, loc: number): void => {
    if (start > end) return;
    const last = out[out.length - 1];
    if (last !== undefined && last.loc === loc && last.end + 1n === start) out[out.length - 1] = { start: last.start, end, loc };
    else out.push({ start, end, loc });
  };
  const stack: RangeRecord[] = [];
  let cursor = 0n;
  for (const r of sorted) {
    // Close every open range that ends before r begins, innermost first.
    while (stack.length > 0 && stack[stack.length - 1].end < r.start) {
      const top = stack.pop() as RangeRecord;
      emit(cursor, top.end, top.loc);
      cursor = top.end + 1n;
    }
    const top = stack[stack.length - 1];
    if (top !== undefined) {
      emit(cursor, r.start - 1n, top.loc);
      // A partial overlap: the container cannot resume after r, so it stops here.
      if (r.end > top.end) {
        stack.pop();
        while (stack.length > 0 && stack[stack.length - 1].end <= r.end) stack.pop();
      }
    }
    stack.push(r);
    cursor = r.start;
  }
  while (stack.length > 0) {
    const top = stack.pop() as RangeRecord;
    emit(cursor, top.end, top.loc);
    cursor = top.end + 1n;
  }
  return out;
}

/** IPv6 ranges as columns: 8 u32 words per range (start, end; most significant first) and a location each. */
export interface V6RangeColumns {
  readonly bounds: Uint32Array;
  readonly locations: Uint32Array;
}

// 128-bit helpers over 4-word slices; `a`/`b` are offsets into their arrays.
function cmp128(x: Uint32Array, a: number, y: Uint32Array, b: number): number {
  for (let w = 0; w < 4; w++) {
    if (x[a + w] !== y[b + w]) return x[a + w] < y[b + w] ? -1 : 1;
  }
  return 0;
}

function addOne(into: Uint32Array, at: number, from: Uint32Array, f: number, delta: 1 | -1): void {
  let carry: number = delta;
  for (let w = 3; w >= 0; w--) {
    const v = from[f + w] + carry;
    into[at + w] = v >>> 0;
    carry = v > 0xffffffff ? 1 : v < 0 ? -1 : 0;
  }
}

// Sorts `a` in place by `before` (a strict total order). TypedArray#sort with a comparator copies
// the elements into two heap arrays (6 MB for 400k indices); a heap sort needs no extra memory.
function heapSort(a: Uint32Array, before: (x: number, y: number) => boolean): void {
  const sift = (root: number, end: number): void => {
    for (let child = 2 * root + 1; child < end; root = child, child = 2 * root + 1) {
      if (child + 1 < end && before(a[child], a[child + 1])) child++;
      if (!before(a[root], a[child])) return;
      const t = a[root];
      a[root] = a[child];
      a[child] = t;
    }
  };
  for (let i = (a.length >>> 1) - 1; i >= 0; i--) sift(i, a.length);
  for (let end = a.length - 1; end > 0; end--) {
    const t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift(0, end);
  }
}

/**
 * `normalizeRanges` for IPv6 columns, without bigint: the same meaning (inner ranges win, later
 * starts win partial overlaps, equal neighbours merge), on typed arrays so that 400k ranges
 * normalize in a few hundred milliseconds and little memory. The result is sized exactly.
 */
export function normalizeV6Columns(input: V6RangeColumns): V6RangeColumns {
  const b = input.bounds;
  const n = input.locations.length;
  let valid = 0;
  for (let i = 0; i < n; i++) if (cmp128(b, 8 * i, b, 8 * i + 4) <= 0) valid++;
  const order = new Uint32Array(valid);
  for (let i = 0, k = 0; i < n; i++) if (cmp128(b, 8 * i, b, 8 * i + 4) <= 0) order[k++] = i;
  // Start ascending, wider first on equal starts; the index breaks ties, so the order is total.
  heapSort(order, (i, j) => (cmp128(b, 8 * i, b, 8 * j) || -cmp128(b, 8 * i + 4, b, 8 * j + 4) || i - j) < 0);
  // Two sweeps, counting then writing: the output is allocated once at its final size instead of
  // at the 2n+1 worst case and then copied.
  const count = sweepV6(input, order, undefined);
  const out: V6RangeColumns = { bounds: new Uint32Array(8 * count), locations: new Uint32Array(count) };
  sweepV6(input, order, out);
  return out;
}

// The normalizing sweep over ranges in `order` (start ascending, wider first on equal starts).
// Writes the ranges into `into` when given, else only counts them; returns the count.
function sweepV6(input: V6RangeColumns, order: Uint32Array, into: V6RangeColumns | undefined): number {
  const b = input.bounds;
  // Without `into`, only the last emitted range is kept (slot 0): the merge test needs nothing else.
  const sink = into ?? { bounds: new Uint32Array(8), locations: new Uint32Array(1) };
  const out = sink.bounds;
  const outLoc = sink.locations;
  const slot = into ? (k: number): number => k : (): number => 0;
  let count = 0;
  const tmpEnd = new Uint32Array(4);
  // Emits [s, e] (both 4-word slices) unless empty, merging with the previous equal neighbour.
  const emit = (s: Uint32Array, so: number, e: Uint32Array, eo: number, loc: number): void => {
    if (cmp128(s, so, e, eo) > 0) return;
    if (count > 0) {
      const last = slot(count - 1);
      if (outLoc[last] === loc) {
        addOne(tmpEnd, 0, out, 8 * last + 4, 1);
        if (cmp128(tmpEnd, 0, s, so) === 0) {
          for (let w = 0; w < 4; w++) out[8 * last + 4 + w] = e[eo + w];
          return;
        }
      }
    }
    const at = slot(count++);
    for (let w = 0; w < 4; w++) {
      out[8 * at + w] = s[so + w];
      out[8 * at + 4 + w] = e[eo + w];
    }
    outLoc[at] = loc;
  };
  const stack: number[] = [];
  const cursor = new Uint32Array(4);
  const beforeStart = new Uint32Array(4);
  let cursorValid = false;
  const closeTop = (): void => {
    const top = stack.pop() as number;
    if (cursorValid) emit(cursor, 0, b, 8 * top + 4, input.locations[top]);
    // The address after top's end; if top ended at the last address nothing follows.
    const last = b[8 * top + 4] === 0xffffffff && b[8 * top + 5] === 0xffffffff && b[8 * top + 6] === 0xffffffff && b[8 * top + 7] === 0xffffffff;
    if (last) cursorValid = false;
    else addOne(cursor, 0, b, 8 * top + 4, 1);
  };
  for (const r of order) {
    const rs = 8 * r;
    while (stack.length > 0 && cmp128(b, 8 * stack[stack.length - 1] + 4, b, rs) < 0) closeTop();
    if (stack.length > 0) {
      const top = stack[stack.length - 1];
      const startIsZero = b[rs] === 0 && b[rs + 1] === 0 && b[rs + 2] === 0 && b[rs + 3] === 0;
      if (!startIsZero && cursorValid) {
        addOne(beforeStart, 0, b, rs, -1);
        emit(cursor, 0, beforeStart, 0, input.locations[top]);
      }
      if (cmp128(b, rs + 4, b, 8 * top + 4) > 0) {
        stack.pop();
        while (stack.length > 0 && cmp128(b, 8 * stack[stack.length - 1] + 4, b, rs + 4) <= 0) stack.pop();
      }
    }
    stack.push(r);
    for (let w = 0; w < 4; w++) cursor[w] = b[rs + w];
    cursorValid = true;
  }
  while (stack.length > 0) closeTop();
  return count;
}
