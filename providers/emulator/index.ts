/** Local, wire-compatible stand-ins for the EC2, Azure Resource Manager and Alibaba ECS APIs. */
import { join } from 'node:path';
import type { ProvidersConfig } from '../config';
import type { CloudCatalogData } from '../catalog';
import type { CloudId } from '../types';
import type { ResilienceOptions } from '../resilience';
import { AlibabaEmulator } from './alibaba';
import { AwsEmulator } from './aws';
import { AzureEmulator } from './azure';
import { DEFAULT_EMULATOR_PORTS, TEST_CREDENTIALS } from './core';

export { AlibabaEmulator } from './alibaba';
export { AwsEmulator } from './aws';
export { AzureEmulator } from './azure';
export {
  CloudEmulator, EmulatorAdmin, EmulatorCatalog, DEFAULT_EMULATOR_PORTS, TEST_CREDENTIALS, NO_FAULTS,
  type EmulatorOptions, type FaultSettings, type InstanceStoreSnapshot,
} from './core';

/** Where to run the emulators. Port 0 picks a free port. */
export interface StartEmulatorsOptions {
  readonly host?: string;
  readonly ports?: Partial<Record<CloudId, number>>;
  /** Milliseconds from create to running (default 2000). */
  readonly pendingMs?: number;
  /** A directory where each emulator keeps its instances between runs (`<cloud>.json`); none by default. */
  readonly stateDir?: string;
  /** What each emulated cloud offers; the bundled catalog's data by default. */
  readonly catalogs?: Partial<Record<CloudId, CloudCatalogData>>;
  /** Resilience overrides put into the returned `providersConfig`. */
  readonly resilience?: Partial<ResilienceOptions>;
}

/** The three running emulators and the driver settings that point at them. */
export interface RunningEmulators {
  readonly aws: AwsEmulator;
  readonly azure: AzureEmulator;
  readonly alibaba: AlibabaEmulator;
  /** Endpoints and test credentials for `createProviderContainer`. */
  readonly providersConfig: ProvidersConfig;
  /** Endpoint, admin URL and credentials of each emulator, for printing. */
  describe(): Record<CloudId, Record<string, string>>;
  stop(): Promise<void>;
}

/** Starts all three emulators (defaults: 127.0.0.1 on 4566, 4567, 4568). */
export async function startEmulators(options: StartEmulatorsOptions = {}): Promise<RunningEmulators> {
  const host = options.host ?? '127.0.0.1';
  const port = (c: CloudId) => options.ports?.[c] ?? DEFAULT_EMULATOR_PORTS[c];
  const common = (cloud: CloudId) => ({
    host, pendingMs: options.pendingMs, port: port(cloud), catalog: options.catalogs?.[cloud],
    ...(options.stateDir !== undefined ? { stateFile: join(options.stateDir, `${cloud}.json`) } : {}),
  });
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const aws = await new AwsEmulator(common('aws')).start();
    started.push(aws);
    const azure = await new AzureEmulator(common('azure')).start();
    started.push(azure);
    const alibaba = await new AlibabaEmulator(common('alibaba')).start();
    started.push(alibaba);
    const providersConfig: ProvidersConfig = {
      aws: { endpoint: aws.url, credentials: { ...TEST_CREDENTIALS.aws } },
      azure: { endpoint: azure.url, token: TEST_CREDENTIALS.azure.token, subscriptionId: TEST_CREDENTIALS.azure.subscriptionId, resourceGroup: TEST_CREDENTIALS.azure.resourceGroup },
      alibaba: { endpoint: alibaba.url, accessKeyId: TEST_CREDENTIALS.alibaba.accessKeyId, accessKeySecret: TEST_CREDENTIALS.alibaba.accessKeySecret },
      resilience: options.resilience,
    };
    return {
      aws, azure, alibaba, providersConfig,
      describe: () => ({
        aws: { endpoint: aws.url, admin: `${aws.url}/_emulator/`, accessKeyId: TEST_CREDENTIALS.aws.accessKeyId, secretAccessKey: TEST_CREDENTIALS.aws.secretAccessKey },
        azure: { endpoint: azure.url, admin: `${azure.url}/_emulator/`, token: TEST_CREDENTIALS.azure.token, subscriptionId: TEST_CREDENTIALS.azure.subscriptionId, resourceGroup: TEST_CREDENTIALS.azure.resourceGroup },
        alibaba: { endpoint: alibaba.url, admin: `${alibaba.url}/_emulator/`, accessKeyId: TEST_CREDENTIALS.alibaba.accessKeyId, accessKeySecret: TEST_CREDENTIALS.alibaba.accessKeySecret },
      }),
      stop: async () => { await Promise.all([aws.stop(), azure.stop(), alibaba.stop()]); },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}
