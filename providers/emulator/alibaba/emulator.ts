import { randomBytes, randomUUID } from 'node:crypto';
import {
  CloudEmulator, DROP, StoreError, TEST_CREDENTIALS, fingerprintOf,
  type EmuInstance, type EmuRequest, type EmuResponse, type EmulatorOptions,
} from '../core';
import { ECS_ERRORS, EcsFault } from './errors';
import { parseAcs3Authorization, verifyAcs3 } from './signature';

/** The one ECS API version the emulator speaks (what `@alicloud/ecs20140526` sends). */
export const ECS_API_VERSION = '2014-05-26';

/** An AccessKey pair the emulator accepts. */
export interface AlibabaEmulatorCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

/** Settings of the ECS emulator. */
export type AlibabaEmulatorOptions = EmulatorOptions & {
  /** Accepted keys; defaults to `TEST_CREDENTIALS.alibaba`. */
  readonly credentials?: AlibabaEmulatorCredentials | readonly AlibabaEmulatorCredentials[];
};

// The gateway refuses a request whose x-acs-date is more than 15 minutes off, and remembers
// nonces for as long so a captured request cannot be replayed.
const CLOCK_SKEW_MS = 15 * 60_000;
// RunInstances: at most 20 tags and 100 instances per call; UserData at most 32 KiB before Base64.
const MAX_TAGS = 20;
const MAX_AMOUNT = 100;
const MAX_USER_DATA_BYTES = 32 * 1024;
// DescribeInstances: MaxResults and PageSize default to 10 and top out at 100.
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

const SPOT_STRATEGIES = new Set(['NoSpot', 'SpotWithPriceLimit', 'SpotAsPriceGo']);
const MUTATING_ACTIONS = new Set(['RunInstances', 'DeleteInstance', 'DeleteInstances', 'StartInstance', 'StopInstance', 'RebootInstance', 'TagResources']);
const ACTIONS = new Set([...MUTATING_ACTIONS, 'DescribeInstances', 'DescribeInstanceStatus', 'DescribeRegions', 'DescribeInstanceTypes', 'DescribeAvailableResource']);
// Calls that take the region from the instance when RegionId is absent, and calls that need no region.
const BY_INSTANCE = new Set(['DeleteInstance', 'StartInstance', 'StopInstance', 'RebootInstance']);
const REGIONLESS = new Set(['DescribeRegions', 'DescribeInstanceTypes']);
// DeleteInstances, TagResources and DescribeInstanceStatus take at most 100 instances at once.
const MAX_IDS = 100;

type Params = ReadonlyMap<string, string>;

/**
 * A local stand-in for the Alibaba Cloud ECS RPC API (version 2014-05-26) that the unchanged
 * `@alicloud/ecs20140526` client talks to: ACS3-HMAC-SHA256 signatures, parameters in the query,
 * JSON answers with `RequestId`, and errors as `{ RequestId, HostId, Code, Message, Recommend }`
 * with ECS's own codes and HTTP statuses.
 *
 * Actions: RunInstances, DescribeInstances (NextToken/MaxResults or PageNumber/PageSize), DeleteInstance,
 * DeleteInstances, StartInstance, StopInstance, RebootInstance, TagResources, DescribeInstanceStatus,
 * and the catalog reads DescribeRegions, DescribeInstanceTypes and DescribeAvailableResource
 * (served from the emulator's catalog).
 */
export class AlibabaEmulator extends CloudEmulator {
  private readonly secrets: ReadonlyMap<string, string>;
  private readonly nonces = new Map<string, number>();

  constructor(options: AlibabaEmulatorOptions = {}) {
    super('alibaba', options, {
      // ECS forgets a released instance at once: DescribeInstances no longer lists it.
      terminatedVisibleMs: 0,
      newId: (n) => `i-${n.toString(36).padStart(8, '0')}${randomBytes(6).toString('hex')}`,
    });
    const creds = options.credentials ?? TEST_CREDENTIALS.alibaba;
    const list: readonly AlibabaEmulatorCredentials[] = Array.isArray(creds) ? creds : [creds as AlibabaEmulatorCredentials];
    this.secrets = new Map(list.map((c) => [c.accessKeyId, c.accessKeySecret]));
  }

  protected async handle(req: EmuRequest): Promise<EmuResponse> {
    const requestId = randomUUID().toUpperCase();
    const params = requestParams(req);
    const action = headerOf(req, 'x-acs-action') || params.get('Action') || 'Unknown';
    const region = regionOf(req, params) ?? (BY_INSTANCE.has(action) ? this.store.get(params.get('InstanceId') ?? '')?.region : undefined);
    try {
      this.authenticate(req);
      const version = headerOf(req, 'x-acs-version') || params.get('Version');
      if (version !== ECS_API_VERSION) throw new EcsFault('InvalidVersion', `Specified parameter Version '${version ?? ''}' is not valid; this endpoint speaks ${ECS_API_VERSION}.`);
      if (!ACTIONS.has(action)) {
        throw new EcsFault('InvalidApi.NotFound', `Specified api '${action}' is not found, please check your url and method.`);
      }
      // The single-instance calls carry no RegionId: ECS takes the region from the endpoint or the instance itself.
      if (!region && BY_INSTANCE.has(action)) throw new EcsFault('InvalidInstanceId.NotFound', `The specified InstanceId '${params.get('InstanceId') ?? ''}' does not exist.`);
      if (!region && !REGIONLESS.has(action)) throw new EcsFault('MissingParameter', 'The input parameter "RegionId" that is mandatory for processing this request is not supplied.');
      if (region && !this.catalog.region(region)) throw new EcsFault('InvalidRegionId.NotFound', `The specified RegionId '${region}' does not exist.`);
      const decision = await this.gate(region);
      if (decision.kind === 'outage') throw new EcsFault('ServiceUnavailable');
      if (decision.kind === 'server-error') throw new EcsFault('InternalError');
      if (decision.kind === 'throttled') {
        // ECS sends no standard Retry-After; the SDK reads x-acs-retry-after (milliseconds). Send both.
        throw new EcsFault('Throttling.User', undefined, {
          'retry-after': String(decision.retryAfterSeconds), 'x-acs-retry-after': String(decision.retryAfterSeconds * 1000),
        });
      }
      const body = region ? this.dispatchAction(action, region, params) : this.dispatchGlobal(action, params);
      if (MUTATING_ACTIONS.has(action) && this.takeDropReply()) {
        this.count(action, 'dropped');
        return DROP;
      }
      this.count(action, 'ok');
      return json(200, { RequestId: requestId, ...body }, requestId);
    } catch (err) {
      if (!(err instanceof EcsFault)) throw err;
      this.count(action, err.code);
      const host = region ? `ecs.${region}.aliyuncs.com` : 'ecs.aliyuncs.com';
      return json(err.status, {
        RequestId: requestId, HostId: host, Code: err.code, Message: err.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=Ecs&requestId=${requestId}`,
      }, requestId, err.headers);
    }
  }

  private authenticate(req: EmuRequest): void {
    const auth = parseAcs3Authorization(headerOf(req, 'authorization'));
    if (!auth) throw new EcsFault('IncompleteSignature', 'The request signature does not conform to Aliyun standards: an ACS3-HMAC-SHA256 Authorization header is required.');
    const secret = this.secrets.get(auth.accessKeyId);
    if (secret === undefined) throw new EcsFault('InvalidAccessKeyId.NotFound');
    const date = Date.parse(headerOf(req, 'x-acs-date'));
    if (Number.isNaN(date)) throw new EcsFault('InvalidTimeStamp.Format');
    if (Math.abs(Date.now() - date) > CLOCK_SKEW_MS) throw new EcsFault('InvalidTimeStamp.Expired');
    const fault = verifyAcs3({ method: req.method, path: req.path, query: queryParams(req), headers: req.headers, body: req.body }, auth, secret);
    if (fault) throw new EcsFault(fault.code, fault.message);
    this.rememberNonce(headerOf(req, 'x-acs-signature-nonce'));
  }

  private rememberNonce(nonce: string): void {
    const now = Date.now();
    if ((this.nonces.get(nonce) ?? 0) > now) throw new EcsFault('SignatureNonceUsed');
    if (this.nonces.size > 10_000) for (const [k, until] of this.nonces) if (until <= now) this.nonces.delete(k);
    this.nonces.set(nonce, now + CLOCK_SKEW_MS);
  }

  private dispatchAction(action: string, region: string, params: Params): Record<string, unknown> {
    switch (action) {
      case 'RunInstances': return this.runInstances(region, params);
      case 'DescribeInstances': return this.describeInstances(region, params);
      case 'DeleteInstances': return this.deleteInstances(region, params);
      case 'StartInstance': case 'StopInstance': case 'RebootInstance': return this.power(action, region, params);
      case 'TagResources': return this.tagResources(region, params);
      case 'DescribeInstanceStatus': return this.describeInstanceStatus(region, params);
      case 'DescribeAvailableResource': return this.describeAvailableResource(region, params);
      case 'DescribeRegions': case 'DescribeInstanceTypes': return this.dispatchGlobal(action, params);
      default: return this.deleteInstance(region, params);
    }
  }

  private dispatchGlobal(action: string, params: Params): Record<string, unknown> {
    return action === 'DescribeRegions' ? this.describeRegions(params) : this.describeInstanceTypes(params);
  }

  /** The regions this account can call (names in English; `AcceptLanguage` is accepted and ignored). */
  private describeRegions(_params: Params): Record<string, unknown> {
    return {
      Regions: {
        Region: this.catalog.publicRegions().map((r) => ({
          RegionId: r.id, LocalName: r.name, RegionEndpoint: `ecs.${r.id}.aliyuncs.com`, Status: 'available',
        })),
      },
    };
  }

  /** The instance types (all regions; `DescribeAvailableResource` says where each is sold), paged by NextToken. */
  private describeInstanceTypes(params: Params): Record<string, unknown> {
    const wanted = listParam(params, 'InstanceTypes');
    const rows = this.catalog.sizes.filter((s) => wanted.length === 0 || wanted.includes(s.name));
    const size = Math.min(integerParam(params, 'MaxResults', MAX_PAGE_SIZE, 1, 1600), this.maxPageSize);
    const token = params.get('NextToken') || undefined;
    const from = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString());
    if (!Number.isInteger(from) || from < 0) throw new EcsFault('InvalidParameter', 'The specified parameter NextToken is not valid.');
    const page = rows.slice(from, from + size);
    return {
      InstanceTypes: {
        InstanceType: page.map((s) => ({
          InstanceTypeId: s.name, CpuCoreCount: s.vcpu, MemorySize: s.memoryGiB,
          CpuArchitecture: s.arch === 'arm64' ? 'ARM' : 'X86', InstanceTypeFamily: s.name.split('.').slice(0, 2).join('.'),
          InstanceCategory: 'General-purpose', InstanceFamilyLevel: 'EnterpriseLevel',
        })),
      },
      NextToken: from + size < rows.length ? Buffer.from(String(from + size)).toString('base64url') : '',
    };
  }

  /** Which instance types the region sells (`DestinationResource=InstanceType`), in its one zone `<region>-a`. */
  private describeAvailableResource(region: string, params: Params): Record<string, unknown> {
    const dest = required(params, 'DestinationResource');
    if (dest !== 'InstanceType') throw new EcsFault('InvalidParameter', `The specified parameter DestinationResource '${dest}' is not supported by this emulator: use InstanceType.`);
    const only = params.get('InstanceType');
    const offered = this.catalog.offeredIn(region).filter((s) => only === undefined || s.name === only);
    return {
      AvailableZones: {
        AvailableZone: [{
          RegionId: region, ZoneId: `${region}-a`, Status: 'Available', StatusCategory: 'WithStock',
          AvailableResources: {
            AvailableResource: [{
              Type: 'InstanceType',
              SupportedResources: { SupportedResource: offered.map((s) => ({ Value: s.name, Status: 'Available', StatusCategory: 'WithStock' })) },
            }],
          },
        }],
      },
    };
  }

  /** The region's live instance, or InvalidInstanceId.NotFound as ECS words it. */
  private instanceIn(region: string, id: string): EmuInstance {
    const inst = this.store.get(id);
    if (!inst || inst.region !== region || inst.state === 'terminated') throw new EcsFault('InvalidInstanceId.NotFound', `The specified InstanceId '${id}' does not exist.`);
    return inst;
  }

  /**
   * StartInstance needs Stopped (then Starting, Running after the delay); StopInstance and
   * RebootInstance need Running. Anything else is IncorrectInstanceStatus, as ECS answers.
   */
  private power(action: 'StartInstance' | 'StopInstance' | 'RebootInstance', region: string, params: Params): Record<string, unknown> {
    const inst = this.instanceIn(region, required(params, 'InstanceId'));
    const need = action === 'StartInstance' ? 'stopped' : 'running';
    if (inst.state !== need) {
      throw new EcsFault('IncorrectInstanceStatus', `The current status of the resource does not support this operation: instance ${inst.id} is ${ecsStatus(inst)}, ${action} needs ${need === 'stopped' ? 'Stopped' : 'Running'}.`);
    }
    if (params.get('DryRun') === 'true') throw new EcsFault('DryRunOperation');
    if (action === 'StartInstance') this.store.setPower(inst.id, 'pending');
    else if (action === 'StopInstance') this.store.setPower(inst.id, 'stopped');
    else inst.extra.rebootedAt = new Date().toISOString();
    return {};
  }

  /** Releases up to 100 instances at once; without Force every one must be Stopped, else nothing is released. */
  private deleteInstances(region: string, params: Params): Record<string, unknown> {
    const ids = listParam(params, 'InstanceId');
    if (ids.length === 0) required(params, 'InstanceId');
    if (ids.length > MAX_IDS) throw new EcsFault('InvalidParameter', `The specified parameter InstanceId has ${ids.length} members; at most ${MAX_IDS} are allowed.`);
    const found = ids.map((id) => this.instanceIn(region, id));
    const force = params.get('Force') === 'true';
    const running = found.find((i) => i.state !== 'stopped');
    if (running && !force) {
      throw new EcsFault('IncorrectInstanceStatus', `The current status of the resource does not support this operation: instance ${running.id} is ${ecsStatus(running)}; stop it or set Force=true.`);
    }
    if (params.get('DryRun') === 'true') throw new EcsFault('DryRunOperation');
    for (const i of found) this.store.terminate(i.id);
    return {};
  }

  /** Adds or overwrites tags on instances (`ResourceType=instance`); the whole call fails on an unknown id. */
  private tagResources(region: string, params: Params): Record<string, unknown> {
    const type = required(params, 'ResourceType');
    if (type.toLowerCase() !== 'instance') throw new EcsFault('InvalidResourceType.NotFound', `The specified ResourceType '${type}' is not supported by this emulator: use instance.`);
    const ids = listParam(params, 'ResourceId');
    if (ids.length === 0) required(params, 'ResourceId');
    if (ids.length > 50) throw new EcsFault('InvalidParameter', 'The specified parameter ResourceId has more than 50 members.');
    const tags = runTags(params);
    if (Object.keys(tags).length === 0) required(params, 'Tag.1.Key');
    const found = ids.map((id) => {
      const i = this.store.get(id);
      if (!i || i.region !== region || i.state === 'terminated') throw new EcsFault('InvalidResourceId.NotFound', `The specified ResourceIds '${id}' are not found in our records.`);
      return i;
    });
    for (const i of found) {
      const next = { ...i.tags, ...tags };
      if (Object.keys(next).length > MAX_TAGS) throw new EcsFault('InvalidTagCount', `An instance can carry at most ${MAX_TAGS} tags.`);
      this.store.setTags(i.id, next);
    }
    return {};
  }

  /** Status of the region's instances (or of `InstanceId.N`), paged by PageNumber/PageSize (at most 50). */
  private describeInstanceStatus(region: string, params: Params): Record<string, unknown> {
    const ids = listParam(params, 'InstanceId');
    if (ids.length > MAX_IDS) throw new EcsFault('InvalidParameter', `The specified parameter InstanceId has ${ids.length} members; at most ${MAX_IDS} are allowed.`);
    const all = this.store.list(region, (i) => i.state !== 'terminated' && (ids.length === 0 || ids.includes(i.id)), Number.MAX_SAFE_INTEGER).items;
    const pageNumber = integerParam(params, 'PageNumber', 1, 1, Number.MAX_SAFE_INTEGER);
    const pageSize = Math.min(integerParam(params, 'PageSize', DEFAULT_PAGE_SIZE, 1, 50), this.maxPageSize);
    const items = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
      InstanceStatuses: { InstanceStatus: items.map((i) => ({ InstanceId: i.id, Status: ecsStatus(i) })) },
      PageNumber: pageNumber, PageSize: pageSize, TotalCount: all.length,
    };
  }

  private runInstances(region: string, params: Params): Record<string, unknown> {
    const type = required(params, 'InstanceType');
    const image = required(params, 'ImageId');
    const size = this.catalog.offers(region, type) ? this.catalog.size(type) : undefined;
    if (!size) throw new EcsFault('InvalidInstanceType.NotFound', `The specified InstanceType '${type}' does not exist or is not offered in ${region}.`);
    const amount = integerParam(params, 'Amount', 1, 1, MAX_AMOUNT);
    const spot = params.get('SpotStrategy') ?? 'NoSpot';
    if (!SPOT_STRATEGIES.has(spot)) throw new EcsFault('InvalidParameter', `The specified parameter SpotStrategy '${spot}' is not valid.`);
    const userData = params.get('UserData');
    if (userData !== undefined) checkUserData(userData);
    const clientToken = params.get('ClientToken');
    if (clientToken !== undefined && (clientToken.length === 0 || clientToken.length > 64 || !/^[\x20-\x7e]+$/.test(clientToken))) {
      throw new EcsFault('InvalidParameter', 'The specified parameter ClientToken is not valid: at most 64 printable ASCII characters.');
    }
    const tags = runTags(params);
    if (params.get('DryRun') === 'true') throw new EcsFault('DryRunOperation');
    const instanceName = params.get('InstanceName');
    const fingerprint = fingerprintOf({ region, type, image, amount, spot, userData, instanceName, tags: Object.entries(tags).sort() });
    const ids: string[] = [];
    for (let i = 0; i < amount; i++) {
      try {
        const { instance } = this.store.create({
          region, type, image, tags, fingerprint,
          clientToken: clientToken === undefined ? undefined : i === 0 ? clientToken : `${clientToken}#${i}`,
          extra: { spotStrategy: spot, instanceName, userData, zoneId: `${region}-a`, vcpu: size.vcpu, memoryGiB: size.memoryGiB },
        }, this.faults);
        ids.push(instance.id);
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        if (err.refusal === 'capacity') throw new EcsFault('OperationDenied.NoStock');
        if (err.refusal === 'quota') throw new EcsFault('QuotaExceed.ElasticQuota', `${ECS_ERRORS['QuotaExceed.ElasticQuota'].message} (${err.message})`);
        throw new EcsFault('IdempotentParameterMismatch');
      }
    }
    return { InstanceIdSets: { InstanceIdSet: ids }, TradePrice: size.usdPerHour * amount, OrderId: '' };
  }

  private describeInstances(region: string, params: Params): Record<string, unknown> {
    const ids = instanceIdsParam(params);
    const tagFilter = filterTags(params);
    const status = params.get('Status');
    const type = params.get('InstanceType');
    const match = (i: EmuInstance) =>
      (ids === undefined || ids.has(i.id)) &&
      (status === undefined || ecsStatus(i) === status) &&
      (type === undefined || i.type === type) &&
      tagFilter.every(([k, v]) => k in i.tags && (v === undefined || i.tags[k] === v));
    const everything = this.store.list(region, match, Number.MAX_SAFE_INTEGER).items;
    if (params.has('NextToken') || params.has('MaxResults')) {
      // The documented floor of 10 applies, then this emulator's own cap (tests lower it to force paging).
      const requested = Math.max(DEFAULT_PAGE_SIZE, integerParam(params, 'MaxResults', DEFAULT_PAGE_SIZE, 1, Number.MAX_SAFE_INTEGER));
      const pageSize = Math.min(requested, MAX_PAGE_SIZE, this.maxPageSize);
      const token = params.get('NextToken') || undefined;
      if (token !== undefined && !Buffer.from(token, 'base64url').toString().startsWith('i-')) {
        throw new EcsFault('InvalidParameter', 'The specified parameter NextToken is not valid.');
      }
      const page = this.store.list(region, match, pageSize, token);
      return {
        Instances: { Instance: page.items.map((i) => describeInstance(i)) },
        NextToken: page.nextToken ?? '', TotalCount: everything.length,
      };
    }
    const pageNumber = integerParam(params, 'PageNumber', 1, 1, Number.MAX_SAFE_INTEGER);
    const pageSize = Math.min(integerParam(params, 'PageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE), this.maxPageSize);
    const items = everything.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
      Instances: { Instance: items.map((i) => describeInstance(i)) },
      PageNumber: pageNumber, PageSize: pageSize, TotalCount: everything.length,
    };
  }

  private deleteInstance(region: string, params: Params): Record<string, unknown> {
    const id = required(params, 'InstanceId');
    const inst = this.store.get(id);
    if (!inst || inst.region !== region || inst.state === 'terminated') throw new EcsFault('InvalidInstanceId.NotFound', `The specified InstanceId '${id}' does not exist.`);
    // Without Force, ECS releases only stopped instances.
    if (inst.state !== 'stopped' && params.get('Force') !== 'true') {
      throw new EcsFault('IncorrectInstanceStatus', `The current status of the resource does not support this operation: instance ${id} is ${ecsStatus(inst)}; stop it or set Force=true.`);
    }
    this.store.terminate(id);
    return {};
  }
}

/** The ECS `Status` of an emulated instance. */
function ecsStatus(i: EmuInstance): string {
  switch (i.state) {
    // A stopped instance being started again reports Starting until it runs.
    case 'pending': return i.pendingSince === undefined ? 'Pending' : 'Starting';
    case 'running': return 'Running';
    case 'stopped': return 'Stopped';
    default: return 'Deleted';
  }
}

/** ECS prints times to the minute: `2017-12-10T04:04Z`. */
function ecsTime(d: Date): string {
  return `${d.toISOString().slice(0, 16)}Z`;
}

function describeInstance(i: EmuInstance): Record<string, unknown> {
  const extra = i.extra as { spotStrategy?: string; instanceName?: string; zoneId?: string; vcpu?: number; memoryGiB?: number };
  return {
    InstanceId: i.id, InstanceName: extra.instanceName ?? i.id, HostName: i.id, RegionId: i.region, ZoneId: extra.zoneId ?? `${i.region}-a`,
    InstanceType: i.type, ImageId: i.image, Status: ecsStatus(i), InstanceChargeType: 'PostPaid', SpotStrategy: extra.spotStrategy ?? 'NoSpot',
    InstanceNetworkType: 'vpc', OSType: 'linux', Cpu: extra.vcpu, Memory: extra.memoryGiB === undefined ? undefined : extra.memoryGiB * 1024,
    CreationTime: ecsTime(i.launchedAt), StartTime: ecsTime(i.launchedAt),
    PublicIpAddress: { IpAddress: i.publicIp ? [i.publicIp] : [] },
    InnerIpAddress: { IpAddress: [] },
    VpcAttributes: { PrivateIpAddress: { IpAddress: [i.privateIp] }, VpcId: `vpc-${i.region}`, VSwitchId: `vsw-${i.region}-a`, NatIpAddress: '' },
    Tags: { Tag: Object.entries(i.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
  };
}

function json(status: number, body: unknown, requestId: string, headers: Readonly<Record<string, string>> = {}): EmuResponse {
  return { status, headers: { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId, ...headers }, body: JSON.stringify(body) };
}

function headerOf(req: EmuRequest, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v ?? '';
}

/** The region a call is for: its RegionId, else the `ecs.<region>.aliyuncs.com` host it was sent to. */
function regionOf(req: EmuRequest, params: Params): string | undefined {
  const fromParam = params.get('RegionId');
  if (fromParam) return fromParam;
  const m = /^ecs\.([a-z0-9-]+)\.aliyuncs\.com(:\d+)?$/.exec(headerOf(req, 'host'));
  return m?.[1];
}

function queryParams(req: EmuRequest): Map<string, string> {
  return new Map(req.url.searchParams.entries());
}

/** Query parameters, plus form fields when the body is form-encoded (the RPC style accepts both). */
function requestParams(req: EmuRequest): Map<string, string> {
  const params = queryParams(req);
  if (headerOf(req, 'content-type').startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(req.body.toString())) params.set(k, v);
  }
  return params;
}

function required(params: Params, name: string): string {
  const v = params.get(name);
  if (v === undefined || v.trim() === '') {
    throw new EcsFault('MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
  }
  return v;
}

function integerParam(params: Params, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new EcsFault('InvalidParameter', `The specified parameter ${name} '${raw}' is not valid: expected an integer from ${min} to ${max}.`);
  return n;
}

function checkUserData(userData: string): void {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData) || userData.length % 4 !== 0) throw new EcsFault('InvalidUserData.Base64FormatInvalid');
  if (Buffer.from(userData, 'base64').length > MAX_USER_DATA_BYTES) throw new EcsFault('InvalidUserData.SizeExceeded');
}

/** `Tag.N.Key` / `Tag.N.Value` pairs in N order. */
function tagPairs(params: Params): Array<[number, string | undefined, string | undefined]> {
  const byIndex = new Map<number, [string | undefined, string | undefined]>();
  for (const [k, v] of params) {
    const m = /^Tag\.(\d+)\.(Key|Value)$/.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    const pair = byIndex.get(n) ?? [undefined, undefined];
    if (m[2] === 'Key') pair[0] = v; else pair[1] = v;
    byIndex.set(n, pair);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([n, [k, v]]) => [n, k, v]);
}

/** RunInstances tags, checked against ECS's tag rules. */
function runTags(params: Params): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [n, key, value] of tagPairs(params)) {
    if (n < 1 || n > MAX_TAGS) throw new EcsFault('InvalidTagCount', `The specified tags are beyond the permitted range: N of Tag.N must be 1 to ${MAX_TAGS}.`);
    if (key === undefined || key === '' || key.length > 128 || /^(aliyun|acs:)/i.test(key) || /https?:\/\//i.test(key)) {
      throw new EcsFault('InvalidTagKey.Malformed', `The specified Tag.${n}.Key is not valid: 1 to 128 characters, not starting with aliyun or acs:, without http:// or https://.`);
    }
    const v = value ?? '';
    if (v.length > 128 || /https?:\/\//i.test(v)) throw new EcsFault('InvalidTagValue.Malformed', `The specified Tag.${n}.Value is not valid: at most 128 characters, without http:// or https://.`);
    if (key in tags) throw new EcsFault('InvalidTagKey.Malformed', `The specified Tag.${n}.Key '${key}' is duplicated.`);
    tags[key] = v;
  }
  return tags;
}

/** DescribeInstances tag filters: a key alone matches any value. */
function filterTags(params: Params): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (const [n, key, value] of tagPairs(params)) {
    if (key === undefined || key === '') throw new EcsFault('InvalidTagKey.Malformed', `The specified Tag.${n}.Key is not valid.`);
    out.push([key, value]);
  }
  if (out.length > MAX_TAGS) throw new EcsFault('InvalidTagCount');
  return out;
}

/** `InstanceIds`: a JSON array of at most 100 ids. */
function instanceIdsParam(params: Params): Set<string> | undefined {
  const raw = params.get('InstanceIds');
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch { throw new EcsFault('InvalidInstanceIds.Malformed'); }
  if (!Array.isArray(parsed) || parsed.length > MAX_PAGE_SIZE || parsed.some((x) => typeof x !== 'string')) throw new EcsFault('InvalidInstanceIds.Malformed');
  return new Set(parsed as string[]);
}


/** A repeat-list parameter `Name.1`, `Name.2`, ... in index order (how the SDK sends string arrays). */
function listParam(params: Params, name: string): string[] {
  const out: Array<[number, string]> = [];
  for (const [k, v] of params) {
    const m = new RegExp(`^${name}\\.(\\d+)$`).exec(k);
    if (m) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}
