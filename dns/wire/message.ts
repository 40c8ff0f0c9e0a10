import { CLASS_IN, HEADER_LENGTH, MAX_TCP_MESSAGE, QTYPE } from './constants';
import { DnsDecodeError } from './errors';
import { bytesToIpv6, ipv4ToBytes, ipv6ToBytes, uintToIpv4 } from './ip';
import { type CompressionTable, decodeName, encodeName } from './name';

/** One entry of the question section (RFC 1035 §4.1.2). */
export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

/** SOA RDATA fields (RFC 1035 §3.3.13); times in seconds. */
export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** One EDNS option (RFC 6891 §6.1.2), kept raw; see `edns.ts` for Client Subnet. */
export interface EdnsOption {
  readonly code: number;
  readonly data: Buffer;
}

/** RDATA of the record types the server speaks; anything else stays raw bytes (RFC 3597). */
export type RecordData =
  | { readonly kind: 'address'; readonly address: string }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'soa'; readonly soa: SoaData }
  | { readonly kind: 'txt'; readonly strings: readonly Buffer[] }
  | { readonly kind: 'opt'; readonly options: readonly EdnsOption[] }
  | { readonly kind: 'raw'; readonly bytes: Buffer };

/** A resource record (RFC 1035 §4.1.3). For OPT, `class` is the UDP size and `ttl` the extended flags. */
export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: RecordData;
}

/** A whole message. `flags` is the 16-bit header word including opcode and the low 4 rcode bits. */
export interface DnsMessage {
  readonly id: number;
  readonly flags: number;
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
}

const NAME_RDATA = new Set<number>([QTYPE.NS, QTYPE.CNAME, QTYPE.PTR]);

function encodeRdata(rr: ResourceRecord, buf: Buffer, o: number, table: CompressionTable): number {
  const d = rr.data;
  switch (d.kind) {
    case 'address': {
      const bytes = rr.type === QTYPE.AAAA ? ipv6ToBytes(d.address) : ipv4ToBytes(d.address);
      bytes.copy(buf, o);
      return o + bytes.length;
    }
    case 'name':
      // Compression inside RDATA is allowed only for the RFC 1035 types (RFC 3597 §4).
      return encodeName(d.name, buf, o, NAME_RDATA.has(rr.type) ? table : undefined);
    case 'soa': {
      let p = encodeName(d.soa.mname, buf, o, table);
      p = encodeName(d.soa.rname, buf, p, table);
      buf.writeUInt32BE(d.soa.serial >>> 0, p);
      buf.writeUInt32BE(d.soa.refresh >>> 0, p + 4);
      buf.writeUInt32BE(d.soa.retry >>> 0, p + 8);
      buf.writeUInt32BE(d.soa.expire >>> 0, p + 12);
      buf.writeUInt32BE(d.soa.minimum >>> 0, p + 16);
      return p + 20;
    }
    case 'txt': {
      let p = o;
      for (const s of d.strings) {
        if (s.length > 255) throw new RangeError('TXT character-string longer than 255 octets');
        buf[p++] = s.length;
        s.copy(buf, p);
        p += s.length;
      }
      return p;
    }
    case 'opt': {
      let p = o;
      for (const opt of d.options) {
        buf.writeUInt16BE(opt.code, p);
        buf.writeUInt16BE(opt.data.length, p + 2);
        opt.data.copy(buf, p + 4);
        p += 4 + opt.data.length;
      }
      return p;
    }
    case 'raw':
      d.bytes.copy(buf, o);
      return o + d.bytes.length;
  }
}

function encodeRecord(rr: ResourceRecord, buf: Buffer, o: number, table: CompressionTable): number {
  let p = encodeName(rr.name, buf, o, table);
  buf.writeUInt16BE(rr.type, p);
  buf.writeUInt16BE(rr.class, p + 2);
  buf.writeUInt32BE(rr.ttl >>> 0, p + 4);
  const rdStart = p + 10;
  const end = encodeRdata(rr, buf, rdStart, table);
  buf.writeUInt16BE(end - rdStart, p + 8);
  p = end;
  return p;
}

/** Encodes a message with name compression. Throws `RangeError` when it exceeds 65535 octets. */
export function encode(msg: DnsMessage): Buffer {
  const scratch = Buffer.alloc(MAX_TCP_MESSAGE + 512);
  const table: CompressionTable = new Map();
  scratch.writeUInt16BE(msg.id & 0xffff, 0);
  scratch.writeUInt16BE(msg.flags & 0xffff, 2);
  scratch.writeUInt16BE(msg.questions.length, 4);
  scratch.writeUInt16BE(msg.answers.length, 6);
  scratch.writeUInt16BE(msg.authorities.length, 8);
  scratch.writeUInt16BE(msg.additionals.length, 10);
  let o = HEADER_LENGTH;
  for (const q of msg.questions) {
    o = encodeName(q.name, scratch, o, table);
    scratch.writeUInt16BE(q.type, o);
    scratch.writeUInt16BE(q.class, o + 2);
    o += 4;
  }
  for (const section of [msg.answers, msg.authorities, msg.additionals]) {
    for (const rr of section) {
      o = encodeRecord(rr, scratch, o, table);
      if (o > MAX_TCP_MESSAGE) throw new RangeError('message longer than 65535 octets');
    }
  }
  return Buffer.from(scratch.subarray(0, o));
}

/** Exact encoded length of a message (with the same compression `encode` applies). */
export function encodingLength(msg: DnsMessage): number {
  return encode(msg).length;
}

function need(buf: Uint8Array, o: number, n: number, what: string): void {
  if (o + n > buf.length) throw new DnsDecodeError('DNS_ERR_TRUNCATED', o, `${what} runs past the end of the message`);
}

function decodeRdata(buf: Buffer, type: number, o: number, len: number): RecordData {
  const end = o + len;
  switch (type) {
    case QTYPE.A:
      if (len !== 4) throw new DnsDecodeError('DNS_ERR_BAD_RDATA', o, `A RDATA must be 4 octets, got ${len}`);
      return { kind: 'address', address: uintToIpv4(buf.readUInt32BE(o)) };
    case QTYPE.AAAA:
      if (len !== 16) throw new DnsDecodeError('DNS_ERR_BAD_RDATA', o, `AAAA RDATA must be 16 octets, got ${len}`);
      return { kind: 'address', address: bytesToIpv6(buf, o) };
    case QTYPE.NS:
    case QTYPE.CNAME:
    case QTYPE.PTR: {
      const n = decodeName(buf, o);
      if (n.next !== end) throw new DnsDecodeError('DNS_ERR_BAD_RDATA', o, 'name does not fill its RDATA');
      return { kind: 'name', name: n.name };
    }
    case QTYPE.SOA: {
      const m = decodeName(buf, o);
      const r = decodeName(buf, m.next);
      if (r.next + 20 !== end) throw new DnsDecodeError('DNS_ERR_BAD_RDATA', o, 'SOA RDATA has the wrong length');
      const p = r.next;
      return { kind: 'soa', soa: { mname: m.name, rname: r.name, serial: buf.readUInt32BE(p), refresh: buf.readUInt32BE(p + 4),
        retry: buf.readUInt32BE(p + 8), expire: buf.readUInt32BE(p + 12), minimum: buf.readUInt32BE(p + 16) } };
    }
    case QTYPE.TXT: {
      const strings: Buffer[] = [];
      let p = o;
      while (p < end) {
        const l = buf[p]!;
        if (p + 1 + l > end) throw new DnsDecodeError('DNS_ERR_BAD_RDATA', p, 'TXT character-string runs past its RDATA');
        strings.push(Buffer.from(buf.subarray(p + 1, p + 1 + l)));
        p += 1 + l;
      }
      return { kind: 'txt', strings };
    }
    case QTYPE.OPT: {
      const options: EdnsOption[] = [];
      let p = o;
      while (p < end) {
        if (p + 4 > end) throw new DnsDecodeError('DNS_ERR_BAD_OPTION', p, 'EDNS option header runs past the OPT RDATA');
        const code = buf.readUInt16BE(p);
        const l = buf.readUInt16BE(p + 2);
        if (p + 4 + l > end) throw new DnsDecodeError('DNS_ERR_BAD_OPTION', p, `EDNS option ${code} runs past the OPT RDATA`);
        options.push({ code, data: Buffer.from(buf.subarray(p + 4, p + 4 + l)) });
        p += 4 + l;
      }
      return { kind: 'opt', options };
    }
    default:
      return { kind: 'raw', bytes: Buffer.from(buf.subarray(o, end)) };
  }
}

function decodeRecord(buf: Buffer, o: number): { rr: ResourceRecord; next: number } {
  const n = decodeName(buf, o);
  let p = n.next;
  need(buf, p, 10, 'record header');
  const type = buf.readUInt16BE(p);
  const klass = buf.readUInt16BE(p + 2);
  const ttl = buf.readUInt32BE(p + 4);
  const len = buf.readUInt16BE(p + 8);
  p += 10;
  need(buf, p, len, 'RDATA');
  const data = decodeRdata(buf, type, p, len);
  return { rr: { name: n.name, type, class: klass, ttl, data }, next: p + len };
}

/** Section counts larger than this cannot fit in 65535 octets (a record is at least 11 octets). */
const MAX_RECORDS = Math.floor(MAX_TCP_MESSAGE / 11);

/** Decodes a whole message; bounds-checked, throws `DnsDecodeError`, never reads past `buf`. */
export function decode(buf: Buffer): DnsMessage {
  need(buf, 0, HEADER_LENGTH, 'header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  if (counts[0]! * 5 + (counts[1]! + counts[2]! + counts[3]!) * 11 > buf.length - HEADER_LENGTH || counts.some((c) => c > MAX_RECORDS)) {
    throw new DnsDecodeError('DNS_ERR_TRUNCATED', HEADER_LENGTH, 'section counts exceed what the message can hold');
  }
  let o = HEADER_LENGTH;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const n = decodeName(buf, o);
    need(buf, n.next, 4, 'question');
    questions.push({ name: n.name, type: buf.readUInt16BE(n.next), class: buf.readUInt16BE(n.next + 2) });
    o = n.next + 4;
  }
  const sections: ResourceRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const r = decodeRecord(buf, o);
      sections[s]!.push(r.rr);
      o = r.next;
    }
  }
  return { id, flags, questions, answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]! };
}

/** A question for class IN. */
export function question(name: string, type: number): Question {
  return { name, type, class: CLASS_IN };
}

/** Rcode of a message: the header's low 4 bits plus the OPT record's extended bits (RFC 6891 §6.1.3). */
export function messageRcode(msg: DnsMessage): number {
  const opt = msg.additionals.find((r) => r.type === QTYPE.OPT);
  const ext = opt ? (opt.ttl >>> 24) & 0xff : 0;
  return (ext << 4) | (msg.flags & 0x0f);
}
