/**
 * RIPE RIS MRT archives (RFC 6396): the record codec, the streaming reader, elements in bgpdump's
 * terms, the `mrt dump` command, and the RIS poller channel.
 */
export { MrtDecodeError, isMrtDecodeError, type MrtDecodeErrorCode } from './errors';
export {
  BGP4MP, MRT_TYPE, TABLE_DUMP_V2, decodeRecord, decodeBody, decodeHeader, encodeRecord,
  type Bgp4mpMessageRecord, type Bgp4mpStateRecord, type BgpUpdate, type MrtHeader, type MrtPeer, type MrtRecord,
  type PeerIndexRecord, type RibEntry, type RibRecord, type TableDumpRecord, type UnsupportedRecord,
} from './codec';
export { elementsOf, formatAsPath, formatBgpdumpLine, visitElements, type ElementType, type MrtElement } from './elements';
export {
  DEFAULT_BZIP2_COMMANDS, DEFAULT_MAX_RECORD_BYTES, decompressed, detectCompression, openInput, readElements, readRecords,
  type MrtReadOptions, type MrtReadStats,
} from './reader';
export { dumpMrt, type DumpResult, type DumpSink } from './dump';
export { RoutingCollector, peerId, routeOf } from './routing';
export { RisChannel, monthFolders, parseRisFileName, type RisChannelOptions, type RisEvent, type RisFile } from './poller';
export { RisSettingsSchema, RisSettingsError, parseRisSettings, type RisSettings, type RisSettingsIssue } from './settings';
