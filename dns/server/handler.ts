import { performance } from 'node:perf_hooks';
import type { GeoTableHolder } from '../geoip';
import type { WorkloadStore } from '../answer/store';
import type { WorkloadAnswer } from '../answer/workload';
import { type Family, NO_ADDRESSES } from '../answer/select';
import { decisionOf, locateClient, type LocationRecorder, provenanceOf, scopeOf, viaOf } from '../answer/locate';
import type { Zone, ZoneSet } from '../zone/zone';
import {
  CLASS_ANY, CLASS_IN, EDNS_OPTION_COOKIE, EDNS_OPTION_ECS, EDNS_OPTION_NSID, FLAG, HEADER_LENGTH, MAX_TCP_MESSAGE, MAX_UDP_PLAIN, OPCODE_QUERY, QTYPE, RCODE,
  TSIG_ERROR_BADKEY,
} from '../wire/constants';
import { type ClientSubnet, decodeClientSubnet, encodeClientSubnet, optRecord } from '../wire/edns';
import { isDnsDecodeError } from '../wire/errors';
import { fastAnswerLength, FastQuery, FastStatus, parseQuery, writeFastAnswer } from '../wire/fast';
import { decode, type DnsMessage, encode, type EdnsOption, type ResourceRecord } from '../wire/message';
import { decodeName, normalizeName } from '../wire/name';
import { type DnsMetrics, LATENCY_SAMPLE_EVERY } from './metrics';
import { checkCookie, clientAddressBytes, COOKIE_MALFORMED, type CookieSecrets } from './cookies';
import { chaosText, CLASS_CH, type IdentityOptions } from './identity';

/** Settings of the query handler. */
export interface HandlerOptions {
  /** Largest UDP response we send to EDNS clients (RFC 6891 §6.2.5); also advertised in our OPT. */
  readonly maxUdpPayload: number;
  /** NSID and CHAOS identity (RFC 5001, RFC 4892); all off when absent. */
  readonly identity?: IdentityOptions;
  /** DNS cookies (RFC 7873, RFC 9018); off when absent. */
  readonly cookies?: CookieSecrets;
  /** Told the location each client prefix was answered with (the hot-prefix cache); none by default. */
  readonly recorder?: LocationRecorder;
}

const NO_IDENTITY: IdentityOptions = Object.freeze({ nsid: false, id: false, version: false });

const MAX_CNAME_CHAIN = 8;

const EMPTY = new Uint8Array(0);

/** `QueryHandler.handleInto`: nothing is to be sent. */
export const NO_REPLY = -1;
/** `QueryHandler.handleInto`: the response is larger than the room given; nothing was written. */
export const REPLY_TOO_LARGE = -2;

// What `prepare` found: drop the message, answer it from the fast path, or decode it fully
// (its type already counted or not).
const DROP = 0;
const FAST = 1;
const SLOW_COUNTED = 2;
const SLOW_UNCOUNTED = 3;

/**
 * Turns one query message into one response message. The fast path serves A/AAAA for workload
 * names from pre-encoded answers without decoding the message; everything else goes through the
 * full decoder and the zone data.
 */
export class QueryHandler {
  private readonly q = new FastQuery();
  private readonly recorder: LocationRecorder | undefined;
  private readonly identity: IdentityOptions;
  private untimed = 0;
  // The fast-path answer `prepare` found, for `writeFast` (fields, so that nothing is allocated).
  private fastWorkload: WorkloadAnswer | undefined;
  private fastFamily: Family = 4;
  private fastLocated = 0;

  constructor(
    private readonly zones: ZoneSet,
    private readonly store: WorkloadStore,
    private readonly geo: GeoTableHolder,
    private readonly metrics: DnsMetrics,
    private readonly options: HandlerOptions,
  ) {
    this.recorder = options.recorder;
    this.identity = options.identity ?? NO_IDENTITY;
  }

  /**
   * The response to `msg` from `client` (an IP address text), or undefined when nothing must be
   * sent. `udp` applies the UDP size limits and truncation (RFC 1035 §4.2.1, RFC 6891 §7).
   */
  handle(msg: Buffer, client: string, udp: boolean): Buffer | undefined {
    let out: Buffer | undefined;
    // Reading the clock twice cost more than answering from the fast path: one query in
    // LATENCY_SAMPLE_EVERY is timed (the histogram counts the timed ones).
    if (this.untimed === 0) {
      this.untimed = LATENCY_SAMPLE_EVERY - 1;
      const t0 = performance.now();
      out = this.handleInner(msg, client, udp);
      this.metrics.observeLatency((performance.now() - t0) / 1000);
    } else {
      this.untimed--;
      out = this.handleInner(msg, client, udp);
    }
    if (out !== undefined && out.length >= 4) this.metrics.responsesByRcode[out[3]! & 0x0f]!++;
    return out;
  }

  /**
   * As `handle`, but the response is written into `out` from `at`, in at most `room` bytes: returns
   * its length, `NO_REPLY`, or `REPLY_TOO_LARGE` (nothing written). A fast-path answer is encoded
   * in place, allocating nothing; others are copied in.
   */
  handleInto(msg: Buffer, client: string, udp: boolean, out: Uint8Array, at: number, room: number): number {
    let n: number;
    if (this.untimed === 0) {
      this.untimed = LATENCY_SAMPLE_EVERY - 1;
      const t0 = performance.now();
      n = this.handleInnerInto(msg, client, udp, out, at, room);
      this.metrics.observeLatency((performance.now() - t0) / 1000);
    } else {
      this.untimed--;
      n = this.handleInnerInto(msg, client, udp, out, at, room);
    }
    if (n >= 4) this.metrics.responsesByRcode[out[at + 3]! & 0x0f]!++;
    return n;
  }

  private handleInner(msg: Buffer, client: string, udp: boolean): Buffer | undefined {
    const k = this.prepare(msg, client);
    if (k === DROP) return undefined;
    if (k === FAST) {
      const out = Buffer.allocUnsafe(this.fastLength(udp));
      this.writeFast(msg, udp, out, 0);
      return out;
    }
    return this.slow(msg, client, udp, k === SLOW_COUNTED);
  }

  private handleInnerInto(msg: Buffer, client: string, udp: boolean, out: Uint8Array, at: number, room: number): number {
    const k = this.prepare(msg, client);
    if (k === DROP) return NO_REPLY;
    if (k === FAST) {
      if (this.fastLength(udp) > room) return REPLY_TOO_LARGE;
      return this.writeFast(msg, udp, out, at);
    }
    const reply = this.slow(msg, client, udp, k === SLOW_COUNTED);
    if (reply === undefined) return NO_REPLY;
    if (reply.length > room) return REPLY_TOO_LARGE;
    out.set(reply, at);
    return reply.length;
  }

  // Parses `msg` and, for a workload A/AAAA query, locates the client and counts the answer,
  // leaving what `writeFast` needs in `this.q`, `fastWorkload`, `fastFamily` and `fastLocated`.
  private prepare(msg: Buffer, client: string): number {
    const q = this.q;
    const st = parseQuery(msg, q);
    if (st === FastStatus.DROP) {
      this.metrics.ignored++;
      return DROP;
    }
    if (st !== FastStatus.OK) return SLOW_UNCOUNTED;
    this.metrics.queriesByType[q.qtype]!++;
    if (q.qclass !== CLASS_IN || (q.qtype !== QTYPE.A && q.qtype !== QTYPE.AAAA) || q.ednsVersion !== 0) return SLOW_COUNTED;
    const w = this.store.findWire(msg, q.nameHash);
    if (w === undefined) return SLOW_COUNTED;
    const family: Family = q.qtype === QTYPE.A ? 4 : 6;
    const r = locateClient(w, family, this.geo.current, q.ecsFamily, q.ecsSourcePrefix, msg, q.ecsAddressOffset, q.ecsAddressLength,
      client, this.recorder);
    const d = decisionOf(r);
    if (d === NO_ADDRESSES) return SLOW_COUNTED;
    this.metrics.countAnswer(viaOf(r), provenanceOf(r));
    w.count(d, provenanceOf(r));
    this.fastWorkload = w;
    this.fastFamily = family;
    this.fastLocated = r;
    return FAST;
  }

  // Length of the fast-path response `prepare` set up.
  private fastLength(udp: boolean): number {
    const q = this.q;
    const answer = this.fastWorkload!.answerBytes(this.fastFamily, decisionOf(this.fastLocated));
    return fastAnswerLength(q, answer === undefined ? 0 : answer.length, udp ? this.udpLimit(q.hasOpt, q.udpSize) : MAX_TCP_MESSAGE);
  }

  // Writes the fast-path response `prepare` set up; returns its length.
  private writeFast(msg: Buffer, udp: boolean, out: Uint8Array, at: number): number {
    const q = this.q;
    const w = this.fastWorkload!;
    const family = this.fastFamily;
    const d = decisionOf(this.fastLocated);
    const limit = udp ? this.udpLimit(q.hasOpt, q.udpSize) : MAX_TCP_MESSAGE;
    const n = writeFastAnswer(out, at, msg, q, w.answerBytes(family, d), w.answerCount(family, d), scopeOf(this.fastLocated),
      this.options.maxUdpPayload, limit);
    if (out[at + 2]! & (FLAG.TC >>> 8)) this.metrics.truncated++;
    return n;
  }

  private udpLimit(hasOpt: boolean, requested: number): number {
    if (!hasOpt) return MAX_UDP_PLAIN;
    // RFC 6891 §6.2.5: values below 512 are treated as 512.
    return Math.max(MAX_UDP_PLAIN, Math.min(requested, this.options.maxUdpPayload));
  }

  private slow(msg: Buffer, client: string, udp: boolean, counted: boolean): Buffer | undefined {
    let m: DnsMessage;
    try {
      m = decode(msg);
    } catch (e) {
      if (!isDnsDecodeError(e)) throw e;
      return formErrHeader(msg);
    }
    if (m.flags & FLAG.QR) {
      this.metrics.ignored++;
      return undefined;
    }
    const first = m.questions[0];
    if (!counted && first) this.metrics.queriesByType[first.type]!++;
    const opts = m.additionals.filter((r) => r.type === QTYPE.OPT);
    const reqOpt = opts[0];
    const limit = udp ? this.udpLimit(reqOpt !== undefined, reqOpt?.class ?? 0) : MAX_TCP_MESSAGE;
    // Options every response carries once the query's OPT has been read (RFC 5001, RFC 7873).
    const extraOptions: EdnsOption[] = [];
    // QCLASS ANY is answered as IN, but not authoritatively: another class could hold other data.
    let aa = true;
    const optFor = (rcode: number, ecsOut?: EdnsOption): ResourceRecord[] => (reqOpt
      ? [optRecord(this.options.maxUdpPayload, ecsOut ? [ecsOut, ...extraOptions] : extraOptions, rcode >>> 4, (reqOpt.ttl & 0x8000) !== 0)] : []);
    const reply = (rcode: number, answers: ResourceRecord[] = [], authorities: ResourceRecord[] = [], additionals: ResourceRecord[] = [],
      ecsOut?: EdnsOption, authoritative = aa): Buffer => {
      // CD means nothing to an opcode we do not implement: a NOTIMP reply does not echo it.
      const echoed = 0x7800 | FLAG.RD | (rcode === RCODE.NOTIMP ? 0 : FLAG.CD);
      const flags = FLAG.QR | (authoritative ? FLAG.AA : 0) | (m.flags & echoed) | (rcode & 0x0f);
      const opt = optFor(rcode, ecsOut);
      const full: DnsMessage = { id: m.id, flags, questions: m.questions.slice(0, 1), answers, authorities, additionals: [...additionals, ...opt] };
      let out = encode(full);
      if (out.length > limit) {
        this.metrics.truncated++;
        out = encode({ ...full, flags: flags | FLAG.TC, answers: [], authorities: [], additionals: opt });
      }
      return out;
    };
    const opcode = (m.flags >>> 11) & 0x0f;
    if (opcode !== OPCODE_QUERY) return reply(RCODE.NOTIMP, [], [], [], undefined, false);
    // RFC 6891 §6.1.1: more than one OPT, or an OPT not owned by the root, is a FORMERR.
    if (m.questions.length !== 1 || opts.length > 1 || (reqOpt && reqOpt.name !== '')) return reply(RCODE.FORMERR, [], [], [], undefined, false);
    if (reqOpt && ((reqOpt.ttl >>> 16) & 0xff) > 0) return reply(RCODE.BADVERS, [], [], [], undefined, false);
    let ecs: ClientSubnet | undefined;
    if (reqOpt && reqOpt.data.kind === 'opt') {
      const ecsOpts = reqOpt.data.options.filter((o) => o.code === EDNS_OPTION_ECS);
      if (ecsOpts.length > 1) return reply(RCODE.FORMERR, [], [], [], undefined, false);
      if (ecsOpts[0]) {
        try {
          ecs = decodeClientSubnet(ecsOpts[0].data);
        } catch (e) {
          if (!isDnsDecodeError(e)) throw e;
          return reply(RCODE.FORMERR, [], [], [], undefined, false);
        }
        // RFC 7871 §6: SCOPE PREFIX-LENGTH must be 0 in queries.
        if (ecs.scopePrefixLength !== 0) return reply(RCODE.FORMERR, [], [], [], undefined, false);
      }
      const cookies = reqOpt.data.options.filter((o) => o.code === EDNS_OPTION_COOKIE);
      const secrets = this.options.cookies;
      if (cookies[0] && secrets) {
        const ip = clientAddressBytes(client);
        // RFC 7873 §5.2.2: a cookie of a wrong length, or two of them, is a FORMERR.
        if (cookies.length > 1 || checkCookie(secrets, cookies[0].data, ip) === COOKIE_MALFORMED) return reply(RCODE.FORMERR, [], [], [], undefined, false);
        const clientCookie = cookies[0].data.subarray(0, 8);
        extraOptions.push({ code: EDNS_OPTION_COOKIE, data: Buffer.concat([clientCookie, secrets.make(clientCookie, ip)]) });
      }
      const nsid = this.identity.nsid;
      if (nsid !== false && reqOpt.data.options.some((o) => o.code === EDNS_OPTION_NSID)) {
        extraOptions.push({ code: EDNS_OPTION_NSID, data: Buffer.from(nsid, 'utf8') });
      }
    }
    // RFC 8945 §5.2: a signed query whose key we do not have (we have none) gets NOTAUTH with BADKEY, unsigned.
    const tsig = m.additionals.find((r) => r.type === QTYPE.TSIG);
    if (tsig) return badKeyReply(m, tsig, optFor(RCODE.NOERROR)) ?? reply(RCODE.FORMERR, [], [], [], undefined, false);
    const qn = m.questions[0]!;
    const name = normalizeName(qn.name);
    if (qn.class === CLASS_CH) {
      // RFC 4892: the server's identity under class CHAOS.
      const text = qn.type === QTYPE.TXT || qn.type === QTYPE.ANY ? chaosText(this.identity, name) : undefined;
      if (text === undefined) return reply(RCODE.REFUSED, [], [], [], undefined, false);
      return reply(RCODE.NOERROR, [{ name: qn.name, type: QTYPE.TXT, class: CLASS_CH, ttl: 0, data: { kind: 'txt', strings: [Buffer.from(text, 'utf8')] } }]);
    }
    if (qn.class === CLASS_ANY) aa = false;
    const zone = this.zones.findZone(name);
    // Authoritative only: no recursion, nothing outside our zones (RFC 1035 §4.3.1, RA stays clear).
    if ((qn.class !== CLASS_IN && qn.class !== CLASS_ANY) || !zone || qn.type === QTYPE.AXFR || qn.type === QTYPE.IXFR) {
      return reply(RCODE.REFUSED, [], [], [], ecs ? encodeClientSubnet({ ...ecs, scopePrefixLength: 0 }) : undefined, false);
    }
    let scope = 0;
    const answers: ResourceRecord[] = [];
    const additionals: ResourceRecord[] = [];
    const workloadRecords = (fqdn: string, owner: string, type: number): ResourceRecord[] | undefined => {
      const w = this.store.byName(fqdn);
      if (!w) return undefined;
      const families: Family[] = type === QTYPE.A ? [4] : type === QTYPE.AAAA ? [6] : type === QTYPE.ANY ? [4, 6] : [];
      const out: ResourceRecord[] = [];
      for (const f of families) {
        const r = ecs
          ? locateClient(w, f, this.geo.current, ecs.family, ecs.sourcePrefixLength, ecs.address, 0, ecs.address.length, client, this.recorder)
          : locateClient(w, f, this.geo.current, 0, 0, EMPTY, 0, 0, client, this.recorder);
        const decision = decisionOf(r);
        this.metrics.countAnswer(viaOf(r), provenanceOf(r));
        w.count(decision, provenanceOf(r));
        scope = Math.max(scope, scopeOf(r));
        const rtype = f === 4 ? QTYPE.A : QTYPE.AAAA;
        for (const address of w.addresses(f, decision)) {
          out.push({ name: owner, type: rtype, class: CLASS_IN, ttl: w.ttl, data: { kind: 'address', address } });
        }
      }
      return out;
    };
    const staticAnswer = (z: Zone, fqdn: string, owner: string, type: number): ResourceRecord[] => {
      return z.recordsAt(fqdn).filter((r) => r.type === type || (type === QTYPE.ANY && r.type !== QTYPE.OPT)).map((r) => ({ ...r, name: owner }));
    };
    // Follow CNAMEs inside our zones (RFC 1034 §4.3.2 step 3a), at most a few links.
    let current = name;
    let owner = qn.name;
    let currentZone: Zone = zone;
    for (let hop = 0; hop < MAX_CNAME_CHAIN; hop++) {
      const wl = workloadRecords(current, owner, qn.type);
      if (wl && wl.length) {
        answers.push(...wl);
        break;
      }
      const here = staticAnswer(currentZone, current, owner, qn.type);
      if (here.length) {
        answers.push(...here);
        if (qn.type === QTYPE.NS && current === currentZone.origin) additionals.push(...glue(currentZone, here));
        break;
      }
      const cname = currentZone.recordsAt(current).find((r) => r.type === QTYPE.CNAME);
      // ANY at a CNAME owner is answered with the CNAME alone (RFC 8482 lets ANY be partial; no chain, no NODATA).
      if (!cname || cname.data.kind !== 'name' || qn.type === QTYPE.CNAME || qn.type === QTYPE.ANY) break;
      answers.push({ ...cname, name: owner });
      current = cname.data.name;
      owner = current;
      const nextZone = this.zones.findZone(current);
      if (!nextZone) break;
      currentZone = nextZone;
    }
    const ecsOut = ecs ? encodeClientSubnet({ ...ecs, scopePrefixLength: ecs.sourcePrefixLength === 0 ? 0 : scope }) : undefined;
    if (answers.length > 0) {
      const last = answers[answers.length - 1]!;
      const targetZone = this.zones.findZone(current);
      if (last.type === QTYPE.CNAME && qn.type !== QTYPE.CNAME && qn.type !== QTYPE.ANY && targetZone) {
        // A chain ending on an in-zone name without the type: the rcode is about the last target (RFC 6604 §2).
        const exists = targetZone.exists(current) || this.store.nameExists(current);
        if (!exists && this.store.stateLost) return reply(RCODE.SERVFAIL, answers, [], [], ecsOut);
        return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, answers, [negativeSoa(targetZone)], [], ecsOut);
      }
      return reply(RCODE.NOERROR, answers, [], additionals, ecsOut);
    }
    const exists = zone.exists(name) || this.store.nameExists(name);
    // A name unknown only because state was lost may exist: SERVFAIL is not cached as NXDOMAIN would be (RFC 2308 §7.1).
    if (!exists && this.store.stateLost) return reply(RCODE.SERVFAIL, [], [], [], ecsOut);
    // RFC 2308 §3: negative answers carry the zone's SOA in the authority section.
    return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, [], [negativeSoa(zone)], [], ecsOut);
  }
}

function negativeSoa(z: Zone): ResourceRecord {
  // RFC 2308 §3: the SOA's TTL in a negative answer is min(SOA TTL, SOA MINIMUM).
  return { ...z.soa, ttl: z.negativeTtl };
}

function glue(z: Zone, ns: readonly ResourceRecord[]): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const r of ns) {
    if (r.data.kind !== 'name') continue;
    out.push(...z.recordsAt(r.data.name).filter((g) => g.type === QTYPE.A || g.type === QTYPE.AAAA));
  }
  return out;
}

/** FORMERR for a message that cannot be decoded: the header only, echoing ID, opcode and RD (RFC 1035 §4.1.1). */
function formErrHeader(msg: Buffer): Buffer | undefined {
  if (msg.length < HEADER_LENGTH || (msg[2]! & 0x80) !== 0) return undefined;
  const out = Buffer.alloc(HEADER_LENGTH);
  out[0] = msg[0]!;
  out[1] = msg[1]!;
  const flags = FLAG.QR | (((msg[2]! << 8) | msg[3]!) & (0x7800 | FLAG.RD)) | RCODE.FORMERR;
  out.writeUInt16BE(flags, 2);
  return out;
}

/**
 * NOTAUTH for a TSIG-signed query when no key is configured (RFC 8945 §5.2, §5.3.2): the question,
 * the OPT record `opt` (when the query had one) and, last, an unsigned TSIG record with error
 * BADKEY, the request's key name, algorithm, time and original ID, and an empty MAC. Undefined
 * when the request's TSIG record is malformed.
 */
function badKeyReply(m: DnsMessage, tsig: ResourceRecord, opt: ResourceRecord[]): Buffer | undefined {
  if (tsig.data.kind !== 'raw') return undefined;
  const raw = tsig.data.bytes;
  let rdata: Buffer;
  try {
    // Algorithm name (uncompressed, RFC 8945 §4.2), time signed (48 bits), fudge, MAC size + MAC, original ID.
    const alg = decodeName(raw, 0);
    const macSize = raw.readUInt16BE(alg.next + 8);
    const origId = raw.readUInt16BE(alg.next + 10 + macSize);
    rdata = Buffer.alloc(alg.next + 16);
    raw.copy(rdata, 0, 0, alg.next + 8);
    rdata.writeUInt16BE(0, alg.next + 8);
    rdata.writeUInt16BE(origId, alg.next + 10);
    rdata.writeUInt16BE(TSIG_ERROR_BADKEY, alg.next + 12);
    rdata.writeUInt16BE(0, alg.next + 14);
  } catch {
    return undefined;
  }
  const flags = FLAG.QR | (m.flags & (0x7800 | FLAG.RD | FLAG.CD)) | RCODE.NOTAUTH;
  return encode({ id: m.id, flags, questions: m.questions.slice(0, 1), answers: [], authorities: [],
    additionals: [...opt, { name: tsig.name, type: QTYPE.TSIG, class: CLASS_ANY, ttl: 0, data: { kind: 'raw', bytes: rdata } }] });
}
