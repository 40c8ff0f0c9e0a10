/**
 * A leader lease enforced by PostgreSQL, with fencing tokens: the basis of a control plane with
 * several replicas, where one reconciles and the others serve. Not re-exported by `scheduler/`
 * (it loads `pg`); import `scheduler/lease`.
 */
export {
  DEFAULT_LEASE_TABLE, ensureLeaseTable, LeaderLease, StaleLeaseTokenError, withFencingToken, type LeaderLeaseOptions, type LeaseTimers,
} from './lease';
export { fenceHttpRequests, type RequestGuard } from './http-fence';
