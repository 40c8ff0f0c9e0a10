import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH } from './constants';
import { DnsDecodeError } from './errors';

// Names are held in presentation format (RFC 1035 §5.1): labels joined by '.', where a '.' or '\\'
// inside a label is escaped with a backslash, so a label holding a dot byte stays one label from
// the wire to the answer (RFC 1035 §3.1, RFC 4343 §2.1).

/** The presentation form of one raw label: `.` and `\` escaped. */
export function escapeLabel(raw: string): string {
  return raw.includes('.') || raw.includes('\\') ? raw.replace(/[.\\]/g, (c) => `\\${c}`) : raw;
}

/** True when the character at `i` of `name` is escaped (an odd run of backslashes before it). */
function escapedAt(name: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && name.charCodeAt(i - 1 - n) === 0x5c) n++;
  return (n & 1) === 1;
}

/** Raw labels of a presentation-format name, escapes resolved; the root ('') has none. */
function rawLabels(name: string): string[] {
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\' && i + 1 < name.length) {
      cur += name[++i]!;
    } else if (c === '.') {
      labels.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur !== '' || labels.length > 0) labels.push(cur);
  return labels;
}

/** Normalises a domain name for comparison: lower case, no trailing (unescaped) dot ('' is the root). */
export function normalizeName(name: string): string {
  const n = name.endsWith('.') && !escapedAt(name, name.length - 1) ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/** Raw labels of a presentation-format name, normalised (a label may hold a '.' byte). */
export function nameLabels(name: string): string[] {
  return rawLabels(normalizeName(name));
}

/** The name one label up (`a.b.c` -> `b.c`, `c` -> ''), label boundaries kept. */
export function parentName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) === 0x5c) i++;
    else if (name.charCodeAt(i) === 0x2e) return name.slice(i + 1);
  }
  return '';
}

/** True when normalised `name` is `origin` or below it, comparing whole labels. */
export function isInDomain(name: string, origin: string): boolean {
  if (name === origin || origin === '') return true;
  const at = name.length - origin.length - 1;
  return at > 0 && name.endsWith(origin) && name.charCodeAt(at) === 0x2e && !escapedAt(name, at);
}

/** Uncompressed wire length of a name (RFC 1035 §3.1). */
export function nameEncodingLength(name: string): number {
  const labels = nameLabels(name);
  let len = 1;
  for (const l of labels) len += Buffer.byteLength(l, 'latin1') + 1;
  return len;
}

/** Checks a name's labels and total length; throws `TypeError` naming the problem. */
export function validateName(name: string): void {
  const labels = nameLabels(name);
  for (const l of labels) {
    const n = Buffer.byteLength(l, 'latin1');
    if (n === 0) throw new TypeError(`empty label in name '${name}'`);
    if (n > MAX_LABEL_LENGTH) throw new TypeError(`label longer than ${MAX_LABEL_LENGTH} octets in name '${name}'`);
  }
  if (nameEncodingLength(name) > MAX_NAME_LENGTH) throw new TypeError(`name longer than ${MAX_NAME_LENGTH} octets: '${name}'`);
}

/** Compression table for one message being encoded: lower-case suffix -> offset (RFC 1035 §4.1.4). */
export type CompressionTable = Map<string, number>;

/**
 * Writes `name` at `offset`, using and extending `table` for compression when given.
 * Returns the offset after the name.
 */
export function encodeName(name: string, buf: Buffer, offset: number, table?: CompressionTable): number {
  // Labels keep their case on the wire (resolvers check 0x20 case randomisation); the table is keyed in lower case.
  const trimmed = name.endsWith('.') && !escapedAt(name, name.length - 1) ? name.slice(0, -1) : name;
  const labels = rawLabels(trimmed);
  const lower = labels.map((l) => escapeLabel(l.toLowerCase()));
  let o = offset;
  for (let i = 0; i < labels.length; i++) {
    const suffix = lower.slice(i).join('.');
    const known = table?.get(suffix);
    if (known !== undefined) {
      buf.writeUInt16BE(0xc000 | known, o);
      return o + 2;
    }
    // Pointers are 14 bits wide: only offsets below 0x4000 can be targets.
    if (table && o < 0x4000) table.set(suffix, o);
    const bytes = Buffer.from(labels[i]!, 'latin1');
    buf[o++] = bytes.length;
    bytes.copy(buf, o);
    o += bytes.length;
  }
  buf[o++] = 0;
  return o;
}

/** A decoded name and the offset just after it in the original position. */
export interface DecodedName {
  readonly name: string;
  readonly next: number;
}

/**
 * Reads a possibly compressed name. Pointers must point strictly backwards, which rules out loops;
 * the expanded name must fit in 255 octets (RFC 1035 §2.3.4, §4.1.4).
 */
export function decodeName(buf: Uint8Array, offset: number): DecodedName {
  const parts: string[] = [];
  let o = offset;
  let next = -1;
  let total = 1;
  let lowest = offset;
  for (;;) {
    if (o >= buf.length) throw new DnsDecodeError('DNS_ERR_TRUNCATED', o, 'name runs past the end of the message');
    const len = buf[o]!;
    if (len === 0) {
      if (next < 0) next = o + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (o + 1 >= buf.length) throw new DnsDecodeError('DNS_ERR_TRUNCATED', o, 'compression pointer cut short');
      const target = ((len & 0x3f) << 8) | buf[o + 1]!;
      if (next < 0) next = o + 2;
      if (target >= lowest) throw new DnsDecodeError('DNS_ERR_POINTER_LOOP', o, `compression pointer to ${target} does not point backwards`);
      lowest = target;
      o = target;
      continue;
    }
    if (kind !== 0) throw new DnsDecodeError('DNS_ERR_BAD_LABEL', o, `reserved label type 0x${kind.toString(16)}`);
    if (o + 1 + len > buf.length) throw new DnsDecodeError('DNS_ERR_TRUNCATED', o, 'label runs past the end of the message');
    total += len + 1;
    if (total > MAX_NAME_LENGTH) throw new DnsDecodeError('DNS_ERR_NAME_TOO_LONG', o, `name longer than ${MAX_NAME_LENGTH} octets`);
    parts.push(escapeLabel(Buffer.from(buf.buffer, buf.byteOffset + o + 1, len).toString('latin1')));
    o += 1 + len;
  }
  return { name: parts.join('.'), next };
}
