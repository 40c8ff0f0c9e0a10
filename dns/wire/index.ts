/** DNS wire format: symmetric codec, EDNS Client Subnet, and the allocation-free query parser. */
export * from './constants';
export { DnsDecodeError, isDnsDecodeError, type DnsDecodeErrorCode } from './errors';
export * from './message';
export * from './edns';
export * from './ip';
export { decodeName, encodeName, escapeLabel, isInDomain, nameLabels, normalizeName, parentName, validateName, nameEncodingLength } from './name';
export { encodeFastAnswer, fastAnswerLength, FastQuery, FastStatus, parseQuery, hashWireName, wireNameEquals, writeFastAnswer } from './fast';
