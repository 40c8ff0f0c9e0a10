import { randomBytes, randomUUID } from 'node:crypto';
import {
  CloudEmulator, DROP, StoreError, TEST_CREDENTIALS, fingerprintOf,
  type EmuInstance, type EmuRequest, type EmuResponse, type EmulatorOptions,
} from '../core';
import { filters, indexed, indexes, tagSpecifications, wildcard, type QueryFilter } from './params';
import { verifySigV4, type SigV4Result } from './sigv4';
import { el, errorResponse, list, okResponse, xmlEscape } from './xml';

/** A list member's text (`<item>x86_64</item>`). */
const xmlText = (value: string): string => xmlEscape(value);

/** An access key the emulator accepts. */
export interface AwsEmulatorCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Options of the EC2 emulator. */
export interface AwsEmulatorOptions extends EmulatorOptions {
  /** Accepted access key (default `TEST_CREDENTIALS.aws`). */
  readonly credentials?: AwsEmulatorCredentials;
  /** Opt-in regions the emulated account has enabled; DescribeRegions reports them as `opted-in`. */
  readonly enabledRegions?: readonly string[];
}

/** The only EC2 API version the emulator speaks. */
export const EC2_API_VERSION = '2016-11-15';

/** EC2 instance state codes (EC2 API Reference, `InstanceState`): the low byte is public. */
const STATE_CODES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 } as const;
type Ec2StateName = keyof typeof STATE_CODES;

// EC2 ids: a prefix and 8 (old style) or 17 lowercase hex digits.
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const AMI_ID = /^ami-[0-9a-zA-Z]+$/;
// EC2 tag limits (EC2 User Guide, "Tag restrictions").
const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
// RunInstances UserData: at most 16 KB before base64 encoding.
const MAX_USER_DATA_BYTES = 16 * 1024;
// DescribeInstances MaxResults bounds (EC2 API Reference).
const MIN_MAX_RESULTS = 5;
const MAX_MAX_RESULTS = 1000;
// Terminated instances stay visible for about an hour.
const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;
const OWNER_ID = '123456789012';

/** An EC2 error to answer with: HTTP status, code and message exactly as EC2 words them. */
class Ec2Fault extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const badValue = (message: string) => new Ec2Fault(400, 'InvalidParameterValue', message);
const missing = (name: string) => new Ec2Fault(400, 'MissingParameter', `The request must contain the parameter ${name}`);

const hex = (digits: number) => randomBytes(Math.ceil(digits / 2)).toString('hex').slice(0, digits);

/**
 * A local stand-in for the EC2 Query API (`POST /`, form-encoded `Action=...&Version=2016-11-15`,
 * XML answers) that the unchanged `@aws-sdk/client-ec2` talks to. It checks SigV4 signatures
 * against its test key and takes the region from the credential scope, so one endpoint serves
 * every region. Speaks RunInstances, DescribeInstances, TerminateInstances, StartInstances,
 * StopInstances, RebootInstances, CreateTags, DeleteTags, DescribeInstanceStatus, and the catalog
 * reads DescribeRegions, DescribeInstanceTypes and DescribeInstanceTypeOfferings (served from the
 * emulator's catalog).
 */
export class AwsEmulator extends CloudEmulator {
  private readonly credentials: AwsEmulatorCredentials;
  private readonly enabledRegions: ReadonlySet<string>;

  constructor(options: AwsEmulatorOptions = {}) {
    super('aws', options, { terminatedVisibleMs: TERMINATED_VISIBLE_MS, newId: () => `i-${hex(17)}` });
    this.credentials = options.credentials ?? TEST_CREDENTIALS.aws;
    this.enabledRegions = new Set(options.enabledRegions ?? []);
  }

  protected async handle(req: EmuRequest): Promise<EmuResponse> {
    const requestId = randomUUID();
    // The Query API also accepts GET with the parameters in the query string.
    const params = new URLSearchParams(req.url.search);
    if (req.method === 'POST') for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
    const action = params.get('Action') ?? '';
    const operation = action || 'Unknown';
    const fail = (f: Ec2Fault): EmuResponse => {
      this.count(operation, f.code);
      return errorResponse(f.status, f.code, f.message, requestId, f.headers);
    };
    if ((req.method !== 'POST' && req.method !== 'GET') || req.path !== '/') {
      return fail(new Ec2Fault(400, 'InvalidAction', `The action ${req.method} ${req.path} is not valid for this web service.`));
    }

    const auth = verifySigV4({ method: req.method, path: req.path, query: new URLSearchParams(req.url.search), headers: req.headers, body: req.body },
      (key) => (key === this.credentials.accessKeyId ? this.credentials.secretAccessKey : undefined));
    const authFault = this.authFault(auth);
    if (authFault) return fail(authFault);
    const region = auth.ok ? auth.scope.region : '';

    if (!action) return fail(new Ec2Fault(400, 'MissingAction', 'The request must contain the parameter Action'));
    if (!params.get('Version')) return fail(missing('Version'));

    const gate = await this.gate(region);
    switch (gate.kind) {
      case 'throttled':
        // EC2 answers throttling with HTTP 503 and code RequestLimitExceeded.
        return fail(new Ec2Fault(503, 'RequestLimitExceeded', 'Request limit exceeded.', { 'retry-after': String(gate.retryAfterSeconds) }));
      case 'server-error':
        return fail(new Ec2Fault(500, 'InternalError', 'An internal error has occurred'));
      case 'outage':
        return fail(new Ec2Fault(503, 'Unavailable', "The server is overloaded and can't handle the request."));
      case 'pass':
        break;
    }

    try {
      let out: EmuResponse;
      switch (action) {
        case 'RunInstances': out = this.runInstances(region, params, requestId); break;
        case 'DescribeInstances': out = this.describeInstances(region, params, requestId); break;
        case 'TerminateInstances': out = this.terminateInstances(region, params, requestId); break;
        case 'DescribeRegions': out = this.describeRegions(params, requestId); break;
        case 'DescribeInstanceTypes': out = this.describeInstanceTypes(region, params, requestId); break;
        case 'DescribeInstanceTypeOfferings': out = this.describeInstanceTypeOfferings(region, params, requestId); break;
        case 'StartInstances': out = this.startInstances(region, params, requestId); break;
        case 'StopInstances': out = this.stopInstances(region, params, requestId); break;
        case 'RebootInstances': out = this.rebootInstances(region, params, requestId); break;
        case 'CreateTags': case 'DeleteTags': out = this.changeTags(action, region, params, requestId); break;
        case 'DescribeInstanceStatus': out = this.describeInstanceStatus(region, params, requestId); break;
        default: throw new Ec2Fault(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
      }
      this.count(operation, 'ok');
      // A lost reply: the call took effect, the client never hears of it.
      if (!action.startsWith('Describe') && this.takeDropReply()) return DROP;
      return out;
    } catch (err) {
      if (err instanceof Ec2Fault) return fail(err);
      if (err instanceof StoreError) return fail(this.storeFault(err, params));
      throw err;
    }
  }

  /** EC2's answer to a bad signature, or undefined when the request may proceed. */
  private authFault(auth: SigV4Result): Ec2Fault | undefined {
    if (!auth.ok) {
      switch (auth.reason) {
        case 'missing':
        case 'unknown-key': return new Ec2Fault(401, 'AuthFailure', auth.message);
        case 'malformed': return new Ec2Fault(400, 'IncompleteSignature', auth.message);
        case 'expired': return new Ec2Fault(400, 'RequestExpired', auth.message);
        case 'mismatch': return new Ec2Fault(403, 'SignatureDoesNotMatch', auth.message);
      }
    }
    if (auth.scope.service !== 'ec2') return new Ec2Fault(403, 'SignatureDoesNotMatch', `Credential should be scoped to correct service: 'ec2', not '${auth.scope.service}'`);
    if (!this.catalog.region(auth.scope.region)) {
      return new Ec2Fault(401, 'AuthFailure', `Credential should be scoped to a valid region, not '${auth.scope.region}'. Known regions: ${this.catalog.regions.map((r) => r.id).join(', ')}`);
    }
    return undefined;
  }

  private storeFault(err: StoreError, params: URLSearchParams): Ec2Fault {
    switch (err.refusal) {
      case 'capacity': {
        const type = params.get('InstanceType') ?? '';
        // EC2 reports capacity shortages as a server error (HTTP 500).
        return new Ec2Fault(500, 'InsufficientInstanceCapacity',
          `We currently do not have sufficient ${type} capacity in the Availability Zone you requested. Our system will be working on provisioning additional capacity.`);
      }
      case 'quota':
        return new Ec2Fault(400, 'InstanceLimitExceeded', `Your quota allows for 0 more running instance(s). You requested at least 1. (${err.message})`);
      case 'idempotency-mismatch':
        return new Ec2Fault(400, 'IdempotentParameterMismatch', 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
    }
  }

  private runInstances(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const image = params.get('ImageId');
    if (!image) throw missing('ImageId');
    if (!AMI_ID.test(image)) throw new Ec2Fault(400, 'InvalidAMIID.Malformed', `Invalid id: "${image}" (expecting "ami-...")`);
    const type = params.get('InstanceType');
    if (!type) throw missing('InstanceType');
    if (!this.catalog.offers(region, type)) {
      if (this.catalog.size(type)) {
        throw new Ec2Fault(400, 'Unsupported', `The requested configuration is currently not supported. Your requested instance type (${type}) is not supported in ${region}.`);
      }
      throw badValue(`Invalid value '${type}' for InstanceType.`);
    }
    const minCount = this.count1(params, 'MinCount');
    const maxCount = this.count1(params, 'MaxCount');
    if (minCount > maxCount) throw badValue(`MinCount (${minCount}) cannot be greater than MaxCount (${maxCount}).`);
    if (minCount !== 1 || maxCount !== 1) throw badValue('This emulator launches exactly one instance per call: MinCount and MaxCount must be 1.');

    const clientToken = params.get('ClientToken') ?? undefined;
    if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]+$/.test(clientToken))) {
      throw badValue('Value for parameter ClientToken is invalid: at most 64 ASCII characters.');
    }
    const tags = this.instanceTags(params);
    const market = params.get('InstanceMarketOptions.MarketType') ?? undefined;
    if (market !== undefined && market !== 'spot' && market !== 'capacity-block') throw badValue(`Invalid value '${market}' for InstanceMarketOptions.MarketType.`);
    const userData = params.get('UserData') ?? undefined;
    if (userData !== undefined) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData) || userData.length % 4 !== 0) throw badValue('Invalid BASE64 encoding of user data.');
      if (Buffer.from(userData, 'base64').length > MAX_USER_DATA_BYTES) throw badValue('User data is limited to 16384 bytes');
    }
    const spot = market === 'spot';
    const { instance } = this.store.create({
      region, type, image, tags, clientToken,
      fingerprint: fingerprintOf({ type, image, tags, spot, userData: userData ?? null, minCount, maxCount }),
      extra: { reservationId: `r-${hex(17)}`, spot, zone: `${region}a` },
    }, this.faults);
    return okResponse('RunInstances', requestId,
      `${el('reservationId', String(instance.extra.reservationId))}${el('ownerId', OWNER_ID)}<groupSet/>${list('instancesSet', [this.instanceXml(instance)])}`);
  }

  private count1(params: URLSearchParams, name: string): number {
    const raw = params.get(name);
    if (raw === null) throw missing(name);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw badValue(`Value (${raw}) for parameter ${name} is invalid. Expecting a positive integer.`);
    return n;
  }

  /** The tags of the `instance` tag specification, checked against EC2's tag restrictions. */
  private instanceTags(params: URLSearchParams): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const spec of tagSpecifications(params)) {
      if (!spec.resourceType) throw missing('TagSpecification.ResourceType');
      if (spec.resourceType !== 'instance') continue;
      if (spec.tags.length > MAX_TAGS) throw new Ec2Fault(400, 'TagLimitExceeded', `The maximum number of tags per resource is ${MAX_TAGS}.`);
      for (const { key, value } of spec.tags) {
        if (!key || key.length > MAX_TAG_KEY) throw badValue(`Tag key '${key}' must be 1 to ${MAX_TAG_KEY} characters long.`);
        if (value.length > MAX_TAG_VALUE) throw badValue(`Tag value for key '${key}' exceeds the maximum length of ${MAX_TAG_VALUE} characters.`);
        if (key.toLowerCase().startsWith('aws:')) throw badValue(`Tag keys starting with 'aws:' are reserved for internal use: '${key}'.`);
        if (key in tags) throw badValue(`Duplicate tag key '${key}'.`);
        tags[key] = value;
      }
    }
    return tags;
  }

  /**
   * The account's regions of the public partition (EC2 API Reference, DescribeRegions): those open to
   * every account and the opt-in ones it enabled; with `AllRegions=true` also the opt-in regions it
   * did not enable, as `not-opted-in`.
   */
  private describeRegions(params: URLSearchParams, requestId: string): EmuResponse {
    const all = params.get('AllRegions') === 'true';
    const items = this.catalog.publicRegions().flatMap((r) => {
      const status = (r.access ?? 'default') === 'default' ? 'opt-in-not-required' : this.enabledRegions.has(r.id) ? 'opted-in' : 'not-opted-in';
      if (status === 'not-opted-in' && !all) return [];
      return [`${el('regionName', r.id)}${el('regionEndpoint', `ec2.${r.id}.amazonaws.com`)}${el('optInStatus', status)}`];
    });
    return okResponse('DescribeRegions', requestId, list('regionInfo', items));
  }

  /** A page size from `MaxResults` within EC2's bounds for the call, and the offset `NextToken` carries. */
  private pageOf(params: URLSearchParams, min: number, max: number, dflt: number): { size: number; from: number } {
    const raw = params.get('MaxResults');
    let size = dflt;
    if (raw !== null) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw badValue(`Value ( ${raw} ) for parameter maxResults is invalid. Expecting a value between ${min} and ${max}.`);
      size = n;
    }
    const token = params.get('NextToken');
    let from = 0;
    if (token) {
      from = Number(Buffer.from(token, 'base64url').toString());
      if (!Number.isInteger(from) || from < 0) throw new Ec2Fault(400, 'InvalidNextToken', 'The specified token is not valid.');
    }
    return { size: Math.min(size, this.maxPageSize), from };
  }

  private static nextToken(from: number, size: number, total: number): string | undefined {
    return from + size < total ? Buffer.from(String(from + size)).toString('base64url') : undefined;
  }

  /** The types offered in the region (EC2 answers only those), with vCPU, memory and architecture. */
  private describeInstanceTypes(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const wanted = indexed(params, 'InstanceType');
    const unknown = wanted.filter((t) => !this.catalog.offers(region, t));
    if (unknown.length) throw new Ec2Fault(400, 'InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    const archFilter = filters(params).find((f) => f.name === 'processor-info.supported-architecture')?.values;
    const rows = this.catalog.offeredIn(region)
      .filter((s) => (wanted.length === 0 || wanted.includes(s.name)) && (!archFilter || archFilter.includes(s.arch)));
    const { size, from } = this.pageOf(params, 5, 100, 100);
    const items = rows.slice(from, from + size).map((s) => [
      el('instanceType', s.name), el('currentGeneration', true), el('bareMetal', false), el('hypervisor', 'nitro'),
      `<processorInfo>${list('supportedArchitectures', [xmlText(s.arch)])}</processorInfo>`,
      `<vCpuInfo>${el('defaultVCpus', s.vcpu)}</vCpuInfo>`,
      `<memoryInfo>${el('sizeInMiB', Math.round(s.memoryGiB * 1024))}</memoryInfo>`,
      list('supportedUsageClasses', [xmlText('on-demand'), xmlText('spot')]),
    ].join(''));
    return okResponse('DescribeInstanceTypes', requestId, `${list('instanceTypeSet', items)}${el('nextToken', AwsEmulator.nextToken(from, size, rows.length))}`);
  }

  /** Which types the region offers (`LocationType=region`; zones are the region's one zone `<region>a`). */
  private describeInstanceTypeOfferings(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const locationType = params.get('LocationType') ?? 'region';
    if (locationType !== 'region' && locationType !== 'availability-zone') {
      throw badValue(`Value (${locationType}) for parameter locationType is invalid. Valid values are: region, availability-zone.`);
    }
    const fs = filters(params);
    const typeMatch = fs.find((f) => f.name === 'instance-type')?.values.map(wildcard);
    for (const f of fs) if (f.name !== 'instance-type' && f.name !== 'location') throw badValue(`The filter '${f.name}' is invalid`);
    const location = locationType === 'region' ? region : `${region}a`;
    const locMatch = fs.find((f) => f.name === 'location')?.values.map(wildcard);
    const rows = (locMatch && !locMatch.some((m) => m(location))) ? [] : this.catalog.offeredIn(region)
      .filter((s) => !typeMatch || typeMatch.some((m) => m(s.name)));
    const { size, from } = this.pageOf(params, 5, 1000, 1000);
    const items = rows.slice(from, from + size).map((s) => `${el('instanceType', s.name)}${el('locationType', locationType)}${el('location', location)}`);
    return okResponse('DescribeInstanceTypeOfferings', requestId,
      `${list('instanceTypeOfferingSet', items)}${el('nextToken', AwsEmulator.nextToken(from, size, rows.length))}`);
  }

  /** Stopped instances start (pending, then running); running ones are left as they are; others refuse the whole call. */
  private startInstances(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const found = this.lifecycleTargets(region, params);
    const bad = found.find((i) => i.state !== 'stopped' && i.state !== 'running' && i.state !== 'pending');
    if (bad) throw new Ec2Fault(400, 'IncorrectInstanceState', `The instance '${bad.id}' is not in a state from which it can be started.`);
    const changes = found.map((i) => {
      const previous = this.ec2State(i);
      if (previous === 'stopped') this.store.setPower(i.id, 'pending');
      return `${el('instanceId', i.id)}${this.stateXml('currentState', this.ec2State(i))}${this.stateXml('previousState', previous)}`;
    });
    return okResponse('StartInstances', requestId, list('instancesSet', changes));
  }

  /** Running instances stop; stopped ones stay stopped; pending or terminated ones refuse the whole call. */
  private stopInstances(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const found = this.lifecycleTargets(region, params);
    const bad = found.find((i) => i.state !== 'running' && i.state !== 'stopped');
    if (bad) throw new Ec2Fault(400, 'IncorrectInstanceState', `The instance '${bad.id}' is not in a state from which it can be stopped.`);
    const changes = found.map((i) => {
      const previous = this.ec2State(i);
      this.store.setPower(i.id, 'stopped');
      // EC2 answers `stopping`; the instance shows `stopped` a little later (here at once).
      const current: Ec2StateName = previous === 'stopped' ? 'stopped' : 'stopping';
      return `${el('instanceId', i.id)}${this.stateXml('currentState', current)}${this.stateXml('previousState', previous)}`;
    });
    return okResponse('StopInstances', requestId, list('instancesSet', changes));
  }

  /** A reboot keeps the instance running; it needs every instance running. */
  private rebootInstances(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const found = this.lifecycleTargets(region, params);
    const bad = found.find((i) => i.state !== 'running');
    if (bad) throw new Ec2Fault(400, 'IncorrectInstanceState', `The instance '${bad.id}' is not in a state from which it can be rebooted.`);
    for (const i of found) i.extra.rebootedAt = new Date().toISOString();
    return okResponse('RebootInstances', requestId, el('return', true));
  }

  private lifecycleTargets(region: string, params: URLSearchParams): EmuInstance[] {
    const ids = indexed(params, 'InstanceId');
    if (ids.length === 0) throw missing('InstanceId');
    return this.findAll(region, ids);
  }

  /** CreateTags adds or overwrites; DeleteTags removes a key (only when its value matches, if a value is given). */
  private changeTags(action: 'CreateTags' | 'DeleteTags', region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const ids = indexed(params, 'ResourceId');
    if (ids.length === 0) throw missing('ResourceId');
    const found = this.findAll(region, ids);
    const pairs = indexes(params, 'Tag').map((n) => ({ key: params.get(`Tag.${n}.Key`) ?? '', value: params.get(`Tag.${n}.Value`) }));
    if (action === 'CreateTags' && pairs.length === 0) throw missing('Tag');
    for (const { key, value } of pairs) {
      if (!key || key.length > MAX_TAG_KEY) throw badValue(`Tag key '${key}' must be 1 to ${MAX_TAG_KEY} characters long.`);
      if (action === 'CreateTags') {
        if ((value ?? '').length > MAX_TAG_VALUE) throw badValue(`Tag value for key '${key}' exceeds the maximum length of ${MAX_TAG_VALUE} characters.`);
        if (key.toLowerCase().startsWith('aws:')) throw badValue(`Tag keys starting with 'aws:' are reserved for internal use: '${key}'.`);
      }
    }
    for (const i of found) {
      const next = { ...i.tags };
      for (const { key, value } of pairs) {
        if (action === 'CreateTags') next[key] = value ?? '';
        else if (value === null || next[key] === value) delete next[key];
      }
      if (Object.keys(next).length > MAX_TAGS) throw new Ec2Fault(400, 'TagLimitExceeded', `The maximum number of tags per resource is ${MAX_TAGS}.`);
      this.store.setTags(i.id, next);
    }
    return okResponse(action, requestId, el('return', true));
  }

  /** Status checks: running instances only unless `IncludeAllInstances=true`; checks pass once running. */
  private describeInstanceStatus(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const ids = indexed(params, 'InstanceId');
    const all = params.get('IncludeAllInstances') === 'true';
    const rows = (ids.length ? this.findAll(region, ids) : this.store.list(region, () => true, Number.MAX_SAFE_INTEGER).items)
      .filter((i) => all || i.state === 'running');
    const { size, from } = this.pageOf(params, 5, 1000, 1000);
    const check = (i: EmuInstance) => {
      const status = i.state === 'running' ? 'ok' : i.state === 'pending' ? 'initializing' : 'not-applicable';
      const detail = status === 'ok' ? 'passed' : status === 'initializing' ? 'initializing' : 'not-applicable';
      return `${el('status', status)}${list('details', [`${el('name', 'reachability')}${el('status', detail)}`])}`;
    };
    const items = rows.slice(from, from + size).map((i) =>
      `${el('instanceId', i.id)}${el('availabilityZone', String(i.extra.zone ?? `${region}a`))}${this.stateXml('instanceState', this.ec2State(i))}` +
      `<systemStatus>${check(i)}</systemStatus><instanceStatus>${check(i)}</instanceStatus>`);
    return okResponse('DescribeInstanceStatus', requestId,
      `${list('instanceStatusSet', items)}${el('nextToken', AwsEmulator.nextToken(from, size, rows.length))}`);
  }

  private describeInstances(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const ids = indexed(params, 'InstanceId');
    const maxResultsRaw = params.get('MaxResults');
    if (ids.length > 0 && maxResultsRaw !== null) {
      throw new Ec2Fault(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    let pageSize = this.maxPageSize;
    if (maxResultsRaw !== null) {
      const n = Number(maxResultsRaw);
      if (!Number.isInteger(n) || n < MIN_MAX_RESULTS || n > MAX_MAX_RESULTS) {
        throw badValue(`Value ( ${maxResultsRaw} ) for parameter maxResults is invalid. Expecting a value between ${MIN_MAX_RESULTS} and ${MAX_MAX_RESULTS}.`);
      }
      pageSize = Math.min(n, this.maxPageSize);
    }
    const match = this.filterMatcher(filters(params));

    let items: readonly EmuInstance[];
    let nextToken: string | undefined;
    if (ids.length > 0) {
      const found = this.findAll(region, ids);
      items = found.filter(match);
    } else {
      const page = this.store.list(region, match, pageSize, params.get('NextToken') ?? undefined);
      items = page.items;
      nextToken = page.nextToken;
    }
    const reservations = items.map((i) =>
      `${el('reservationId', String(i.extra.reservationId))}${el('ownerId', OWNER_ID)}<groupSet/>${list('instancesSet', [this.instanceXml(i)])}`);
    return okResponse('DescribeInstances', requestId, `${list('reservationSet', reservations)}${el('nextToken', nextToken)}`);
  }

  private terminateInstances(region: string, params: URLSearchParams, requestId: string): EmuResponse {
    const ids = indexed(params, 'InstanceId');
    if (ids.length === 0) throw missing('InstanceId');
    // EC2 refuses the whole call when any id is unknown, before terminating anything.
    const found = this.findAll(region, ids);
    const changes = found.map((i) => {
      const previous = this.ec2State(i);
      this.store.terminate(i.id);
      // A running instance first reports shutting-down; EC2 shows terminated a little later.
      const current: Ec2StateName = previous === 'terminated' ? 'terminated' : 'shutting-down';
      return `${el('instanceId', i.id)}${this.stateXml('currentState', current)}${this.stateXml('previousState', previous)}`;
    });
    return okResponse('TerminateInstances', requestId, list('instancesSet', changes));
  }

  /** The instances of `ids` in `region`; InvalidInstanceID.Malformed / .NotFound as EC2 words them. */
  private findAll(region: string, ids: readonly string[]): EmuInstance[] {
    const malformed = ids.find((id) => !INSTANCE_ID.test(id));
    if (malformed !== undefined) throw new Ec2Fault(400, 'InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const found: EmuInstance[] = [];
    const unknown: string[] = [];
    for (const id of new Set(ids)) {
      const i = this.store.get(id);
      if (i && i.region === region) found.push(i); else unknown.push(id);
    }
    if (unknown.length === 1) throw new Ec2Fault(400, 'InvalidInstanceID.NotFound', `The instance ID '${unknown[0]}' does not exist`);
    if (unknown.length > 1) throw new Ec2Fault(400, 'InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
    return found;
  }

  /** The DescribeInstances filters this emulator knows; an unknown name is rejected as EC2 does. */
  private filterMatcher(list: readonly QueryFilter[]): (i: EmuInstance) => boolean {
    const tests = list.map((f): ((i: EmuInstance) => boolean) => {
      if (f.values.length === 0) throw badValue(`The filter '${f.name}' must have at least one value.`);
      const matchers = f.values.map(wildcard);
      const any = (v: string | undefined) => v !== undefined && matchers.some((m) => m(v));
      if (f.name.startsWith('tag:')) {
        const key = f.name.slice(4);
        return (i) => any(i.tags[key]);
      }
      switch (f.name) {
        case 'tag-key': return (i) => Object.keys(i.tags).some((k) => any(k));
        case 'instance-id': return (i) => any(i.id);
        case 'instance-type': return (i) => any(i.type);
        case 'image-id': return (i) => any(i.image);
        case 'client-token': return (i) => any(i.clientToken);
        case 'instance-state-name': return (i) => any(this.ec2State(i));
        case 'instance-state-code': return (i) => any(String(STATE_CODES[this.ec2State(i)]));
        case 'instance-lifecycle': return (i) => any(i.extra.spot === true ? 'spot' : undefined);
        default: throw badValue(`The filter '${f.name}' is invalid`);
      }
    });
    return (i) => tests.every((t) => t(i));
  }

  private ec2State(i: EmuInstance): Ec2StateName {
    return i.state;
  }

  private stateXml(name: string, state: Ec2StateName): string {
    return `<${name}>${el('code', STATE_CODES[state])}${el('name', state)}</${name}>`;
  }

  private instanceXml(i: EmuInstance): string {
    const state = this.ec2State(i);
    const privateDns = `ip-${i.privateIp.replace(/\./g, '-')}.${i.region === 'us-east-1' ? 'ec2.internal' : `${i.region}.compute.internal`}`;
    const publicDns = i.publicIp ? `ec2-${i.publicIp.replace(/\./g, '-')}.${i.region === 'us-east-1' ? 'compute-1' : `${i.region}.compute`}.amazonaws.com` : '';
    const tags = Object.entries(i.tags).map(([k, v]) => `${el('key', k)}${el('value', v)}`);
    const size = this.catalog.size(i.type);
    return [
      el('instanceId', i.id), el('imageId', i.image), this.stateXml('instanceState', state),
      el('privateDnsName', state === 'terminated' ? '' : privateDns), el('dnsName', publicDns), el('amiLaunchIndex', 0),
      el('instanceType', i.type), el('launchTime', i.launchedAt.toISOString()),
      `<placement>${el('availabilityZone', String(i.extra.zone ?? `${i.region}a`))}${el('tenancy', 'default')}</placement>`,
      `<monitoring>${el('state', 'disabled')}</monitoring>`,
      state === 'terminated' ? '' : el('privateIpAddress', i.privateIp), el('ipAddress', i.publicIp),
      el('architecture', size?.arch ?? 'x86_64'), el('rootDeviceType', 'ebs'), el('virtualizationType', 'hvm'),
      el('clientToken', i.clientToken ?? ''), i.extra.spot === true ? el('instanceLifecycle', 'spot') : '',
      list('tagSet', tags), el('hypervisor', 'xen'),
    ].join('');
  }
}
