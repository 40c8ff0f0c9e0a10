import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** Buckets of the latency histograms, seconds: 1 ms to 30 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How to make a registry. */
export interface MetricsOptions {
  /** Also expose prom-client's default process metrics (CPU, memory, event loop lag, GC, handles), collected once per process; default true. */
  readonly processMetrics?: boolean;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's default process metrics, in one registry made on first use and shared by every
 * `Metrics` of the process: each `collectDefaultMetrics` call starts a GC observer and an
 * event-loop delay monitor that nothing can stop, so one per `Metrics` would pile up for the
 * life of the process (tests start many schedulers in one). The values are the process's anyway.
 */
function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which promtool refuses; their per-type series
    // (`nodejs_active_handles{type}`, ...) stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
    processRegistry = registry;
  }
  return processRegistry;
}

/**
 * The scheduler's Prometheus registry (prom-client). A family is made the first time it is
 * written, with the label names of that first write; later writes must use the same names.
 * Gauges that mirror state are refilled by `onCollect` functions run before each exposition.
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly process: Registry | undefined;
  private readonly families = new Map<string, Metric>();
  private readonly collectors: Array<() => void> = [];

  constructor(options: MetricsOptions = {}) {
    this.process = options.processMetrics ?? true ? processMetricsRegistry() : undefined;
  }

  /** Content type of `expose()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Adds `by` (default 1) to a counter series. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.family(name, () => new Counter({ name, help, labelNames: Object.keys(labels), registers: [this.registry] })).inc(labels, by);
  }

  /** Sets a gauge series. */
  set(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, () => new Gauge({ name, help, labelNames: Object.keys(labels), registers: [this.registry] })).set(labels, value);
  }

  /** Records one observation (seconds, for the latency histograms) in a histogram series. */
  observe(name: string, help: string, labels: Labels, value: number, buckets: readonly number[] = LATENCY_BUCKETS_SECONDS): void {
    this.family(name, () => new Histogram({ name, help, labelNames: Object.keys(labels), buckets: [...buckets], registers: [this.registry] }))
      .observe(labels, value);
  }

  /** Drops one series of a family (a workload that is gone); nothing when the family or series does not exist. */
  remove(name: string, labels: Labels): void {
    const f = this.families.get(name) as Counter | Gauge | Histogram | undefined;
    f?.remove(labels);
  }

  /** Drops every series of a gauge (before a collector refills it). */
  resetGauge(name: string): void {
    (this.families.get(name) as Gauge | undefined)?.reset();
  }

  /** Registers a function run before each exposition, to refresh gauges. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** The registry, and the process metrics unless left out, in Prometheus text format 0.0.4. */
  async expose(): Promise<string> {
    for (const c of this.collectors) c();
    // A registry made per exposition: this one's families are made as they are first written.
    return (this.process ? Registry.merge([this.process, this.registry]) : this.registry).metrics();
  }

  // prom-client itself refuses a label name the family was not made with.
  private family<M extends Metric>(name: string, make: () => M): M {
    let f = this.families.get(name);
    if (!f) {
      f = make();
      this.families.set(name, f);
    }
    return f as M;
  }
}

/** The leader lease as one scheduler sees it. */
export interface LeaseView {
  /** `leader` while this scheduler holds the lease by its own reckoning, else `follower`. */
  readonly role: 'leader' | 'follower';
  /** This scheduler's identity among the contenders. */
  readonly self: string;
  /** The current holder and its fencing token, when someone holds an unexpired lease. */
  readonly holder?: string;
  readonly token?: number;
  /** Seconds since the holder last renewed the lease. */
  readonly renewedSecondsAgo?: number;
}

/** Sets the lease gauges: role, the holder's fencing token and the time since its last renewal. */
export function setLeaseGauges(metrics: Metrics, lease: LeaseView): void {
  metrics.resetGauge('meridian_lease_leader');
  metrics.set('meridian_lease_leader', 'Whether this scheduler holds the leader lease (1) or follows (0).', { self: lease.self, holder: lease.holder ?? '' }, lease.role === 'leader' ? 1 : 0);
  metrics.set('meridian_lease_token', 'Fencing token of the current leader lease (0: nobody holds it).', {}, lease.token ?? 0);
  metrics.set('meridian_lease_renewed_seconds_ago', 'Seconds since the lease holder last renewed the lease.', {}, lease.renewedSecondsAgo ?? 0);
}
