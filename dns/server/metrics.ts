import { rcodeName, typeName } from '../wire/constants';
import type { WorkloadStore } from '../answer/store';
import { TCP_CLOSE_REASONS, type TcpStats } from './tcp';
import { LOCATION_VIA_NAMES } from '../answer/locate';
import { channelOf, layerOf, PROVENANCE_CODES } from '../geoip';

export { LOCATION_VIA } from '../answer/locate';

/** One query in this many is timed for the latency histogram (reading the clock costs more than a fast answer). */
export const LATENCY_SAMPLE_EVERY = 8;

/** Upper bounds of the latency histogram, in seconds (Prometheus convention). */
export const LATENCY_BUCKETS_SECONDS = Object.freeze([0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05]);


/** Counters of the server; plain typed arrays so the hot path only increments numbers. */
export class DnsMetrics {
  /** Queries by QTYPE (index = type, 0..65535). */
  readonly queriesByType = new Float64Array(65536);
  /** Responses by rcode (including extended rcodes up to 4095). */
  readonly responsesByRcode = new Float64Array(4096);
  /** Answers by the way the location was learnt (`LOCATION_VIA`). */
  readonly locationVia = new Float64Array(3);
  /** Workload answers by the provenance code (layer and channel) of the range that decided. */
  readonly answersByProvenance = new Float64Array(PROVENANCE_CODES);
  /** Latency histogram counts per bucket (+Inf last) and the sum in seconds. */
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  latencySum = 0;
  latencyCount = 0;
  /** Responses sent with TC=1 because they did not fit. */
  truncated = 0;
  /** Responses dropped or slipped by response-rate limiting. */
  rrlDropped = 0;
  rrlSlipped = 0;
  /** Packets not answered at all (responses, garbage shorter than a header). */
  ignored = 0;
  /** Messages handled per transport. */
  udp = 0;
  tcp = 0;
  /** Replies the UDP transport could not send; set by the server once it listens. */
  udpSendDropped: () => number = () => 0;
  /** TCP connection counts; set by the server once it listens. */
  tcpStats: () => TcpStats = () => ({ open: 0, closed: TCP_CLOSE_REASONS.map(() => 0) });

  /** Records one handled query's latency in seconds. */
  observeLatency(seconds: number): void {
    const b = LATENCY_BUCKETS_SECONDS;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.latencyBuckets[i]!++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** Counts one workload answer: how the client was located and what decided (provenance code). */
  countAnswer(via: number, provenance: number): void {
    this.locationVia[via]!++;
    this.answersByProvenance[provenance]!++;
  }

  /** Prometheus text exposition (version 0.0.4). */
  render(store: WorkloadStore): string {
    const lines: string[] = [];
    const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    lines.push('# HELP meridian_dns_queries_total DNS queries by query type.', '# TYPE meridian_dns_queries_total counter');
    this.queriesByType.forEach((v, t) => { if (v) lines.push(`meridian_dns_queries_total{qtype="${typeName(t)}"} ${v}`); });
    lines.push('# HELP meridian_dns_responses_total DNS responses by rcode.', '# TYPE meridian_dns_responses_total counter');
    this.responsesByRcode.forEach((v, r) => { if (v) lines.push(`meridian_dns_responses_total{rcode="${rcodeName(r)}"} ${v}`); });
    lines.push('# HELP meridian_dns_answers_total Workload answers by workload, answering region and the GeoIP layer that decided (overlay, dataset, cache, static, none).',
      '# TYPE meridian_dns_answers_total counter');
    for (const w of store.answers()) {
      // Codes of one layer (several channels) add up under one source label.
      const byLabel = new Map<string, number>();
      w.regionCounts.forEach((v, i) => {
        if (!v) return;
        const slot = Math.floor(i / PROVENANCE_CODES);
        const region = slot < w.endpoints.regions.length ? w.decisionLabel(slot) : 'fail-open';
        const key = `workload="${esc(w.endpoints.name)}",region="${esc(region)}",source="${layerOf(i % PROVENANCE_CODES)}"`;
        byLabel.set(key, (byLabel.get(key) ?? 0) + v);
      });
      for (const [k, v] of byLabel) lines.push(`meridian_dns_answers_total{${k}} ${v}`);
    }
    lines.push('# HELP meridian_dns_location_source_total Workload answers by how the client was located.', '# TYPE meridian_dns_location_source_total counter');
    this.locationVia.forEach((v, i) => lines.push(`meridian_dns_location_source_total{via="${LOCATION_VIA_NAMES[i]}"} ${v}`));
    lines.push('# HELP meridian_dns_geo_source_total Workload answers by the GeoIP layer and channel of the range that decided.',
      '# TYPE meridian_dns_geo_source_total counter');
    this.answersByProvenance.forEach((v, code) => {
      if (v) lines.push(`meridian_dns_geo_source_total{source="${layerOf(code)}",channel="${channelOf(code)}"} ${v}`);
    });
    lines.push('# HELP meridian_dns_truncated_total Responses sent with TC=1.', '# TYPE meridian_dns_truncated_total counter', `meridian_dns_truncated_total ${this.truncated}`);
    lines.push('# HELP meridian_dns_rrl_total Responses withheld by response-rate limiting.', '# TYPE meridian_dns_rrl_total counter',
      `meridian_dns_rrl_total{action="drop"} ${this.rrlDropped}`, `meridian_dns_rrl_total{action="slip"} ${this.rrlSlipped}`);
    lines.push('# HELP meridian_dns_ignored_total Packets not answered (responses, runts).', '# TYPE meridian_dns_ignored_total counter', `meridian_dns_ignored_total ${this.ignored}`);
    lines.push('# HELP meridian_dns_messages_total Messages handled by transport.', '# TYPE meridian_dns_messages_total counter',
      `meridian_dns_messages_total{transport="udp"} ${this.udp}`, `meridian_dns_messages_total{transport="tcp"} ${this.tcp}`);
    lines.push('# HELP meridian_dns_udp_send_dropped_total UDP replies the kernel did not take (full send buffer).',
      '# TYPE meridian_dns_udp_send_dropped_total counter', `meridian_dns_udp_send_dropped_total ${this.udpSendDropped()}`);
    const tcp = this.tcpStats();
    lines.push('# HELP meridian_dns_tcp_connections Open TCP connections.', '# TYPE meridian_dns_tcp_connections gauge', `meridian_dns_tcp_connections ${tcp.open}`);
    lines.push('# HELP meridian_dns_tcp_closed_total TCP connections the server closed or refused, by reason.', '# TYPE meridian_dns_tcp_closed_total counter',
      ...TCP_CLOSE_REASONS.map((r, i) => `meridian_dns_tcp_closed_total{reason="${r}"} ${tcp.closed[i] ?? 0}`));
    lines.push(`# HELP meridian_dns_query_duration_seconds Time to build a response, of one query in ${LATENCY_SAMPLE_EVERY} (the count is of those timed).`, '# TYPE meridian_dns_query_duration_seconds histogram');
    let cum = 0;
    LATENCY_BUCKETS_SECONDS.forEach((b, i) => {
      cum += this.latencyBuckets[i]!;
      lines.push(`meridian_dns_query_duration_seconds_bucket{le="${b}"} ${cum}`);
    });
    cum += this.latencyBuckets[LATENCY_BUCKETS_SECONDS.length]!;
    lines.push(`meridian_dns_query_duration_seconds_bucket{le="+Inf"} ${cum}`);
    lines.push(`meridian_dns_query_duration_seconds_sum ${this.latencySum}`, `meridian_dns_query_duration_seconds_count ${this.latencyCount}`);
    lines.push('# HELP meridian_dns_workloads Workload names served.', '# TYPE meridian_dns_workloads gauge', `meridian_dns_workloads ${store.answers().length}`);
    return `${lines.join('\n')}\n`;
  }
}
