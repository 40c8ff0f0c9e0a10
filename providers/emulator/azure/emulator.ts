import { randomUUID } from 'node:crypto';
import {
  CloudEmulator, DROP, StoreError, TEST_CREDENTIALS, type EmuInstance, type EmuRequest, type EmuResponse, type EmulatorOptions, type GateDecision,
} from '../core';
import { armEmpty, armError, armJson, normalizeLocation, parseArmPath, resourceKey, type ArmRoute } from './arm';
import { instanceViewJson, nicJson, pipJson, recordOf, stableGuid, vmJson, type AzureVmRecord } from './resources';
import { parseVmEnvelope, parseVmPut, type ArmRefusal, type JsonObject } from './vm-request';

/** Settings of the Azure emulator. */
export interface AzureEmulatorOptions extends EmulatorOptions {
  /** The bearer token every call must carry (default: `TEST_CREDENTIALS.azure.token`). */
  readonly credentials?: { readonly token: string };
  /** Milliseconds a delete's long-running operation stays `InProgress` (default 200). */
  readonly deleteMs?: number;
}

/** The VM power actions (`POST .../virtualMachines/{name}/{action}`) and their operation names. */
const ARM_ACTIONS: Readonly<Record<string, string>> = { start: 'Start', poweroff: 'PowerOff', deallocate: 'Deallocate', restart: 'Restart' };

/** Long-running operation records kept for polling; the oldest are dropped past this. */
const MAX_OPERATIONS = 10_000;

/** A long-running operation's status resource, polled through `Azure-AsyncOperation`. */
interface AsyncOperation {
  readonly id: string;
  readonly location: string;
  readonly kind: 'create' | 'delete' | 'failed' | 'action';
  readonly startedAt: number;
  /** The VM a create is bringing up (its status follows the VM's lifecycle). */
  readonly instanceKey?: string;
  /** When a delete finishes. */
  readonly endsAt?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * A wire-compatible stand-in for the Azure Resource Manager compute API (plus the network reads a
 * VM's addresses need), so the unchanged `@azure/arm-compute` and `@azure/arm-network` clients work
 * against it over plain HTTP.
 *
 * Served: `PUT|GET|DELETE .../Microsoft.Compute/virtualMachines/{name}`, `GET .../virtualMachines`
 * (paged with `nextLink`), `GET .../virtualMachines/{name}/instanceView`, the long-running
 * operation status at `.../Microsoft.Compute/locations/{loc}/operations/{id}`, and `GET` of the
 * NICs and public IPs that VMs' network interface configurations create; `PATCH` of a VM's tags; the
 * power actions `POST .../virtualMachines/{name}/start|powerOff|deallocate|restart`; and the catalog
 * reads `GET /subscriptions/{sub}/providers/Microsoft.Compute/skus` (resource SKUs, one entry per
 * size and location, `$filter=location eq '...'`) and `GET /subscriptions/{sub}/locations`. Any subscription and
 * resource group name is accepted; every call needs `Authorization: Bearer <token>`.
 */
export class AzureEmulator extends CloudEmulator {
  private readonly token: string;
  private readonly deleteMs: number;
  private readonly operations = new Map<string, AsyncOperation>();

  constructor(options: AzureEmulatorOptions = {}) {
    super('azure', options, { terminatedVisibleMs: 0, newId: (n) => `vm-${n}` });
    this.token = options.credentials?.token ?? TEST_CREDENTIALS.azure.token;
    this.deleteMs = options.deleteMs ?? 200;
  }

  /** Clears faults, instances, stats and long-running operations. */
  override reset(): void {
    super.reset();
    this.operations.clear();
  }

  protected async handle(req: EmuRequest): Promise<EmuResponse> {
    const denied = this.authenticate(req);
    if (denied) return denied;
    const route = parseArmPath(req.path);
    if (!route) {
      this.count('Unknown', 'InvalidResourceType');
      return armError(404, 'InvalidResourceType', `The resource type could not be found for path '${req.path}'.`);
    }
    if (!req.url.searchParams.get('api-version')) {
      this.count(this.operationName(route, req.method), 'MissingApiVersionParameter');
      return armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
    switch (`${req.method} ${route.kind}`) {
      case 'PUT vm': return this.putVm(req, route as Extract<ArmRoute, { kind: 'vm' }>, origin);
      case 'GET vm': return this.getVm(req, route as Extract<ArmRoute, { kind: 'vm' }>);
      case 'DELETE vm': return this.deleteVm(req, route as Extract<ArmRoute, { kind: 'vm' }>, origin);
      case 'GET vmInstanceView': return this.getInstanceView(route as Extract<ArmRoute, { kind: 'vmInstanceView' }>);
      case 'PATCH vm': return this.patchVm(req, route as Extract<ArmRoute, { kind: 'vm' }>);
      case 'POST vmAction': return this.vmAction(req, route as Extract<ArmRoute, { kind: 'vmAction' }>, origin);
      case 'GET skus': return this.listSkus(req, origin);
      case 'GET locations': return this.listLocations(route as Extract<ArmRoute, { kind: 'locations' }>);
      case 'GET vmList': return this.listVms(req, route as Extract<ArmRoute, { kind: 'vmList' }>, origin);
      case 'GET vmLocationList': return this.listVmsByLocation(req, route as Extract<ArmRoute, { kind: 'vmLocationList' }>, origin);
      case 'GET operation': return this.getOperation(req, route as Extract<ArmRoute, { kind: 'operation' }>);
      case 'GET nic': case 'GET pip': return this.getNetwork(route as Extract<ArmRoute, { kind: 'nic' | 'pip' }>);
      case 'GET nicList': case 'GET pipList': return this.listNetwork(req, route as Extract<ArmRoute, { kind: 'nicList' | 'pipList' }>, origin);
      default:
        this.count(this.operationName(route, req.method), 'MethodNotAllowed');
        return armError(405, 'MethodNotAllowed', `The requested method '${req.method}' is not allowed for this resource.`);
    }
  }

  /** ARM checks the bearer token before anything else; both failures are 401 with a `WWW-Authenticate` challenge. */
  private authenticate(req: EmuRequest): EmuResponse | undefined {
    const header = req.headers.authorization;
    const challenge = (description: string) => ({
      'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${description}"`,
    });
    if (header === undefined || header === '') {
      this.count('Authenticate', 'AuthenticationFailed');
      return armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.",
        { headers: challenge("The authentication failed because of missing 'Authorization' header.") });
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m || m[1] !== this.token) {
      this.count('Authenticate', 'InvalidAuthenticationToken');
      return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', { headers: challenge('The access token is invalid.') });
    }
    return undefined;
  }

  private operationName(route: ArmRoute, method: string): string {
    switch (route.kind) {
      case 'vm': return method === 'PUT' ? 'VirtualMachines_CreateOrUpdate' : method === 'DELETE' ? 'VirtualMachines_Delete'
        : method === 'PATCH' ? 'VirtualMachines_Update' : 'VirtualMachines_Get';
      case 'vmAction': return `VirtualMachines_${ARM_ACTIONS[route.action] ?? route.action}`;
      case 'skus': return 'ResourceSkus_List';
      case 'locations': return 'Subscriptions_ListLocations';
      case 'vmInstanceView': return 'VirtualMachines_InstanceView';
      case 'vmList': return 'VirtualMachines_List';
      case 'vmLocationList': return 'VirtualMachines_ListByLocation';
      case 'operation': return 'Operations_Get';
      case 'nic': return 'NetworkInterfaces_Get';
      case 'nicList': return 'NetworkInterfaces_List';
      case 'pip': return 'PublicIPAddresses_Get';
      case 'pipList': return 'PublicIPAddresses_List';
    }
  }

  /** Answers a fault decision in ARM's words, or undefined to carry on. */
  private refuse(decision: GateDecision, operation: string, region: string | undefined, write: boolean): EmuResponse | undefined {
    switch (decision.kind) {
      case 'pass': return undefined;
      case 'throttled': {
        this.count(operation, 'TooManyRequests');
        const s = decision.retryAfterSeconds;
        return armError(429, 'TooManyRequests',
          `The request is being throttled as the limit has been reached for operation '${operation}'. Please try again after '${s}' seconds.`,
          { headers: { 'retry-after': String(s), [`x-ms-ratelimit-remaining-subscription-${write ? 'writes' : 'reads'}`]: '0' } });
      }
      case 'server-error':
        this.count(operation, 'InternalServerError');
        return armError(500, 'InternalServerError', 'An internal server error occurred. Please retry the request.');
      case 'outage':
        this.count(operation, 'ServiceUnavailable');
        return armError(503, 'ServiceUnavailable', `The service is currently unavailable in location '${region ?? 'unknown'}'. Please retry later.`);
    }
  }

  private find(sub: string, rg: string, name: string): EmuInstance | undefined {
    const i = this.store.get(resourceKey(sub, rg, name));
    return i && i.state !== 'terminated' ? i : undefined;
  }

  private notFound(operation: string, type: string, name: string, rg: string): EmuResponse {
    this.count(operation, 'ResourceNotFound');
    return armError(404, 'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }

  private asyncHeaders(origin: string, sub: string, op: AsyncOperation, apiVersion: string): Record<string, string> {
    const base = `${origin}/subscriptions/${sub}/providers/Microsoft.Compute/locations/${op.location}/operations/${op.id}`;
    return {
      'azure-asyncoperation': `${base}?p=${op.kind}&api-version=${encodeURIComponent(apiVersion)}`,
      location: `${base}?p=${op.kind}&monitor=true&api-version=${encodeURIComponent(apiVersion)}`,
    };
  }

  private addOperation(op: Omit<AsyncOperation, 'id' | 'startedAt'>): AsyncOperation {
    const full: AsyncOperation = { ...op, id: randomUUID(), startedAt: Date.now() };
    this.operations.set(full.id, full);
    if (this.operations.size > MAX_OPERATIONS) this.operations.delete(this.operations.keys().next().value as string);
    return full;
  }

  private async putVm(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vm' }>, origin: string): Promise<EmuResponse> {
    const op = 'VirtualMachines_CreateOrUpdate';
    const answer = (r: ArmRefusal) => { this.count(op, r.code); return armError(r.status, r.code, r.message, { target: r.target }); };
    const envelope = parseVmEnvelope(route.name, req.body);
    if (envelope.refusal) return answer(envelope);
    const { location } = envelope;
    const faulted = this.refuse(await this.gate(location), op, location, true);
    if (faulted) return faulted;
    if (!this.catalog.region(location)) {
      return answer({ refusal: true, status: 400, code: 'LocationNotAvailableForResourceType',
        message: `The provided location '${location}' is not available for resource type 'Microsoft.Compute/virtualMachines'.` });
    }
    const put = parseVmPut(route.name, envelope.body);
    if (put.refusal) return answer(put);
    const { vmSize, tags, zones, imageKey } = put;

    const existing = this.find(route.sub, route.rg, route.name);
    if (existing) {
      // A PUT on an existing VM is an update: ARM answers 200 with the resource. The emulator refuses
      // the changes Azure refuses (location, image) and, as a simplification, resizing as well.
      if (existing.region !== location) {
        return answer({ refusal: true, status: 409, code: 'InvalidResourceLocation',
          message: `The resource '${route.name}' already exists in location '${existing.region}' in resource group '${route.rg}'. ` +
            `A resource with the same name cannot be created in location '${location}'. Please select a new resource name.` });
      }
      if (recordOf(existing).imageKey !== imageKey) {
        return answer({ refusal: true, status: 409, code: 'PropertyChangeNotAllowed', message: "Changing property 'imageReference' is not allowed.", target: 'imageReference' });
      }
      if (existing.type !== vmSize) {
        return answer({ refusal: true, status: 409, code: 'PropertyChangeNotAllowed',
          message: "Changing property 'hardwareProfile.vmSize' is not allowed by this emulator.", target: 'hardwareProfile.vmSize' });
      }
      this.store.setTags(existing.id, tags);
      this.count(op, 'ok');
      if (this.takeDropReply()) return DROP;
      return armJson(200, vmJson(existing));
    }

    if (!this.catalog.offers(location, vmSize)) {
      return answer({ refusal: true, status: 409, code: 'SkuNotAvailable',
        message: `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${vmSize}' is currently not available in location '${location}'. ` +
          'Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.' });
    }
    const record: AzureVmRecord = {
      subscriptionId: route.sub, resourceGroup: route.rg, name: route.name,
      properties: put.properties, zones, imageKey, nic: put.nic,
      vmId: stableGuid(`${resourceKey(route.sub, route.rg, route.name)}\u0000${Date.now()}`),
    };
    const apiVersion = req.url.searchParams.get('api-version') ?? '';
    let created: EmuInstance;
    try {
      created = this.store.create({
        id: resourceKey(route.sub, route.rg, route.name), region: location, type: vmSize, image: imageKey, tags,
        fingerprint: '', extra: { azure: record },
      }, this.faults).instance;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      if (err.refusal === 'quota') {
        const cores = this.catalog.size(vmSize)?.vcpu ?? 1;
        const limit = (this.faults.quota[location] ?? this.faults.quota['*'] ?? 0) * cores;
        this.count(op, 'OperationNotAllowed');
        return armError(409, 'OperationNotAllowed',
          'Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - ' +
          `Deployment Model: Resource Manager, Location: ${location}, Current Limit: ${limit}, Current Usage: ${limit}, Additional Required: ${cores}, ` +
          `(Minimum) New Limit Required: ${limit + cores}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP.`);
      }
      // Allocation happens after ARM accepted the PUT: Azure reports it through the operation status.
      // Simplification: the emulator does not keep the failed VM resource around.
      const code = zones.length ? 'ZonalAllocationFailed' : 'AllocationFailed';
      const failed = this.addOperation({
        kind: 'failed', location,
        error: {
          code,
          message: `Allocation failed. We do not have sufficient capacity for the requested VM size ${vmSize} in this ${zones.length ? 'zone' : 'region'}. ` +
            'Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance',
        },
      });
      this.count(op, code);
      return armJson(201, { name: route.name, location, properties: { provisioningState: 'Creating' } }, this.asyncHeaders(origin, route.sub, failed, apiVersion));
    }
    const operation = this.addOperation({ kind: 'create', location, instanceKey: created.id });
    this.count(op, 'ok');
    if (this.takeDropReply()) return DROP;
    return armJson(201, vmJson(created), this.asyncHeaders(origin, route.sub, operation, apiVersion));
  }

  private async getVm(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vm' }>): Promise<EmuResponse> {
    const op = 'VirtualMachines_Get';
    const vm = this.find(route.sub, route.rg, route.name);
    const refused = this.refuse(await this.gate(vm?.region), op, vm?.region, false);
    if (refused) return refused;
    if (!vm) return this.notFound(op, 'Microsoft.Compute/virtualMachines', route.name, route.rg);
    this.count(op, 'ok');
    const expand = req.url.searchParams.get('$expand')?.toLowerCase();
    return armJson(200, vmJson(vm, expand === 'instanceview'));
  }

  private async getInstanceView(route: Extract<ArmRoute, { kind: 'vmInstanceView' }>): Promise<EmuResponse> {
    const op = 'VirtualMachines_InstanceView';
    const vm = this.find(route.sub, route.rg, route.name);
    const refused = this.refuse(await this.gate(vm?.region), op, vm?.region, false);
    if (refused) return refused;
    if (!vm) return this.notFound(op, 'Microsoft.Compute/virtualMachines', route.name, route.rg);
    this.count(op, 'ok');
    return armJson(200, instanceViewJson(vm));
  }

  /** `PATCH` of a VM: the emulator applies `tags` (replaced as a whole, as ARM does) and refuses other changes. */
  private async patchVm(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vm' }>): Promise<EmuResponse> {
    const op = 'VirtualMachines_Update';
    const vm = this.find(route.sub, route.rg, route.name);
    const refused = this.refuse(await this.gate(vm?.region), op, vm?.region, true);
    if (refused) return refused;
    if (!vm) return this.notFound(op, 'Microsoft.Compute/virtualMachines', route.name, route.rg);
    let body: unknown;
    try { body = JSON.parse(req.body.toString('utf8') || '{}'); } catch {
      this.count(op, 'InvalidRequestContent');
      return armError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
    }
    const tags = (body as { tags?: unknown }).tags;
    if (tags !== undefined) {
      if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
        this.count(op, 'InvalidRequestContent');
        return armError(400, 'InvalidRequestContent', "The request content was invalid: 'tags' must map names to strings.", { target: 'tags' });
      }
      if (Object.keys(tags).length > 50) {
        this.count(op, 'InvalidTagCount');
        return armError(400, 'InvalidTagCount', 'The number of tags on resource exceeds the limit of 50.');
      }
      this.store.setTags(vm.id, tags as Record<string, string>);
    }
    this.count(op, 'ok');
    return armJson(200, vmJson(vm));
  }

  /**
   * Power actions as long-running operations. Start brings a stopped or deallocated VM up; powerOff
   * stops a running one (still allocated); deallocate releases a running or stopped one; restart
   * needs it running. A move Azure refuses answers 409 OperationNotAllowed; one to where the VM
   * already is succeeds without change.
   */
  private async vmAction(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vmAction' }>, origin: string): Promise<EmuResponse> {
    const op = `VirtualMachines_${ARM_ACTIONS[route.action]}`;
    const vm = this.find(route.sub, route.rg, route.name);
    const refused = this.refuse(await this.gate(vm?.region), op, vm?.region, true);
    if (refused) return refused;
    if (!vm) return this.notFound(op, 'Microsoft.Compute/virtualMachines', route.name, route.rg);
    const power = vm.state === 'stopped' ? (vm.extra.powerState === 'stopped' ? 'stopped' : 'deallocated') : vm.state === 'pending' ? 'starting' : 'running';
    const notAllowed = () => {
      this.count(op, 'OperationNotAllowed');
      return armError(409, 'OperationNotAllowed', `Operation '${ARM_ACTIONS[route.action].replace(/^./, (c) => c.toLowerCase())}' is not allowed on VM '${route.name}' since the VM is ${power}.`);
    };
    switch (route.action) {
      case 'start':
        if (vm.state === 'stopped') this.store.setPower(vm.id, 'pending');
        break;
      case 'poweroff':
        if (power === 'deallocated' || power === 'starting') return notAllowed();
        if (power === 'running') { this.store.setPower(vm.id, 'stopped'); vm.extra.powerState = 'stopped'; }
        break;
      case 'deallocate':
        if (power === 'starting') return notAllowed();
        this.store.setPower(vm.id, 'stopped');
        vm.extra.powerState = 'deallocated';
        break;
      case 'restart':
        if (power !== 'running') return notAllowed();
        vm.extra.restartedAt = new Date().toISOString();
        break;
    }
    const operation = this.addOperation({ kind: 'action', location: vm.region });
    this.count(op, 'ok');
    return armEmpty(202, this.asyncHeaders(origin, route.sub, operation, req.url.searchParams.get('api-version') ?? ''));
  }

  /** Resource SKUs of virtual machines: one entry per (size, location that offers it), as ARM lists them. */
  private async listSkus(req: EmuRequest, origin: string): Promise<EmuResponse> {
    const op = 'ResourceSkus_List';
    const refused = this.refuse(await this.gate(undefined), op, undefined, false);
    if (refused) return refused;
    const filter = req.url.searchParams.get('$filter');
    const only = filter ? /^\s*location\s+eq\s+'([^']+)'\s*$/i.exec(filter)?.[1] : undefined;
    if (filter && only === undefined) {
      this.count(op, 'InvalidFilter');
      return armError(400, 'InvalidFilter', `The filter '${filter}' is not supported: only location eq '<location>' is.`);
    }
    const rows: Array<{ key: string; json: JsonObject }> = [];
    for (const r of this.catalog.publicRegions()) {
      if (only !== undefined && normalizeLocation(only) !== r.id) continue;
      for (const s of this.catalog.offeredIn(r.id)) {
        const m = /^(Standard|Basic)_(.+)$/.exec(s.name);
        rows.push({
          key: `${s.name}\u0000${r.id}`,
          json: {
            resourceType: 'virtualMachines', name: s.name, tier: m?.[1] ?? 'Standard', size: m?.[2] ?? s.name,
            family: skuFamily(s.name), locations: [r.id], locationInfo: [{ location: r.id, zones: [], zoneDetails: [] }],
            capabilities: [
              { name: 'vCPUs', value: String(s.vcpu) }, { name: 'MemoryGB', value: String(s.memoryGiB) },
              { name: 'CpuArchitectureType', value: s.arch === 'arm64' ? 'Arm64' : 'x64' },
            ],
            restrictions: [],
          },
        });
      }
    }
    this.count(op, 'ok');
    return armJson(200, this.page(req, origin, rows));
  }

  /** The subscription's locations with their coordinates (Subscriptions API, `GET /subscriptions/{id}/locations`). */
  private async listLocations(route: Extract<ArmRoute, { kind: 'locations' }>): Promise<EmuResponse> {
    const op = 'Subscriptions_ListLocations';
    const refused = this.refuse(await this.gate(undefined), op, undefined, false);
    if (refused) return refused;
    this.count(op, 'ok');
    return armJson(200, {
      value: this.catalog.publicRegions().map((r) => ({
        id: `/subscriptions/${route.sub}/locations/${r.id}`, name: r.id, type: 'Region', displayName: r.name, regionalDisplayName: r.name,
        metadata: {
          regionType: 'Physical', regionCategory: r.access === 'restricted' ? 'Other' : 'Recommended',
          latitude: String(r.lat), longitude: String(r.lon), physicalLocation: r.country, geographyGroup: r.continent,
        },
      })),
    });
  }

  private async deleteVm(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vm' }>, origin: string): Promise<EmuResponse> {
    const op = 'VirtualMachines_Delete';
    const vm = this.find(route.sub, route.rg, route.name);
    const refused = this.refuse(await this.gate(vm?.region), op, vm?.region, true);
    if (refused) return refused;
    if (!vm) {
      // ARM answers a DELETE of a resource that does not exist with 204 No Content.
      this.count(op, 'NoContent');
      return armEmpty(204);
    }
    this.store.terminate(vm.id);
    const operation = this.addOperation({ kind: 'delete', location: vm.region, endsAt: Date.now() + this.deleteMs });
    this.count(op, 'ok');
    if (this.takeDropReply()) return DROP;
    return armEmpty(202, this.asyncHeaders(origin, route.sub, operation, req.url.searchParams.get('api-version') ?? ''));
  }

  /** Sorted rows, one page at a time; the page token is ARM's `$skiptoken` (the last key of the page). */
  private page<T>(req: EmuRequest, origin: string, rows: Array<{ key: string; json: T }>): { value: T[]; nextLink?: string } {
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const token = req.url.searchParams.get('$skiptoken');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : undefined;
    const start = after === undefined ? 0 : rows.findIndex((r) => r.key > after);
    const from = start < 0 ? rows.length : start;
    const items = rows.slice(from, from + this.maxPageSize);
    if (from + this.maxPageSize >= rows.length) return { value: items.map((r) => r.json) };
    // ARM writes `$skiptoken` unescaped; a base64url token needs no escaping either.
    const apiVersion = encodeURIComponent(req.url.searchParams.get('api-version') ?? '');
    const skip = Buffer.from(items[items.length - 1].key).toString('base64url');
    return { value: items.map((r) => r.json), nextLink: `${origin}${req.path}?api-version=${apiVersion}&$skiptoken=${skip}` };
  }

  private inGroup(sub: string, rg: string): EmuInstance[] {
    const s = sub.toLowerCase();
    const g = rg.toLowerCase();
    return this.store.all().filter((i) => {
      const r = recordOf(i);
      return i.state !== 'terminated' && r.subscriptionId.toLowerCase() === s && r.resourceGroup.toLowerCase() === g;
    });
  }

  private async listVms(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vmList' }>, origin: string): Promise<EmuResponse> {
    const op = 'VirtualMachines_List';
    // A resource group's VMs span regions: the list is not tied to one region's health.
    const refused = this.refuse(await this.gate(undefined), op, undefined, false);
    if (refused) return refused;
    this.count(op, 'ok');
    return armJson(200, this.page(req, origin, this.inGroup(route.sub, route.rg).map((i) => ({ key: i.id, json: vmJson(i) }))));
  }

  private async listVmsByLocation(req: EmuRequest, route: Extract<ArmRoute, { kind: 'vmLocationList' }>, origin: string): Promise<EmuResponse> {
    const op = 'VirtualMachines_ListByLocation';
    // The subscription's VMs in one location: served by that region, so its outage fails the list.
    const location = normalizeLocation(route.location);
    const refused = this.refuse(await this.gate(location), op, route.location, false);
    if (refused) return refused;
    this.count(op, 'ok');
    const s = route.sub.toLowerCase();
    const rows = this.store.all()
      .filter((i) => i.state !== 'terminated' && i.region === location && recordOf(i).subscriptionId.toLowerCase() === s)
      .map((i) => ({ key: i.id, json: vmJson(i) }));
    return armJson(200, this.page(req, origin, rows));
  }

  private async getOperation(req: EmuRequest, route: Extract<ArmRoute, { kind: 'operation' }>): Promise<EmuResponse> {
    const op = 'Operations_Get';
    const refused = this.refuse(await this.gate(normalizeLocation(route.location)), op, route.location, false);
    if (refused) return refused;
    const operation = this.operations.get(route.id);
    if (!operation) {
      this.count(op, 'ResourceNotFound');
      return armError(404, 'ResourceNotFound', `The operation '${route.id}' was not found.`);
    }
    this.count(op, 'ok');
    const status = this.statusOf(operation);
    const monitor = req.url.searchParams.get('monitor') === 'true';
    if (monitor) {
      // The `Location` flavour of polling: 202 while running, then the final answer.
      if (status === 'InProgress') return armEmpty(202, { location: `http://${req.headers.host ?? '127.0.0.1'}${req.url.pathname}${req.url.search}` });
      if (status === 'Failed' && operation.error) return armError(409, operation.error.code, operation.error.message);
      return armEmpty(operation.kind === 'delete' ? 204 : 200);
    }
    const now = new Date().toISOString();
    return armJson(200, {
      name: operation.id,
      status,
      startTime: new Date(operation.startedAt).toISOString(),
      ...(status === 'InProgress' ? {} : { endTime: now }),
      ...(status === 'Failed' && operation.error ? { error: operation.error } : {}),
    });
  }

  private statusOf(operation: AsyncOperation): 'InProgress' | 'Succeeded' | 'Failed' {
    switch (operation.kind) {
      case 'failed': return 'Failed';
      case 'action': return 'Succeeded';
      case 'delete': return Date.now() >= (operation.endsAt ?? 0) ? 'Succeeded' : 'InProgress';
      case 'create': {
        // A create runs while the VM is pending; a VM deleted meanwhile ends it too.
        const vm = operation.instanceKey === undefined ? undefined : this.store.get(operation.instanceKey);
        return vm?.state === 'pending' ? 'InProgress' : 'Succeeded';
      }
    }
  }

  private networkOwner(kind: 'nic' | 'pip', sub: string, rg: string, name: string): EmuInstance | undefined {
    const n = name.toLowerCase();
    return this.inGroup(sub, rg).find((i) => {
      const nic = recordOf(i).nic;
      return (kind === 'nic' ? nic.name : nic.publicIpName)?.toLowerCase() === n;
    });
  }

  private async getNetwork(route: Extract<ArmRoute, { kind: 'nic' | 'pip' }>): Promise<EmuResponse> {
    const op = route.kind === 'nic' ? 'NetworkInterfaces_Get' : 'PublicIPAddresses_Get';
    const vm = this.networkOwner(route.kind, route.sub, route.rg, route.name);
    const refused = this.refuse(await this.gate(vm?.region), op, vm?.region, false);
    if (refused) return refused;
    const json = vm && (route.kind === 'nic' ? nicJson(vm) : pipJson(vm));
    if (!json) return this.notFound(op, route.kind === 'nic' ? 'Microsoft.Network/networkInterfaces' : 'Microsoft.Network/publicIPAddresses', route.name, route.rg);
    this.count(op, 'ok');
    return armJson(200, json);
  }

  private async listNetwork(req: EmuRequest, route: Extract<ArmRoute, { kind: 'nicList' | 'pipList' }>, origin: string): Promise<EmuResponse> {
    const op = route.kind === 'nicList' ? 'NetworkInterfaces_List' : 'PublicIPAddresses_List';
    const refused = this.refuse(await this.gate(undefined), op, undefined, false);
    if (refused) return refused;
    this.count(op, 'ok');
    const rows: Array<{ key: string; json: JsonObject }> = [];
    for (const i of this.inGroup(route.sub, route.rg)) {
      const json = route.kind === 'nicList' ? nicJson(i) : pipJson(i);
      if (json) rows.push({ key: String(json.id).toLowerCase(), json });
    }
    return armJson(200, this.page(req, origin, rows));
  }
}

/** ARM's family name of a VM size (`Standard_D2s_v5` is in `standardDSv5Family`), near enough for grouping. */
function skuFamily(name: string): string {
  const m = /^Standard_([A-Z]+)\d+([a-z]*)(?:_(v\d+))?$/.exec(name);
  if (!m) return 'standardFamily';
  return `standard${m[1]}${m[2].replace(/[^s]/g, '').toUpperCase()}${m[3] ?? ''}Family`;
}
