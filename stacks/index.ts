/** Pulumi components, the `meridian:cloud:Instance` dynamic provider and the stack program. */
export { Instance, type InstanceArgs } from './instance/resource';
export {
  OPERATIONS_MODULE, instanceProvider, sharedInstanceProvider, type InstanceProvider, type InstanceProviderSettings,
} from './instance/provider';
export {
  DEFAULT_READY_TIMEOUT_SECONDS, INSTANCE_TYPE, REPLACE_ON_CHANGE, UPDATE_IN_PLACE,
  type InstanceInputs, type InstanceOutputs, type TagWriter,
} from './instance/types';
export { diffInputs, inputFailures, type InputDiff, type InputFailure } from './instance/validate';
export { idempotencyKeyFor, MAX_KEY_GENERATIONS } from './instance/keys';
export {
  Workload, WORKLOAD_TYPE, STACK_TAG, UNSATISFIABLE, instanceName, placementRows, placementsFromOutput, planWorkload,
  type AnyDocument, type DnsRegionRecords, type InstanceSummary, type RegionPlacement, type WorkloadArgs, type WorkloadDefinition,
  type WorkloadDns, type WorkloadDnsName, type WorkloadImages, type WorkloadOptions, type WorkloadSize,
} from './workload';
export {
  CONFIG_KEYS, CONFIG_NAMESPACE, StackConfigError, parseConfigValue, resolveStackConfig,
  type RawStackConfig, type ResolveOptions, type StackDefinition,
} from './config';
export {
  PREVIOUS_PLACEMENT_REFERENCE, deployStack, previousPlacements, runStack, stackSettingsFromConfig, type StackOutputs, type StackSettings,
} from './program';
