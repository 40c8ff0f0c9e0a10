/** The scheduler's status page at `/ui/`: a world map of the regions in use, workloads and GeoDNS servers, live. */
export { statusPage, type StatusPageOptions } from './plugin';
export { readGeoDns, type GeoDnsChannel, type GeoDnsStatus } from './geodns';
