import * as pulumi from '@pulumi/pulumi';
import type { ProvidersConfig } from '../providers';
import type { Placement } from '../scheduler/placement';
import { CONFIG_KEYS, CONFIG_NAMESPACE, parseConfigValue, resolveStackConfig, type StackDefinition } from './config';
import type { InstanceProvider } from './instance/provider';
import { Workload, placementsFromOutput, type InstanceSummary, type RegionPlacement, type WorkloadDns } from './workload';

/** What a stack deploys: its validated definition plus how to reach the clouds. */
export interface StackSettings extends StackDefinition {
  /** Driver settings for every instance (endpoints, credentials); a secret in the state. */
  readonly connection?: pulumi.Input<ProvidersConfig>;
  /** The Instance provider; the shared one by default. */
  readonly provider?: InstanceProvider;
  /** The last deployment's placement per workload, kept wherever still valid. */
  readonly current?: Readonly<Record<string, Placement>>;
}

/** The stack outputs, keyed by workload name. */
export interface StackOutputs {
  /** Per workload: one row per region (cloud, size, count, cost per hour). */
  readonly placements: Record<string, pulumi.Output<RegionPlacement[]>>;
  /** Per workload with a DNS name: the name, TTL and addresses. */
  readonly dns: Record<string, pulumi.Output<WorkloadDns | undefined>>;
  /** Per workload: every instance with its cloud, region, id and address. */
  readonly instances: Record<string, pulumi.Output<InstanceSummary[]>>;
  /** Total on-demand cost of the stack, USD per hour. */
  readonly usdPerHour: pulumi.Output<number>;
}

/**
 * Declares one `Workload` component per workload of the stack and returns the stack outputs.
 * Placement uses the catalog installed for the process (`resolveStackConfig` installs the one
 * `catalogFile` names); the Instances pass `catalogFile` on so their provider checks against it too.
 */
export function deployStack(settings: StackSettings): StackOutputs {
  const policies = new Map(settings.policies.map((p) => [p.metadata.name, p]));
  const placements: Record<string, pulumi.Output<RegionPlacement[]>> = {};
  const dns: Record<string, pulumi.Output<WorkloadDns | undefined>> = {};
  const instances: Record<string, pulumi.Output<InstanceSummary[]>> = {};
  const costs: pulumi.Output<number>[] = [];
  for (const workload of settings.workloads) {
    const policy = policies.get(workload.policy);
    if (!policy) throw new pulumi.RunError(`workload '${workload.name}' names policy '${workload.policy}', which the stack does not define`);
    const component = new Workload(workload.name, {
      workload, policy, connection: settings.connection, tags: settings.tags, readyTimeoutSeconds: settings.readyTimeoutSeconds,
    }, {}, {
      provider: settings.provider, current: settings.current?.[workload.name], ...(settings.regions ? { account: settings.regions } : {}),
      ...(settings.catalogFile !== undefined ? { catalogFile: settings.catalogFile } : {}),
    });
    placements[workload.name] = component.placement;
    instances[workload.name] = component.inventory;
    if (workload.dns) dns[workload.name] = component.dns;
    costs.push(component.usdPerHour);
  }
  // Four decimals, as the catalog quotes prices.
  const usdPerHour = pulumi.all(costs).apply((c) => Math.round(c.reduce((a, b) => a + b, 0) * 10_000) / 10_000);
  return { placements, dns, instances, usdPerHour };
}

/**
 * Reads the stack's config (namespace `meridian`): `documents`, `policies`, `workloads`, `tags`,
 * `readyTimeoutSeconds`, `regions`, `catalogFile` (installed for the process), and `clouds` as a
 * secret. Relative document and catalog paths start at `baseDir`.
 */
export function stackSettingsFromConfig(baseDir = process.cwd()): StackSettings {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const definition = resolveStackConfig({
    documents: parseConfigValue(config.get(CONFIG_KEYS.documents)),
    policies: parseConfigValue(config.get(CONFIG_KEYS.policies)),
    workloads: parseConfigValue(config.get(CONFIG_KEYS.workloads)),
    tags: parseConfigValue(config.get(CONFIG_KEYS.tags)),
    readyTimeoutSeconds: parseConfigValue(config.get(CONFIG_KEYS.readyTimeoutSeconds)),
    regions: parseConfigValue(config.get(CONFIG_KEYS.regions)),
    // A path, never JSON: a file named `1` stays a string.
    catalogFile: config.get(CONFIG_KEYS.catalogFile),
  }, { baseDir });
  const clouds = config.getSecretObject<ProvidersConfig>(CONFIG_KEYS.clouds);
  return { ...definition, ...(clouds ? { connection: clouds } : {}) };
}

/** Name of the stack's reference to itself, through which it reads its last placement. */
export const PREVIOUS_PLACEMENT_REFERENCE = 'meridian-previous-placement';

/**
 * The placements this stack exported at its last deployment (nothing on the first one), read
 * through a StackReference to the stack itself, so a changed replica count moves few instances.
 */
export async function previousPlacements(): Promise<Record<string, Placement>> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  try {
    const details = await new pulumi.StackReference(PREVIOUS_PLACEMENT_REFERENCE, { name: self }).getOutputDetails('placements');
    return placementsFromOutput(details.value);
  } catch (err) {
    // Without the last placement the engine places afresh: more instances may move, nothing breaks.
    await pulumi.log.warn(`cannot read the last placement of ${self}, placing afresh: ${(err as Error).message}`);
    return {};
  }
}

/**
 * The Pulumi program: the stack's workloads from config, placed with the last deployment's
 * placement as the starting point; returns the stack outputs.
 */
export async function runStack(): Promise<StackOutputs> {
  try {
    const settings = stackSettingsFromConfig();
    return deployStack({ ...settings, current: await previousPlacements() });
  } catch (err) {
    // A config error lists every problem; report it without a stack trace, as Pulumi does for RunError.
    if (err instanceof Error && err.name === 'StackConfigError') throw new pulumi.RunError(err.message);
    throw err;
  }
}
