import {
  DescribeInstancesCommand, DescribeRegionsCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand,
  type DescribeInstancesCommandOutput, type Filter, type RunInstancesCommandInput, type _InstanceType,
} from '@aws-sdk/client-ec2';
import { inject, injectable } from 'inversify';
import { catalogData, findRegion } from '../catalog';
import type { AwsDriverConfig, ProvidersConfig } from '../config';
import { CloudError, isCloudError } from '../errors';
import { Resilience, type ApiClass, type AttemptEvent, type CallContext } from '../resilience';
import { PROVIDERS_CONFIG } from '../tokens';
import type { CloudProvider, Instance, InstanceSpec, ProviderCapabilities } from '../types';
import { classifyAwsError } from './classify';
import { EC2_LIMITS, LIVE_EC2_STATES, clientTokenFor, instanceTags, tagProblems, toInstance, validateSpec } from './mapping';

/** DescribeInstances page size the driver asks for; EC2 accepts 5 to 1000. */
const PAGE_SIZE = 1000;

/** EC2 filter values treat `*` and `?` as wildcards; a backslash makes them literal. */
const literalFilterValue = (v: string) => v.replace(/[\\*?]/g, (c) => `\\${c}`);

/**
 * The AWS driver: EC2 through `@aws-sdk/client-ec2`, one cached client per region.
 *
 * Only `Resilience` retries (the SDK runs with `maxAttempts: 1`), rate-limits and breaks circuits.
 * Credentials come from the config when set, else from the SDK's default chain (environment,
 * shared config/profile, SSO, container or instance metadata).
 *
 * Failure semantics follow `CloudProvider`: a retryable `createInstance` failure may have launched
 * the instance; calling again with the same `idempotencyKey` sends the same `ClientToken`, and
 * EC2 returns that instance instead of launching another.
 */
@injectable()
export class AwsProvider implements CloudProvider {
  readonly cloud = 'aws' as const;
  readonly capabilities: ProviderCapabilities = Object.freeze({ spot: true, maxTags: EC2_LIMITS.maxTags, maxPageSize: PAGE_SIZE });
  private readonly resilience: Resilience;
  private readonly clients = new Map<string, EC2Client>();
  private readonly aws: AwsDriverConfig;

  constructor(@inject(PROVIDERS_CONFIG) readonly config: ProvidersConfig) {
    this.aws = config.aws ?? {};
    this.resilience = new Resilience('aws', classifyAwsError, config.resilience);
  }

  /** Registers a listener for every attempt (operation, region, outcome, duration), for metrics. */
  onAttempt(listener: (e: AttemptEvent) => void): void {
    this.resilience.onAttempt(listener);
  }

  /** Closes the cached SDK clients and their sockets; later calls open new ones. */
  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  async createInstance(spec: InstanceSpec): Promise<Instance> {
    validateSpec(spec);
    const input: RunInstancesCommandInput = {
      ImageId: spec.image,
      InstanceType: spec.size as _InstanceType,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: clientTokenFor(spec.idempotencyKey),
      TagSpecifications: [{ ResourceType: 'instance', Tags: instanceTags(spec) }],
      ...(spec.spot
        ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } }
        : {}),
      // The SDK does not encode UserData for RunInstances: EC2 expects it base64 on the wire.
      ...(spec.userData !== undefined ? { UserData: Buffer.from(spec.userData, 'utf8').toString('base64') } : {}),
    };
    const out = await this.call(spec.region, 'write', 'RunInstances', (client, signal) => client.send(new RunInstancesCommand(input), { abortSignal: signal }));
    const created = out.Instances?.[0];
    if (!created) {
      throw new CloudError(`aws RunInstances in ${spec.region} returned no instance`, { kind: 'unavailable', cloud: 'aws', region: spec.region, code: 'MalformedResponse', requestId: out.$metadata.requestId });
    }
    return toInstance(spec.region, created);
  }

  async getInstance(region: string, id: string): Promise<Instance | undefined> {
    this.checkRegion(region);
    this.checkId(region, id);
    try {
      const out = await this.call(region, 'read', 'DescribeInstances',
        (client, signal) => client.send(new DescribeInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }));
      const found = instancesOf(out).find((i) => i.InstanceId === id);
      return found ? toInstance(region, found) : undefined;
    } catch (err) {
      // InvalidInstanceID.NotFound: never existed, or terminated long enough ago to be forgotten.
      if (isCloudError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /**
   * Every instance in the region that still exists (pending, running, shutting-down, stopping,
   * stopped) and carries all of `tags`, filtered by EC2 and read page by page with NextToken.
   */
  async *listInstances(region: string, tags: Readonly<Record<string, string>> = {}): AsyncIterable<Instance> {
    this.checkRegion(region);
    const problems = tagProblems(tags, 'tags filter');
    if (problems.length) throw new CloudError(`invalid aws tag filter: ${problems.join('; ')}`, { kind: 'invalid', cloud: 'aws', region, code: 'InvalidFilter' });
    const filters: Filter[] = [
      { Name: 'instance-state-name', Values: [...LIVE_EC2_STATES] },
      ...Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [literalFilterValue(v)] })),
    ];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call(region, 'read', 'DescribeInstances', (client, signal) =>
        client.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: PAGE_SIZE, NextToken: token }), { abortSignal: signal }));
      for (const i of instancesOf(page)) {
        const instance = toInstance(region, i);
        // EC2 already filtered; this guards against a filter EC2 ignored.
        if (Object.entries(tags).every(([k, v]) => instance.tags[k] === v)) yield instance;
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
  }

  async terminateInstance(region: string, id: string): Promise<void> {
    this.checkRegion(region);
    this.checkId(region, id);
    try {
      await this.call(region, 'write', 'TerminateInstances',
        (client, signal) => client.send(new TerminateInstancesCommand({ InstanceIds: [id] }), { abortSignal: signal }));
    } catch (err) {
      // Already gone is what the caller wanted.
      if (isCloudError(err, 'not-found')) return;
      throw err;
    }
  }

  /**
   * EC2 DescribeRegions, asked in the catalog's reference region: the regions open to every
   * account and the opt-in regions this account enabled (`not-opted-in` ones are left out).
   */
  async enabledRegions(): Promise<readonly string[]> {
    const region = catalogData('aws').referenceRegion;
    const out = await this.call(region, 'read', 'DescribeRegions',
      (client, signal) => client.send(new DescribeRegionsCommand({ AllRegions: false }), { abortSignal: signal }));
    return (out.Regions ?? []).flatMap((r) => (r.RegionName && r.OptInStatus !== 'not-opted-in' ? [r.RegionName] : []));
  }

  private call<T>(region: string, apiClass: ApiClass, operation: string, fn: (client: EC2Client, signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctx: CallContext = { region, apiClass, operation };
    return this.resilience.call(ctx, (signal) => fn(this.client(region), signal));
  }

  private client(region: string): EC2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new EC2Client({
        region,
        // Resilience is the only retry layer; the SDK's own retries would multiply attempts.
        maxAttempts: 1,
        ...(this.aws.endpoint ? { endpoint: this.aws.endpoint } : {}),
        ...(this.aws.credentials ? { credentials: { ...this.aws.credentials } } : {}),
      });
      this.clients.set(region, client);
    }
    return client;
  }

  private checkRegion(region: string): void {
    findRegion('aws', region);
  }

  private checkId(region: string, id: string): void {
    if (typeof id !== 'string' || id.trim() === '') {
      throw new CloudError('instance id must be a non-empty EC2 instance id (i-...)', { kind: 'invalid', cloud: 'aws', region, code: 'InvalidInstanceId' });
    }
  }
}

function instancesOf(out: DescribeInstancesCommandOutput) {
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}
