/** A local, wire-compatible stand-in for the Alibaba Cloud ECS API. */
export { AlibabaEmulator, ECS_API_VERSION, type AlibabaEmulatorCredentials, type AlibabaEmulatorOptions } from './emulator';
export { ECS_ERRORS, EcsFault, type EcsErrorCode } from './errors';
export { ACS3_ALGORITHM, acs3Signature, acsPercentEncode, canonicalRequest, parseAcs3Authorization, verifyAcs3 } from './signature';
