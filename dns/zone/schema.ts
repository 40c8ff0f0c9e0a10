import { Type, type Static } from '@sinclair/typebox';

const HostName = Type.String({ minLength: 1, maxLength: 253, pattern: '^([A-Za-z0-9_*]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\\.?$' });
const Seconds = Type.Integer({ minimum: 0, maximum: 2147483647 });

/** Schema of one static record. `name` is relative to the zone (`@` is the apex) or absolute with a trailing dot. */
export const StaticRecordSchema = Type.Union([
  Type.Object({ name: Type.String({ minLength: 1 }), type: Type.Literal('A'), ttlSeconds: Type.Optional(Seconds),
    value: Type.String({ format: 'ipv4' }) }, { additionalProperties: false }),
  Type.Object({ name: Type.String({ minLength: 1 }), type: Type.Literal('AAAA'), ttlSeconds: Type.Optional(Seconds),
    value: Type.String({ format: 'ipv6' }) }, { additionalProperties: false }),
  Type.Object({ name: Type.String({ minLength: 1 }), type: Type.Literal('CNAME'), ttlSeconds: Type.Optional(Seconds),
    value: HostName }, { additionalProperties: false }),
  Type.Object({ name: Type.String({ minLength: 1 }), type: Type.Literal('TXT'), ttlSeconds: Type.Optional(Seconds),
    value: Type.Union([Type.String({ maxLength: 255 }), Type.Array(Type.String({ maxLength: 255 }), { minItems: 1 })]) },
  { additionalProperties: false }),
]);

/** Schema of one authoritative zone: SOA, NS (with optional glue) and static records. */
export const ZoneDefinitionSchema = Type.Object({
  /** Zone apex, e.g. `meridian.test`. */
  origin: HostName,
  /** Default TTL of static records without their own. */
  ttlSeconds: Type.Integer({ minimum: 0, maximum: 2147483647, default: 300 }),
  soa: Type.Object({
    mname: HostName,
    /** Mailbox in domain form (`hostmaster.meridian.test`). */
    rname: HostName,
    serial: Type.Integer({ minimum: 0, maximum: 4294967295, default: 1 }),
    refreshSeconds: Type.Integer({ minimum: 0, default: 3600 }),
    retrySeconds: Type.Integer({ minimum: 0, default: 600 }),
    expireSeconds: Type.Integer({ minimum: 0, default: 604800 }),
    /** Negative-caching TTL (RFC 2308 §4). */
    minimumSeconds: Type.Integer({ minimum: 0, default: 60 }),
  }, { additionalProperties: false }),
  ns: Type.Array(Type.Object({
    name: HostName,
    ipv4: Type.Optional(Type.String({ format: 'ipv4' })),
    ipv6: Type.Optional(Type.String({ format: 'ipv6' })),
  }, { additionalProperties: false }), { minItems: 1 }),
  records: Type.Array(StaticRecordSchema, { default: [] }),
}, { additionalProperties: false });

/** Schema of the server's zone configuration. */
export const ZoneConfigSchema = Type.Object({
  zones: Type.Array(ZoneDefinitionSchema, { minItems: 1 }),
}, { additionalProperties: false });

/** One static record as configured. */
export type StaticRecord = Static<typeof StaticRecordSchema>;
/** One zone as configured. */
export type ZoneDefinition = Static<typeof ZoneDefinitionSchema>;
/** The zones a server is authoritative for. */
export type ZoneConfig = Static<typeof ZoneConfigSchema>;
