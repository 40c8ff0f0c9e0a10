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
