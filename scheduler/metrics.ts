/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface Family {
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly series: Map<string, number>;
}

/** A minimal Prometheus registry: counters and gauges in the text exposition format 0.0.4. */
export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => void> = [];

  /** Adds `by` (default 1) to a counter series. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const s = this.family(name, 'counter', help).series;
    const key = labelText(labels);
    s.set(key, (s.get(key) ?? 0) + by);
  }

  /** Sets a gauge series. */
  set(name: string, help: string, labels: Labels, value: number): void {
    this.family(name, 'gauge', help).series.set(labelText(labels), value);
  }

  /** Drops every series of a gauge (before a collector refills it). */
  resetGauge(name: string): void {
    this.families.get(name)?.series.clear();
  }

  /** Registers a function run before each exposition, to refresh gauges. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** The registry in Prometheus text format. */
  expose(): string {
    for (const c of this.collectors) c();
    const out: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [labels, v] of f.series) out.push(`${name}${labels} ${v}`);
    }
    return out.join('\n') + '\n';
  }

  private family(name: string, type: Family['type'], help: string): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { type, help, series: new Map() };
      this.families.set(name, f);
    }
    return f;
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
