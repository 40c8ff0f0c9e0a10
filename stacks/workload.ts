import * as pulumi from '@pulumi/pulumi';
import { parsePolicy, parseWorkload, type RegionPolicy } from '../policies';
import { CLOUD_IDS, type CloudId, type ProvidersConfig, type RegionAccount } from '../providers';
import { place, type Exclusion, type Placement, type Workload as WorkloadSpec } from '../scheduler/placement';
import { Instance } from './instance/resource';
import type { InstanceProvider } from './instance/provider';

/** The Pulumi type token of the workload component. */
export const WORKLOAD_TYPE = 'meridian:index:Workload';

/** Tag on every instance naming the Pulumi stack that owns it. */
export const STACK_TAG = 'meridian:stack';

/**
 * A value the component schema types as `pulumi.json#/Any`: its schema analyzer maps only `any`
 * there. Every such input is validated on construction (policy, workload) or by the Instance
 * provider's `check` (connection), each error naming its key path.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDocument = any;

/** A workload's size: `vcpu` and `memoryGiB` (and optionally `arch`), or an instance type per cloud. */
export interface WorkloadSize {
  /** vCPUs; resolved per region to the cheapest fitting instance type. */
  readonly vcpu?: number;
  /** GiB of memory. */
  readonly memoryGiB?: number;
  /** `x86_64` (default) or `arm64`. */
  readonly arch?: string;
  /** An EC2 instance type, instead of vcpu and memoryGiB. */
  readonly aws?: string;
  /** An Azure VM size, instead of vcpu and memoryGiB. */
  readonly azure?: string;
  /** An Alibaba ECS instance type, instead of vcpu and memoryGiB. */
  readonly alibaba?: string;
}

/** Image per cloud; a cloud without one is not used. */
export interface WorkloadImages {
  /** An AMI id. */
  readonly aws?: string;
  /** An Azure image URN (`publisher:offer:sku:version`). */
  readonly azure?: string;
  /** An Alibaba image id. */
  readonly alibaba?: string;
}

/** The workload's DNS name and record TTL. */
export interface WorkloadDnsName {
  /** A lowercase domain name without trailing dot. */
  readonly name: string;
  /** Seconds, 0 to 86400. */
  readonly ttl: number;
}

/** A workload as the scheduler reads it (the `Workload` document's `spec` with its name). */
export interface WorkloadDefinition {
  /** A DNS label: the workload's name and the prefix of its instances' names. */
  readonly name: string;
  /** Number of instances, 0 to 10000. */
  readonly replicas: number;
  readonly size: WorkloadSize;
  readonly image: WorkloadImages;
  /** Name of the RegionPolicy that governs placement (`metadata.name` of `policy`). */
  readonly policy: string;
  readonly dns?: WorkloadDnsName;
}

/**
 * Arguments of a `Workload` component: what other languages set through the component package
 * (schema `meridian:index:Workload`).
 */
export interface WorkloadArgs {
  /** The workload: replicas, size, image per cloud, policy name and DNS name. */
  readonly workload: WorkloadDefinition;
  /** The RegionPolicy document named by `workload.policy`: `{ apiVersion, kind, metadata, spec }`, as YAML parses it. */
  readonly policy: AnyDocument;
  /** Driver settings per cloud (endpoints, credentials), as the stack's `meridian:clouds`; a secret in the state. */
  readonly connection?: pulumi.Input<AnyDocument>;
  /** Extra tags on every instance. */
  readonly tags?: Record<string, string>;
  /** Seconds each instance may take to start (default 600; 0 does not wait). */
  readonly readyTimeoutSeconds?: number;
}

/** What a TypeScript program may add to `WorkloadArgs`; not part of the component schema. */
export interface WorkloadOptions {
  /** Regions or sizes to avoid (capacity shortages, outages). */
  readonly exclusions?: readonly Exclusion[];
  /** The placement of the last deployment: kept wherever still valid, so few instances move. */
  readonly current?: Placement;
  /** The regions the cloud accounts can use (`meridian:regions`); public partitions, nothing enabled, by default. */
  readonly account?: RegionAccount;
  /** The Instance provider; the shared one by default. */
  readonly provider?: InstanceProvider;
  /**
   * The catalog file (`meridian:catalogFile`, relative to the project directory) the Instance
   * provider checks region and size against; the bundled catalog when absent. Placement uses the
   * catalog installed in this process, so the program installs the same file first.
   */
  readonly catalogFile?: string;
}

/** Where the replicas of one region went and what they cost. */
export interface RegionPlacement {
  /** `aws`, `azure` or `alibaba`. */
  readonly cloud: string;
  readonly region: string;
  /** The cloud's instance type. */
  readonly size: string;
  readonly count: number;
  /** On-demand list price of one replica, USD per hour. */
  readonly usdPerHourEach: number;
  /** `count` x `usdPerHourEach`. */
  readonly usdPerHour: number;
}

/** Addresses of one region behind the workload's DNS name. */
export interface DnsRegionRecords {
  /** `aws`, `azure` or `alibaba`. */
  readonly cloud: string;
  readonly region: string;
  readonly addresses: string[];
}

/** The workload's DNS name and the addresses it answers with. */
export interface WorkloadDns {
  readonly name: string;
  readonly ttl: number;
  /** Every public address, sorted. */
  readonly addresses: string[];
  readonly regions: DnsRegionRecords[];
}

/** One instance of the workload as the stack outputs list it. */
export interface InstanceSummary {
  readonly name: string;
  /** `aws`, `azure` or `alibaba`. */
  readonly cloud: string;
  readonly region: string;
  readonly size: string;
  readonly instanceId: string;
  readonly publicIp?: string;
}

/** Starts the message of the error thrown when no placement meets the policy's hard constraints. */
export const UNSATISFIABLE = 'MERIDIAN_UNSATISFIABLE_POLICY';

// Four decimals, as the catalog quotes prices.
const usd = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * The placement of a workload under its policy. Throws a `pulumi.RunError` (reported without a
 * stack trace) naming the constraint that cannot be met and why, or a policy that does not match.
 */
export function planWorkload(
  workload: WorkloadSpec, policy: RegionPolicy, exclusions?: readonly Exclusion[], current?: Placement, account?: RegionAccount,
): Placement {
  if (workload.policy !== policy.metadata.name) {
    throw new pulumi.RunError(`workload '${workload.name}' names policy '${workload.policy}' but was given '${policy.metadata.name}'`);
  }
  for (const cloud of Object.keys(workload.image)) {
    if (!isCloudId(cloud)) throw new pulumi.RunError(`workload '${workload.name}': image.${cloud}: unknown cloud`);
  }
  const result = place(workload, policy, { exclusions, current }, { ...(account ? { account } : {}) });
  if (!result.ok) {
    throw new pulumi.RunError(
      `${UNSATISFIABLE}: workload '${workload.name}' cannot be placed under policy '${policy.metadata.name}': ${result.constraint}: ${result.reason}`);
  }
  return result.placement;
}

const isCloudId = (value: unknown): value is CloudId => (CLOUD_IDS as readonly unknown[]).includes(value);

/** The placement as stack outputs show it: one row per region. */
export function placementRows(placement: Placement): RegionPlacement[] {
  return placement.assignments.map((a) => ({
    cloud: a.cloud, region: a.region, size: a.size, count: a.replicas, usdPerHourEach: a.usdPerHour, usdPerHour: usd(a.replicas * a.usdPerHour),
  }));
}

/**
 * The placements in a stack's `placements` output (as `placementRows` wrote them), by workload.
 * Rows that do not have that shape are left out: an unreadable row only costs minimal movement.
 */
export function placementsFromOutput(value: unknown): Record<string, Placement> {
  const out: Record<string, Placement> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [workload, rows] of Object.entries(value)) {
    if (!Array.isArray(rows)) continue;
    const assignments = rows.filter((r): r is RegionPlacement & { cloud: CloudId } => typeof r === 'object' && r !== null
      && isCloudId((r as RegionPlacement).cloud) && typeof (r as RegionPlacement).region === 'string'
      && typeof (r as RegionPlacement).size === 'string' && Number.isInteger((r as RegionPlacement).count) && (r as RegionPlacement).count > 0
      && typeof (r as RegionPlacement).usdPerHourEach === 'number')
      .map((r) => ({ cloud: r.cloud, region: r.region, size: r.size, replicas: r.count, usdPerHour: r.usdPerHourEach }));
    out[workload] = { workload, assignments, usdPerHour: usd(assignments.reduce((n, a) => n + a.replicas * a.usdPerHour, 0)) };
  }
  return out;
}

/** The name of the Instance for replica `slot` of a region: stable while the region keeps that many replicas. */
export function instanceName(workload: string, cloud: CloudId, region: string, slot: number): string {
  return `${workload}-${cloud}-${region}-${slot}`;
}

/** The component's plain inputs, validated as the stack config is; every problem named by its key path. */
function validateArgs(name: string, args: WorkloadArgs): { workload: WorkloadSpec; policy: RegionPolicy } {
  const problems: string[] = [];
  if (typeof args !== 'object' || args === null) {
    throw new pulumi.RunError(`Workload '${name}': expected arguments { workload, policy }, got ${args === null ? 'null' : typeof args}`);
  }
  // Placement runs in the program, so it needs the values themselves, not outputs still to come.
  for (const k of ['workload', 'policy'] as const) {
    if (pulumi.Output.isInstance(args[k])) {
      throw new pulumi.RunError(`invalid arguments of Workload '${name}':\n  - ${k}: must be a plain value, not an output of another resource or a secret`);
    }
  }
  const workload = parseWorkload(args.workload);
  if (!workload.ok) for (const e of workload.errors) problems.push(`workload${e.path}: ${e.message}`);
  const policy = parsePolicy(args.policy);
  if (!policy.ok) for (const e of policy.errors) problems.push(`policy${e.path}: ${e.message}`);
  if (args.tags !== undefined) {
    if (typeof args.tags !== 'object' || args.tags === null || Array.isArray(args.tags)) problems.push('tags: expected an object of strings');
    else for (const [k, v] of Object.entries(args.tags)) if (typeof v !== 'string') problems.push(`tags/${k}: expected a string`);
  }
  if (!workload.ok || !policy.ok || problems.length > 0) {
    throw new pulumi.RunError(`invalid arguments of Workload '${name}':\n  - ${problems.join('\n  - ')}`);
  }
  return { workload: workload.value, policy: policy.value };
}

// The children of each component, kept off the class's own properties: the component schema lists
// every property as an output, and a list of dynamic resources is not one a schema can describe.
const childrenOf = new WeakMap<Workload, readonly Instance[]>();

/**
 * A workload deployed by region policy (`meridian:index:Workload`): runs the placement engine,
 * declares one `meridian:cloud:Instance` per replica as its children, and exports the placement
 * (per region: cloud, count, cost per hour) and the DNS name with its addresses. When the policy
 * cannot be met, the program fails with the constraint and the reason, and nothing is declared.
 */
export class Workload extends pulumi.ComponentResource {
  /** One row per region. */
  readonly placement: pulumi.Output<RegionPlacement[]>;
  /** Total on-demand cost, USD per hour. */
  readonly usdPerHour: pulumi.Output<number>;
  /** The DNS name and its addresses, when the workload has one. */
  readonly dns: pulumi.Output<WorkloadDns | undefined>;
  /** Name, place, id and address of every instance, in placement order. */
  readonly inventory: pulumi.Output<InstanceSummary[]>;

  /**
   * `args` are what the component schema describes (and what other languages pass); `options` are
   * for TypeScript programs only. Throws a `pulumi.RunError` listing every invalid argument.
   */
  constructor(name: string, args: WorkloadArgs, opts: pulumi.ComponentResourceOptions = {}, options: WorkloadOptions = {}) {
    const { workload, policy } = validateArgs(name, args);
    // Placement runs first so that an unsatisfiable policy declares nothing at all.
    const placement = planWorkload(workload, policy, options.exclusions, options.current, options.account);
    super(WORKLOAD_TYPE, name, {}, opts);
    const rows = placementRows(placement);
    const tags = { ...args.tags, [STACK_TAG]: pulumi.getStack() };
    const connection = args.connection as pulumi.Input<ProvidersConfig> | undefined;
    const byRegion: Array<{ cloud: CloudId; region: string; instances: Instance[] }> = [];
    const summaries: pulumi.Output<InstanceSummary>[] = [];
    for (const a of placement.assignments) {
      // Placement only uses clouds the workload has an image for.
      const image = workload.image[a.cloud] ?? '';
      const group = { cloud: a.cloud, region: a.region, instances: [] as Instance[] };
      for (let slot = 0; slot < a.replicas; slot++) {
        const instanceNameOf = instanceName(name, a.cloud, a.region, slot);
        const instance = new Instance(instanceNameOf, {
          cloud: a.cloud, region: a.region, size: a.size, image, workload: workload.name, tags,
          readyTimeoutSeconds: args.readyTimeoutSeconds, connection,
          // Absent stays absent, so instances of a stack without the key see no change.
          ...(options.catalogFile !== undefined ? { catalogFile: options.catalogFile } : {}),
        }, { parent: this }, options.provider);
        group.instances.push(instance);
        summaries.push(pulumi.all([instance.instanceId, instance.publicIp]).apply(([instanceId, publicIp]): InstanceSummary => ({
          name: instanceNameOf, cloud: a.cloud, region: a.region, size: a.size, instanceId, ...(publicIp ? { publicIp } : {}),
        })));
      }
      byRegion.push(group);
    }
    childrenOf.set(this, byRegion.flatMap((g) => g.instances));
    this.inventory = pulumi.all(summaries);
    this.placement = pulumi.output(rows);
    this.usdPerHour = pulumi.output(usd(placement.usdPerHour));
    const dnsSpec = workload.dns;
    this.dns = dnsSpec === undefined
      ? pulumi.output(undefined)
      : pulumi.all(byRegion.map((g) => pulumi.all(g.instances.map((i) => i.publicIp)))).apply((perRegion): WorkloadDns => {
        const regions = byRegion.map((g, i) => ({
          cloud: g.cloud, region: g.region,
          addresses: perRegion[i].filter((ip): ip is string => typeof ip === 'string' && ip !== '').sort(),
        }));
        return { name: dnsSpec.name, ttl: dnsSpec.ttl, addresses: regions.flatMap((r) => r.addresses).sort(), regions };
      });
    this.registerOutputs({ placement: this.placement, usdPerHour: this.usdPerHour, dns: this.dns, inventory: this.inventory });
  }

  /** The instances, in placement order. */
  get instances(): readonly Instance[] {
    return childrenOf.get(this) ?? [];
  }
}
