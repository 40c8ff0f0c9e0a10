/** Resource record types used by the server (RFC 1035 §3.2.2, RFC 3596 §2.1, RFC 6891 §6.1.1). */
export const QTYPE = Object.freeze({
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  /** Transaction signature (RFC 8945 §4.2). */
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const);

/** Class IN (RFC 1035 §3.2.4). */
export const CLASS_IN = 1;
/** QCLASS ANY (RFC 1035 §3.2.5). */
export const CLASS_ANY = 255;
/** TSIG error: the key is not known (RFC 8945 §5.2). */
export const TSIG_ERROR_BADKEY = 17;

/** Response codes (RFC 1035 §4.1.1; BADVERS from RFC 6891 §9 is an extended code: 16). */
export const RCODE = Object.freeze({
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Not authorized: a TSIG error (RFC 8945 §5.2). */
  NOTAUTH: 9,
  BADVERS: 16,
} as const);

/** Header flag bits of the 16-bit flags word (RFC 1035 §4.1.1). */
export const FLAG = Object.freeze({
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  /** DNSSEC OK is bit 15 of the OPT TTL field, not of the header (RFC 3225 §3). */
  CD: 0x0010,
} as const);

/** Opcode QUERY (RFC 1035 §4.1.1). */
export const OPCODE_QUERY = 0;

/** EDNS option code of NSID (RFC 5001 §2.3). */
export const EDNS_OPTION_NSID = 3;

/** EDNS option code of DNS COOKIE (RFC 7873 §4). */
export const EDNS_OPTION_COOKIE = 10;

/** EDNS option code of Client Subnet (RFC 7871 §6). */
export const EDNS_OPTION_ECS = 8;

/** ECS address families (RFC 7871 §6, IANA address family numbers). */
export const ECS_FAMILY = Object.freeze({ IPV4: 1, IPV6: 2 } as const);

/** Largest UDP payload without EDNS (RFC 1035 §4.2.1). */
export const MAX_UDP_PLAIN = 512;

/** Our advertised and honoured EDNS UDP payload cap: 1232 avoids IP fragmentation (DNS flag day 2020). */
export const MAX_UDP_EDNS = 1232;

/** Largest message over TCP: the 2-byte length prefix (RFC 1035 §4.2.2). */
export const MAX_TCP_MESSAGE = 65535;

/** Length of the fixed header (RFC 1035 §4.1.1). */
export const HEADER_LENGTH = 12;

/** Longest encoded domain name, in octets (RFC 1035 §2.3.4). */
export const MAX_NAME_LENGTH = 255;

/** Longest label (RFC 1035 §2.3.4). */
export const MAX_LABEL_LENGTH = 63;

/** Name of a record type for logs and metrics (`TYPE<n>` for others, RFC 3597 §5). */
export function typeName(type: number): string {
  for (const [k, v] of Object.entries(QTYPE)) if (v === type) return k;
  return `TYPE${type}`;
}

/** Name of a response code for logs and metrics. */
export function rcodeName(rcode: number): string {
  for (const [k, v] of Object.entries(RCODE)) if (v === rcode) return k;
  return `RCODE${rcode}`;
}
