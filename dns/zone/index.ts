/** Zone configuration (schema-first) and compiled zones. */
export * from './schema';
export { DnsConfigError, type DnsConfigIssue, exampleZoneConfig, loadZoneConfig, deepFreeze } from './load';
export { Zone, ZoneSet } from './zone';
