/**
 * BGP-4 message codec (RFC 4271 section 4): the header and the OPEN (with capabilities, RFC 5492),
 * UPDATE (framing: withdrawn routes, path attributes and NLRI as raw fields, decoded by
 * `update.ts` with the session's negotiated options), NOTIFICATION, KEEPALIVE and ROUTE-REFRESH
 * (RFC 2918) messages. Symmetric: `encodeMessage` / `decodeMessage`; decoding is bounds-checked and
 * throws only `BgpMessageError`, carrying the NOTIFICATION the RFC asks for.
 */
import { BgpMessageError, ErrorCode, HeaderSubcode, OpenSubcode } from './errors';

/** Message types, RFC 4271 section 4.1 and RFC 2918 section 3. */
export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;

/** Header size: 16-byte marker, 2-byte length, 1-byte type (RFC 4271 section 4.1). */
export const HEADER_LENGTH = 19;
/** Largest message without the extended-message capability (RFC 4271 section 4.1); we never offer RFC 8654. */
export const MAX_MESSAGE_LENGTH = 4096;

/** Capability codes (IANA). */
export const CapabilityCode = {
  Multiprotocol: 1,      // RFC 4760 section 8
  RouteRefresh: 2,       // RFC 2918 section 2
  GracefulRestart: 64,   // RFC 4724 section 3
  FourOctetAs: 65,       // RFC 6793 section 3
  AddPath: 69,           // RFC 7911 section 4
} as const;

/** An address family / subsequent address family pair. */
export interface Family { readonly afi: number; readonly safi: number }

/** One capability of an OPEN (RFC 5492). */
export type Capability =
  | { readonly code: 1; readonly afi: number; readonly safi: number }
  | { readonly code: 2 }
  | { readonly code: 64; readonly restarting: boolean; readonly restartTimeSeconds: number;
      readonly families: readonly (Family & { readonly forwardingPreserved: boolean })[] }
  | { readonly code: 65; readonly asn: number }
  | { readonly code: 69; readonly families: readonly (Family & { readonly sendReceive: 1 | 2 | 3 })[] }
  | { readonly code: number; readonly raw: Uint8Array };

/** OPEN (RFC 4271 section 4.2). `myAs` is the 2-byte field (AS_TRANS for a 4-byte AS). */
export interface OpenMessage {
  readonly type: 1;
  readonly version: number;
  readonly myAs: number;
  readonly holdTimeSeconds: number;
  /** BGP Identifier as dotted quad. */
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
}

/** UPDATE framing (RFC 4271 section 4.3): the three variable fields, undecoded. */
export interface UpdateMessage {
  readonly type: 2;
  readonly withdrawnRoutes: Uint8Array;
  readonly pathAttributes: Uint8Array;
  readonly nlri: Uint8Array;
}

/** NOTIFICATION (RFC 4271 section 4.5). */
export interface NotificationMessage {
  readonly type: 3;
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

/** KEEPALIVE (RFC 4271 section 4.4). */
export interface KeepaliveMessage { readonly type: 4 }

/** ROUTE-REFRESH (RFC 2918 section 3; the reserved octet is RFC 7313's subtype). */
export interface RouteRefreshMessage {
  readonly type: 5;
  readonly afi: number;
  readonly subtype: number;
  readonly safi: number;
}

/** Any BGP message. */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

const EMPTY = new Uint8Array(0);

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function headerError(subcode: number, message: string, data: Uint8Array = EMPTY): BgpMessageError {
  return new BgpMessageError(ErrorCode.MessageHeader, subcode, message, data);
}

function openError(subcode: number, message: string, data: Uint8Array = EMPTY): BgpMessageError {
  return new BgpMessageError(ErrorCode.OpenMessage, subcode, message, data);
}

/**
 * The length of the message starting at `offset`, after checking its header (marker, length,
 * type); undefined while fewer than 19 bytes are there. Throws `BgpMessageError` (Message Header
 * Error) for a bad header.
 */
export function messageLength(buf: Uint8Array, offset = 0, maxLength = MAX_MESSAGE_LENGTH): number | undefined {
  if (buf.length - offset < HEADER_LENGTH) return undefined;
  for (let i = 0; i < 16; i++) {
    if (buf[offset + i] !== 0xff) throw headerError(HeaderSubcode.ConnectionNotSynchronized, 'message marker is not all ones');
  }
  const length = (buf[offset + 16] << 8) | buf[offset + 17];
  const type = buf[offset + 18];
  const lengthData = buf.slice(offset + 16, offset + 18);
  if (type < MessageType.Open || type > MessageType.RouteRefresh) {
    throw headerError(HeaderSubcode.BadMessageType, `unknown message type ${type}`, Uint8Array.of(type));
  }
  // Per-type minimum and fixed lengths, RFC 4271 section 6.1 and RFC 2918 section 3.
  const min = [0, 29, 23, 21, 19, 23][type];
  const fixed = type === MessageType.Keepalive || type === MessageType.RouteRefresh;
  if (length < min || length > maxLength || (fixed && length !== min)) {
    throw headerError(HeaderSubcode.BadMessageLength, `message length ${length} is invalid for type ${type}`, lengthData);
  }
  return length;
}

/** Decodes the whole message at `offset`; throws `BgpMessageError` if it is incomplete or malformed. */
export function decodeMessage(buf: Uint8Array, offset = 0, maxLength = MAX_MESSAGE_LENGTH): { message: BgpMessage; length: number } {
  const length = messageLength(buf, offset, maxLength);
  if (length === undefined || buf.length - offset < length) {
    throw headerError(HeaderSubcode.BadMessageLength, `message truncated: ${buf.length - offset} bytes available`);
  }
  const body = buf.subarray(offset + HEADER_LENGTH, offset + length);
  const type = buf[offset + 18];
  switch (type) {
    case MessageType.Open: return { message: decodeOpen(body), length };
    case MessageType.Update: return { message: decodeUpdateFraming(body), length };
    case MessageType.Notification:
      return { message: { type: 3, code: body[0], subcode: body[1], data: body.slice(2) }, length };
    case MessageType.Keepalive: return { message: { type: 4 }, length };
    default:
      return { message: { type: 5, afi: (body[0] << 8) | body[1], subtype: body[2], safi: body[3] }, length };
  }
}

/** Encodes one message with its header. */
export function encodeMessage(m: BgpMessage): Uint8Array {
  let body: Uint8Array;
  switch (m.type) {
    case 1: body = encodeOpenBody(m); break;
    case 2: body = concat([u16(m.withdrawnRoutes.length), m.withdrawnRoutes, u16(m.pathAttributes.length), m.pathAttributes, m.nlri]); break;
    case 3: body = concat([Uint8Array.of(m.code, m.subcode), m.data]); break;
    case 4: body = EMPTY; break;
    case 5: body = Uint8Array.of(m.afi >> 8, m.afi & 0xff, m.subtype, m.safi); break;
  }
  const out = new Uint8Array(HEADER_LENGTH + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >> 8;
  out[17] = out.length & 0xff;
  out[18] = m.type;
  out.set(body, HEADER_LENGTH);
  return out;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function decodeUpdateFraming(body: Uint8Array): UpdateMessage {
  // RFC 4271 section 6.3: lengths that overrun the message are a Malformed Attribute List.
  const malformed = (why: string): BgpMessageError => new BgpMessageError(ErrorCode.UpdateMessage, 1, why);
  const wl = (body[0] << 8) | body[1];
  if (2 + wl + 2 > body.length) throw malformed(`withdrawn routes length ${wl} overruns the UPDATE`);
  const al = (body[2 + wl] << 8) | body[3 + wl];
  if (4 + wl + al > body.length) throw malformed(`total path attribute length ${al} overruns the UPDATE`);
  return {
    type: 2,
    withdrawnRoutes: body.subarray(2, 2 + wl),
    pathAttributes: body.subarray(4 + wl, 4 + wl + al),
    nlri: body.subarray(4 + wl + al),
  };
}

/** Dotted-quad text of four bytes. */
export function formatId(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Four bytes of a dotted-quad BGP identifier; throws on bad text. */
export function parseId(id: string): Uint8Array {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(id);
  const parts = m ? m.slice(1).map(Number) : [];
  if (parts.length !== 4 || parts.some((p) => p > 255)) throw new RangeError(`BGP identifier must be a dotted quad, got '${id}'`);
  return Uint8Array.from(parts);
}

function decodeOpen(b: Uint8Array): OpenMessage {
  const version = b[0];
  if (version !== 4) throw openError(OpenSubcode.UnsupportedVersionNumber, `BGP version ${version} is not 4`, u16(4));
  const myAs = (b[1] << 8) | b[2];
  const holdTimeSeconds = (b[3] << 8) | b[4];
  const bgpId = formatId(b, 5);
  const optLen = b[9];
  // RFC 4271 section 6.2: the optional parameters must fill the message exactly.
  if (10 + optLen !== b.length) {
    throw openError(0, `optional parameters length ${optLen} does not match the OPEN's ${b.length - 10} remaining bytes`);
  }
  const capabilities: Capability[] = [];
  let o = 10;
  while (o < b.length) {
    if (o + 2 > b.length) throw openError(0, 'optional parameter header truncated');
    const ptype = b[o];
    const plen = b[o + 1];
    if (o + 2 + plen > b.length) throw openError(0, `optional parameter ${ptype} length ${plen} overruns the OPEN`);
    // Only Capabilities (type 2, RFC 5492 section 4) are defined; type 1 (authentication) is deprecated.
    if (ptype !== 2) throw openError(OpenSubcode.UnsupportedOptionalParameter, `unsupported optional parameter type ${ptype}`);
    let c = o + 2;
    const end = o + 2 + plen;
    while (c < end) {
      if (c + 2 > end) throw openError(0, 'capability header truncated');
      const code = b[c];
      const clen = b[c + 1];
      if (c + 2 + clen > end) throw openError(0, `capability ${code} length ${clen} overruns its parameter`);
      capabilities.push(decodeCapability(code, b.subarray(c + 2, c + 2 + clen)));
      c += 2 + clen;
    }
    o = end;
  }
  return { type: 1, version, myAs, holdTimeSeconds, bgpId, capabilities };
}

function decodeCapability(code: number, v: Uint8Array): Capability {
  const bad = (): BgpMessageError => openError(0, `capability ${code} has a malformed value of ${v.length} bytes`);
  switch (code) {
    case CapabilityCode.Multiprotocol:
      if (v.length !== 4) throw bad();
      return { code, afi: (v[0] << 8) | v[1], safi: v[3] };
    case CapabilityCode.RouteRefresh:
      if (v.length !== 0) throw bad();
      return { code };
    case CapabilityCode.GracefulRestart: {
      if (v.length < 2 || (v.length - 2) % 4 !== 0) throw bad();
      const families: (Family & { forwardingPreserved: boolean })[] = [];
      for (let i = 2; i < v.length; i += 4) {
        families.push({ afi: (v[i] << 8) | v[i + 1], safi: v[i + 2], forwardingPreserved: (v[i + 3] & 0x80) !== 0 });
      }
      return { code, restarting: (v[0] & 0x80) !== 0, restartTimeSeconds: ((v[0] & 0x0f) << 8) | v[1], families };
    }
    case CapabilityCode.FourOctetAs:
      if (v.length !== 4) throw bad();
      return { code, asn: ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0 };
    case CapabilityCode.AddPath: {
      if (v.length % 4 !== 0) throw bad();
      const families: (Family & { sendReceive: 1 | 2 | 3 })[] = [];
      for (let i = 0; i < v.length; i += 4) {
        const sr = v[i + 3];
        if (sr < 1 || sr > 3) throw bad();
        families.push({ afi: (v[i] << 8) | v[i + 1], safi: v[i + 2], sendReceive: sr as 1 | 2 | 3 });
      }
      return { code, families };
    }
    default:
      return { code, raw: v.slice() };
  }
}

function encodeCapability(c: Capability): Uint8Array {
  let v: Uint8Array;
  if ('raw' in c) v = c.raw;
  else {
    switch (c.code) {
      case 1: v = Uint8Array.of(c.afi >> 8, c.afi & 0xff, 0, c.safi); break;
      case 2: v = EMPTY; break;
      case 64: {
        v = new Uint8Array(2 + 4 * c.families.length);
        v[0] = (c.restarting ? 0x80 : 0) | ((c.restartTimeSeconds >> 8) & 0x0f);
        v[1] = c.restartTimeSeconds & 0xff;
        c.families.forEach((f, i) => v.set([f.afi >> 8, f.afi & 0xff, f.safi, f.forwardingPreserved ? 0x80 : 0], 2 + 4 * i));
        break;
      }
      case 65: v = Uint8Array.of(c.asn >>> 24, (c.asn >>> 16) & 0xff, (c.asn >>> 8) & 0xff, c.asn & 0xff); break;
      default: {
        const fams = (c as { families: readonly (Family & { sendReceive: number })[] }).families;
        v = new Uint8Array(4 * fams.length);
        fams.forEach((f, i) => v.set([f.afi >> 8, f.afi & 0xff, f.safi, f.sendReceive], 4 * i));
      }
    }
  }
  return concat([Uint8Array.of(c.code, v.length), v]);
}

function encodeOpenBody(m: OpenMessage): Uint8Array {
  // One Capabilities parameter per capability, as most speakers send them (RFC 5492 section 4 allows either).
  const params = m.capabilities.map((c) => {
    const cap = encodeCapability(c);
    return concat([Uint8Array.of(2, cap.length), cap]);
  });
  const opt = concat(params);
  return concat([Uint8Array.of(m.version), u16(m.myAs), u16(m.holdTimeSeconds), parseId(m.bgpId), Uint8Array.of(opt.length), opt]);
}
