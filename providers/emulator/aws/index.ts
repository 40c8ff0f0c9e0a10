/** The EC2 emulator: the Query API over HTTP with SigV4, for the unchanged `@aws-sdk/client-ec2`. */
export { AwsEmulator, EC2_API_VERSION, type AwsEmulatorCredentials, type AwsEmulatorOptions } from './emulator';
export { verifySigV4, type SigV4Result, type SigV4Scope } from './sigv4';
