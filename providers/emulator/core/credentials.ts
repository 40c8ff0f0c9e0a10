/** Test credentials the emulators accept by default. They open nothing outside this machine. */
export const TEST_CREDENTIALS = Object.freeze({
  aws: Object.freeze({ accessKeyId: 'AKIAMERIDIANTEST0001', secretAccessKey: 'meridian-emulator-aws-secret' }),
  azure: Object.freeze({ token: 'meridian-emulator-azure-token', subscriptionId: '00000000-0000-4000-8000-000000000001', resourceGroup: 'meridian' }),
  alibaba: Object.freeze({ accessKeyId: 'LTAIMERIDIANTEST0001', accessKeySecret: 'meridian-emulator-alibaba-secret' }),
});

/** Default ports of the emulators on 127.0.0.1. */
export const DEFAULT_EMULATOR_PORTS = Object.freeze({ aws: 4566, azure: 4567, alibaba: 4568 });
