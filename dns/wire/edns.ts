import { ECS_FAMILY, EDNS_OPTION_ECS, QTYPE } from './constants';
import { DnsDecodeError } from './errors';
import type { EdnsOption, ResourceRecord } from './message';

/** EDNS Client Subnet option contents (RFC 7871 §6). `address` holds the significant octets only. */
export interface ClientSubnet {
  readonly family: number;
  readonly sourcePrefixLength: number;
  readonly scopePrefixLength: number;
  readonly address: Buffer;
}

/** Encodes an ECS option; the address is truncated to the source prefix (RFC 7871 §6). */
export function encodeClientSubnet(ecs: ClientSubnet): EdnsOption {
  const octets = Math.ceil(ecs.sourcePrefixLength / 8);
  const data = Buffer.alloc(4 + octets);
  data.writeUInt16BE(ecs.family, 0);
  data[2] = ecs.sourcePrefixLength;
  data[3] = ecs.scopePrefixLength;
  ecs.address.copy(data, 4, 0, Math.min(octets, ecs.address.length));
  const rem = ecs.sourcePrefixLength % 8;
  if (rem !== 0) data[4 + octets - 1]! &= (0xff << (8 - rem)) & 0xff;
  return { code: EDNS_OPTION_ECS, data };
}

/** Decodes and validates an ECS option body; throws `DnsDecodeError` with code `DNS_ERR_BAD_OPTION`. */
export function decodeClientSubnet(data: Buffer): ClientSubnet {
  if (data.length < 4) throw new DnsDecodeError('DNS_ERR_BAD_OPTION', 0, 'ECS option shorter than 4 octets');
  const family = data.readUInt16BE(0);
  const source = data[2]!;
  const scope = data[3]!;
  const max = family === ECS_FAMILY.IPV4 ? 32 : family === ECS_FAMILY.IPV6 ? 128 : -1;
  if (max < 0) throw new DnsDecodeError('DNS_ERR_BAD_OPTION', 0, `ECS family ${family} is not IPv4 (1) or IPv6 (2)`);
  if (source > max || scope > max) throw new DnsDecodeError('DNS_ERR_BAD_OPTION', 2, `ECS prefix longer than ${max} bits`);
  // RFC 7871 §6: exactly ceil(source/8) address octets, and bits past the prefix must be zero.
  const octets = Math.ceil(source / 8);
  if (data.length !== 4 + octets) throw new DnsDecodeError('DNS_ERR_BAD_OPTION', 4, `ECS address has ${data.length - 4} octets, expected ${octets}`);
  const rem = source % 8;
  if (rem !== 0 && (data[4 + octets - 1]! & (0xff >> rem)) !== 0) {
    throw new DnsDecodeError('DNS_ERR_BAD_OPTION', 4 + octets - 1, 'ECS address has bits set beyond the source prefix');
  }
  return { family, sourcePrefixLength: source, scopePrefixLength: scope, address: Buffer.from(data.subarray(4)) };
}

/** Builds an OPT pseudo-record (RFC 6891 §6.1.2). */
export function optRecord(udpSize: number, options: readonly EdnsOption[] = [], extendedRcode = 0, dnssecOk = false): ResourceRecord {
  const ttl = ((extendedRcode & 0xff) << 24) | (dnssecOk ? 0x8000 : 0);
  return { name: '', type: QTYPE.OPT, class: udpSize, ttl: ttl >>> 0, data: { kind: 'opt', options } };
}
