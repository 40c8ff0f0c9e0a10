/** The placement engine: where a workload's replicas go under its region policy. */
export type { Exclusion, Placement, PlacementContext, PlacementResult, RegionAssignment, Rejection, Workload } from './types';
export { DEFAULT_ACCOUNT, place, PLACEMENT_CONSTRAINTS, type PlaceOptions } from './place';
export { providerCatalog, staticCatalog, type PlacementCatalog } from './catalog';
export { RegionSettingsSchema, regionSettingsIssues, withReportedRegions, type RegionSettings, type RegionSettingsIssue } from './account';
