/**
 * The CRUD operations behind `meridian:cloud:Instance`, run inside Pulumi's dynamic-provider
 * process. The serialized provider loads this module by its package name
 * (`meridian/stacks/instance-operations`) at call time, so the serialized closure holds nothing
 * but that name; drivers and SDK clients are made here.
 */
import type * as dynamic from '@pulumi/pulumi/dynamic';
import { CloudError, MERIDIAN_TAGS, isCloudError, type CloudId, type CloudProvider, type Instance, type ProvidersConfig } from '../../providers';
import { createProviderContainer, providerFor } from '../../providers/drivers';
import { MAX_KEY_GENERATIONS, idempotencyKeyFor } from './keys';
import { DEFAULT_READY_TIMEOUT_SECONDS, type InstanceInputs, type InstanceOutputs, type TagWriter } from './types';
import { useInstanceCatalog } from './catalog';
import { UNKNOWN_VALUE, diffInputs, inputFailures, type InputFailure } from './validate';

/** First and largest pause between readiness polls. */
const POLL_FIRST_MS = 100;
const POLL_MAX_MS = 5_000;

/** Azure needs a subscription and resource group; these are read when `connection.azure` is absent. */
export const AZURE_ENV = Object.freeze({ subscriptionId: 'AZURE_SUBSCRIPTION_ID', resourceGroup: 'AZURE_RESOURCE_GROUP' });

/**
 * A create that made an instance which did not become ready in time. Pulumi's dynamic-provider
 * host reads `id` and `properties` and records the instance in the stack (an initialization
 * failure), so the next `pulumi up` or `destroy` still knows it: nothing is orphaned.
 */
export class InstanceNotReadyError extends Error {
  override readonly name = 'InstanceNotReadyError';
  constructor(message: string, readonly id: string, readonly properties: InstanceOutputs, readonly reasons: readonly string[]) {
    super(message);
  }
}

// One driver per (cloud, connection), so SDK clients and their sockets are reused across calls.
const drivers = new Map<string, CloudProvider>();

/** Closes the SDK clients of every driver made so far; later calls make new ones. */
export function closeDrivers(): void {
  for (const driver of drivers.values()) {
    const closable = driver as CloudProvider & { destroy?: () => void };
    if (typeof closable.destroy === 'function') closable.destroy();
  }
  drivers.clear();
}

function withEnvFallbacks(cloud: CloudId, connection: ProvidersConfig): ProvidersConfig {
  if (cloud !== 'azure' || connection.azure) return connection;
  // This module runs as the entry point of the provider process, so reading the environment here is its configuration step.
  const subscriptionId = process.env[AZURE_ENV.subscriptionId];
  const resourceGroup = process.env[AZURE_ENV.resourceGroup];
  if (!subscriptionId || !resourceGroup) {
    throw new CloudError(
      `azure needs a subscription and resource group: set connection.azure.subscriptionId and .resourceGroup ` +
        `(pulumi config set --path meridian:clouds.azure.subscriptionId ...) or ${AZURE_ENV.subscriptionId} and ${AZURE_ENV.resourceGroup}`,
      { kind: 'auth', cloud: 'azure', code: 'MissingAzureSettings' });
  }
  return { ...connection, azure: { subscriptionId, resourceGroup } };
}

/** The driver of `cloud` for these connection settings (cached per settings). */
export function driverFor(cloud: CloudId, connection: ProvidersConfig = {}): CloudProvider {
  const settings = withEnvFallbacks(cloud, connection);
  const key = `${cloud} ${JSON.stringify(settings)}`;
  let driver = drivers.get(key);
  if (!driver) {
    driver = providerFor(createProviderContainer(settings), cloud);
    drivers.set(key, driver);
  }
  return driver;
}

const isGone = (i: Instance | undefined) => i === undefined || i.state === 'terminated' || i.state === 'terminating';

/** Plain JSON: the engine's Struct encoding rejects `undefined` values. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The inputs without the engine's own keys. */
function inputsOf(props: Record<string, unknown>): InstanceInputs {
  const { __provider: _provider, idempotencyKey: _k, instanceId: _i, state: _s, publicIp: _p, privateIp: _q, launchedAt: _l, cloudTags: _t, ...inputs } = props;
  return inputs as unknown as InstanceInputs;
}

function outputsOf(inputs: InstanceInputs, idempotencyKey: string, instance: Instance): InstanceOutputs {
  return plain({
    ...inputs, idempotencyKey, instanceId: instance.id, state: instance.state, publicIp: instance.publicIp,
    privateIp: instance.privateIp, launchedAt: instance.launchedAt, cloudTags: { ...instance.tags },
  });
}

/**
 * Every problem with the inputs, after installing the catalog their `catalogFile` names (the
 * bundled one without it), so region and size are checked against what the program placed with.
 */
function failuresOf(inputs: unknown): InputFailure[] {
  const catalogFile = (inputs as { catalogFile?: unknown } | null)?.catalogFile;
  // Anything but a path or nothing is reported by inputFailures; an unknown value leaves the catalog as it is.
  const usable = catalogFile === undefined || (typeof catalogFile === 'string' && catalogFile !== '' && catalogFile !== UNKNOWN_VALUE);
  const unusable = usable ? useInstanceCatalog(catalogFile, process.cwd()) : undefined;
  return [...(unusable !== undefined ? [{ property: 'catalogFile', reason: unusable }] : []), ...inputFailures(inputs)];
}

function assertValid(inputs: unknown): asserts inputs is InstanceInputs {
  const failures = failuresOf(inputs);
  if (failures.length > 0) {
    throw new Error(`invalid instance inputs: ${failures.map((f) => `${f.property || '(inputs)'}: ${f.reason}`).join('; ')}`);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How a wait for a new instance ended. */
type WaitOutcome =
  | { readonly kind: 'started'; readonly instance: Instance }
  | { readonly kind: 'timeout'; readonly instance: Instance }
  | { readonly kind: 'gone' };

/**
 * Polls until the instance leaves `pending`. An instance reported terminated, or never found
 * during the whole window, is gone: ECS answers a reused ClientToken with the id of an instance
 * deleted long ago, which DescribeInstances no longer knows.
 */
async function waitUntilStarted(driver: CloudProvider, instance: Instance, timeoutSeconds: number): Promise<WaitOutcome> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let current = instance;
  let seen = false;
  let pause = POLL_FIRST_MS;
  for (;;) {
    if (seen && current.state !== 'pending') return { kind: 'started', instance: current };
    const left = deadline - Date.now();
    if (left <= 0) return seen ? { kind: 'timeout', instance: current } : { kind: 'gone' };
    if (seen) {
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, POLL_MAX_MS);
    }
    const found = await driver.getInstance(instance.region, instance.id);
    if (found && isGone(found)) return { kind: 'gone' };
    if (found) {
      current = found;
      seen = true;
    } else if (!seen) {
      // Read-after-write lag can hide a new instance for a moment; look again shortly.
      await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
      pause = Math.min(pause * 2, POLL_MAX_MS);
    } else {
      return { kind: 'gone' };
    }
  }
}

/**
 * Validates inputs, every failure naming its property (region and size against the catalog file
 * the inputs name, or the bundled catalog); returns the inputs unchanged when valid.
 */
export function check(_olds: unknown, news: Record<string, unknown>): Promise<dynamic.CheckResult<InstanceInputs>> {
  const failures = failuresOf(news);
  return Promise.resolve(failures.length > 0 ? { failures } : { inputs: news as unknown as InstanceInputs });
}

/** Replaces on cloud, region, size, image, spot or user-data change; updates tags in place. */
export function diff(_id: string, olds: Partial<InstanceOutputs>, news: Partial<InstanceInputs>): Promise<dynamic.DiffResult> {
  const d = diffInputs(olds, news);
  // Make before break: the replacement is created before the old instance is deleted.
  return Promise.resolve({ changes: d.changes, replaces: [...d.replaces], deleteBeforeReplace: false });
}

/**
 * Creates the instance, or adopts the one an earlier attempt with the same URN and inputs made,
 * then waits (up to `readyTimeoutSeconds`) for it to start. A key whose instance is terminated,
 * or not found during the whole window, moves to the next generation (a resource re-created after
 * `destroy` or an out-of-band termination). With `readyTimeoutSeconds: 0` nothing is awaited.
 *
 * On failure: a rejection before the cloud accepted the request created nothing; a retryable
 * cloud failure may have created the instance, and the next `pulumi up` adopts it through the
 * same key; an instance that does not start in time is reported with its id
 * (`InstanceNotReadyError`) so the stack records it.
 */
export async function create(inputs: Record<string, unknown>): Promise<dynamic.CreateResult<InstanceOutputs>> {
  const desired = inputsOf(inputs);
  assertValid(desired);
  const driver = driverFor(desired.cloud, desired.connection);
  for (let generation = 0; generation < MAX_KEY_GENERATIONS; generation++) {
    const idempotencyKey = idempotencyKeyFor(desired, generation);
    const made = await driver.createInstance({
      workload: desired.workload, cloud: desired.cloud, region: desired.region, size: desired.size, image: desired.image,
      tags: { ...desired.tags }, idempotencyKey, spot: desired.spot, userData: desired.userData,
    });
    if (isGone(made)) continue;
    const timeout = desired.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS;
    if (timeout === 0) return { id: made.id, outs: outputsOf(desired, idempotencyKey, made) };
    const waited = await waitUntilStarted(driver, made, timeout);
    if (waited.kind === 'gone') continue;
    if (waited.kind === 'timeout') {
      const reason = `instance ${made.id} in ${desired.cloud} ${desired.region} did not start within ${timeout} s`;
      throw new InstanceNotReadyError(reason, made.id, outputsOf(desired, idempotencyKey, waited.instance), [reason]);
    }
    return { id: waited.instance.id, outs: outputsOf(desired, idempotencyKey, waited.instance) };
  }
  throw new CloudError(`every idempotency key of ${desired.resourceUrn} (${MAX_KEY_GENERATIONS} generations) leads to a terminated instance`,
    { kind: 'invalid', cloud: desired.cloud, region: desired.region, code: 'IdempotencyKeysExhausted' });
}

/**
 * Refreshes the state from the cloud. An instance the cloud no longer knows, or that is
 * terminated or terminating (for example deleted outside Pulumi), is reported gone: a blank id.
 */
export async function read(id: string, props: Partial<InstanceOutputs> = {}): Promise<dynamic.ReadResult<InstanceOutputs>> {
  const known = inputsOf(props as Record<string, unknown>);
  if (typeof known.cloud !== 'string' || typeof known.region !== 'string') {
    throw new Error(`cannot read instance '${id}': its state lacks cloud and region`);
  }
  const driver = driverFor(known.cloud, known.connection);
  const instance = await driver.getInstance(known.region, id);
  if (!instance || isGone(instance)) return { id: '' };
  return { id, props: outputsOf(known, props.idempotencyKey ?? '', instance) };
}

/**
 * Applies in-place changes: tags (through the driver's tag writer when it has one) and the
 * settings that live only in the stack. The instance itself stays; its fresh state is returned.
 */
export async function update(id: string, olds: Partial<InstanceOutputs>, news: Record<string, unknown>): Promise<dynamic.UpdateResult<InstanceOutputs>> {
  const desired = inputsOf(news);
  assertValid(desired);
  const driver = driverFor(desired.cloud, desired.connection);
  const changes = diffInputs(olds, desired);
  if (changes.replaces.length > 0) {
    throw new Error(`update cannot change ${changes.replaces.join(', ')} of instance ${id}; these replace the instance`);
  }
  const writer = driver as Partial<TagWriter>;
  if ((changes.updates.includes('tags') || changes.updates.includes('workload')) && typeof writer.updateTags === 'function') {
    await writer.updateTags(desired.region, id, { ...desired.tags, [MERIDIAN_TAGS.workload]: desired.workload });
  }
  const instance = await driver.getInstance(desired.region, id);
  if (!instance || isGone(instance)) {
    throw new CloudError(`instance ${id} no longer exists in ${desired.cloud} ${desired.region}; run 'pulumi refresh', then 'pulumi up' creates a new one`,
      { kind: 'not-found', cloud: desired.cloud, region: desired.region, code: 'InstanceGone' });
  }
  return { outs: outputsOf(desired, olds.idempotencyKey ?? '', instance) };
}

/** Terminates the instance; one already gone is success. */
export async function destroy(id: string, props: Partial<InstanceOutputs>): Promise<void> {
  const known = inputsOf(props as Record<string, unknown>);
  if (typeof known.cloud !== 'string' || typeof known.region !== 'string') {
    throw new Error(`cannot delete instance '${id}': its state lacks cloud and region`);
  }
  try {
    await driverFor(known.cloud, known.connection).terminateInstance(known.region, id);
  } catch (err) {
    if (isCloudError(err, 'not-found')) return;
    throw err;
  }
}
