import type EcsClient from '@alicloud/ecs20140526';
import {
  DeleteInstanceRequest, DescribeInstancesRequest, DescribeInstancesRequestTag, RunInstancesRequest, RunInstancesRequestTag,
  type DescribeInstancesResponseBody,
} from '@alicloud/ecs20140526';
import { inject, injectable } from 'inversify';
import type { ProvidersConfig } from '../config';
import { CloudError, isCloudError } from '../errors';
import { Resilience, type CallContext } from '../resilience';
import { PROVIDERS_CONFIG } from '../tokens';
import { MERIDIAN_TAGS, type CloudProvider, type Instance, type InstanceSpec, type ProviderCapabilities } from '../types';
import { classifyAlibabaError } from './classify';
import { createEcsClient, ecsRuntime, type EcsTimeouts } from './client';
import { clientTokenFor, keyTagValue, toInstance } from './mapping';
import { MAX_ECS_TAGS, checkInstanceId, checkRegion, checkTagFilter, validateSpec } from './validate';

/** DescribeInstances returns at most 100 instances per page (MaxResults). */
const PAGE_SIZE = 100;
/** Connection set-up never needs longer than this, even when an attempt may take longer. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The Alibaba Cloud driver over `@alicloud/ecs20140526`: RunInstances with a ClientToken,
 * DescribeInstances paged by NextToken, DeleteInstance with Force. Every call goes through one
 * `Resilience` (the SDK itself never retries). The SDK takes no AbortSignal, so its connect and
 * read timeouts, set from `attemptTimeoutMs`, bound each attempt instead.
 *
 * Failure semantics are those of `CloudProvider`: a `createInstance` that rejects with a
 * retryable error may have created the instance; retrying with the same `idempotencyKey` sends
 * the same ClientToken and ECS answers with that instance.
 */
@injectable()
export class AlibabaProvider implements CloudProvider {
  readonly cloud = 'alibaba' as const;
  readonly capabilities: ProviderCapabilities = Object.freeze({ spot: true, maxTags: MAX_ECS_TAGS, maxPageSize: PAGE_SIZE });
  /** Retries, rate limits and breakers of every call this driver makes. */
  readonly resilience: Resilience;
  private readonly clients = new Map<string, EcsClient>();
  private readonly timeouts: EcsTimeouts;

  constructor(@inject(PROVIDERS_CONFIG) readonly config: ProvidersConfig) {
    this.resilience = new Resilience('alibaba', classifyAlibabaError, config.resilience);
    const attempt = this.resilience.options.attemptTimeoutMs;
    this.timeouts = { connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, attempt), readTimeoutMs: attempt };
  }

  async createInstance(spec: InstanceSpec): Promise<Instance> {
    validateSpec(spec);
    const tags: Record<string, string> = {
      ...spec.tags,
      [MERIDIAN_TAGS.workload]: spec.workload,
      [MERIDIAN_TAGS.key]: keyTagValue(spec.idempotencyKey),
    };
    const request = new RunInstancesRequest({
      regionId: spec.region,
      instanceType: spec.size,
      imageId: spec.image,
      amount: 1,
      clientToken: clientTokenFor(spec.idempotencyKey),
      instanceChargeType: 'PostPaid',
      // SpotAsPriceGo bids the market price, capped by ECS at the on-demand price.
      ...(spec.spot ? { spotStrategy: 'SpotAsPriceGo' } : {}),
      ...(spec.userData !== undefined ? { userData: Buffer.from(spec.userData, 'utf8').toString('base64') } : {}),
      tag: Object.entries(tags).map(([key, value]) => new RunInstancesRequestTag({ key, value })),
    });
    const client = this.client(spec.region);
    const created = await this.call({ region: spec.region, apiClass: 'write', operation: 'RunInstances' },
      () => client.runInstancesWithOptions(request, ecsRuntime(this.timeouts)));
    const id = created.body?.instanceIdSets?.instanceIdSet?.[0];
    if (!id) {
      throw new CloudError(`alibaba RunInstances in ${spec.region} answered without an instance id (request ${created.body?.requestId ?? 'unknown'})`,
        { kind: 'unavailable', cloud: this.cloud, region: spec.region, code: 'EmptyRunInstancesResponse', requestId: created.body?.requestId });
    }
    const described = await this.getInstance(spec.region, id);
    // DescribeInstances can lag RunInstances by a moment; the id is known, so answer from the spec.
    return described ?? Object.freeze({
      cloud: this.cloud, region: spec.region, id, state: 'pending' as const, size: spec.size,
      tags: Object.freeze(tags), launchedAt: new Date().toISOString(),
    });
  }

  async getInstance(region: string, id: string): Promise<Instance | undefined> {
    checkRegion(region);
    checkInstanceId(region, id);
    const request = new DescribeInstancesRequest({ regionId: region, instanceIds: JSON.stringify([id]), maxResults: PAGE_SIZE });
    try {
      const body = await this.describe(region, request);
      const found = body?.instances?.instance?.find((i) => i.instanceId === id);
      return found ? toInstance(region, found) : undefined;
    } catch (err) {
      if (isCloudError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  async *listInstances(region: string, tags: Readonly<Record<string, string>> = {}): AsyncIterable<Instance> {
    checkRegion(region);
    checkTagFilter(region, tags);
    const filter = Object.entries(tags).map(([key, value]) => new DescribeInstancesRequestTag({ key, value }));
    const seen = new Set<string>();
    let nextToken: string | undefined;
    do {
      const request = new DescribeInstancesRequest({
        regionId: region, maxResults: PAGE_SIZE, ...(filter.length ? { tag: filter } : {}), ...(nextToken ? { nextToken } : {}),
      });
      const body = await this.describe(region, request);
      for (const raw of body?.instances?.instance ?? []) {
        const inst = toInstance(region, raw);
        // The server filters by tag already; checking again keeps a partial filter from leaking.
        if (Object.entries(tags).every(([k, v]) => inst.tags[k] === v)) yield inst;
      }
      const token = body?.nextToken || undefined;
      if (token !== undefined && seen.has(token)) {
        throw new CloudError(`alibaba DescribeInstances in ${region} returned the NextToken '${token}' twice; stopping instead of looping`,
          { kind: 'unavailable', cloud: this.cloud, region, code: 'RepeatedNextToken', retryable: false });
      }
      if (token !== undefined) seen.add(token);
      nextToken = token;
    } while (nextToken !== undefined);
  }

  async terminateInstance(region: string, id: string): Promise<void> {
    checkRegion(region);
    checkInstanceId(region, id);
    // Force releases a running instance without stopping it first.
    const request = new DeleteInstanceRequest({ instanceId: id, force: true });
    const client = this.client(region);
    try {
      await this.call({ region, apiClass: 'write', operation: 'DeleteInstance' },
        () => client.deleteInstanceWithOptions(request, ecsRuntime(this.timeouts)));
    } catch (err) {
      // Gone is success: also the answer to a retry whose first attempt took effect but lost its reply.
      if (isCloudError(err, 'not-found')) return;
      throw err;
    }
  }

  private async describe(region: string, request: DescribeInstancesRequest): Promise<DescribeInstancesResponseBody | undefined> {
    const client = this.client(region);
    const res = await this.call({ region, apiClass: 'read', operation: 'DescribeInstances' },
      () => client.describeInstancesWithOptions(request, ecsRuntime(this.timeouts)));
    return res.body;
  }

  private call<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    // The SDK has no AbortSignal parameter; its readTimeout ends an attempt the breaker gave up on.
    return this.resilience.call(ctx, () => fn());
  }

  private client(region: string): EcsClient {
    let c = this.clients.get(region);
    if (!c) {
      c = createEcsClient(this.config.alibaba, region, this.timeouts);
      this.clients.set(region, c);
    }
    return c;
  }
}
