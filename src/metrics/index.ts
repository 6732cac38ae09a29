// tsbpf/metrics: counters, gauges and histograms read from eBPF maps, for Prometheus (prom-client)
// and OpenTelemetry (OTLP/HTTP). The maps are read when a scrape or an export asks, the label
// sets are capped, and the libraries are optional peers loaded on first use.

export { linearBuckets, log2Buckets, type SlotBuckets } from './histogram.js';
export { CgroupPaths, cgroup2Root, enumLabel } from './labels.js';
export { type EventLogs, type EventLogsOptions, eventAttributes, exportEventsAsLogs } from './logs.js';
export { mapMetricProducer, type OtlpMetrics, type OtlpMetricsOptions, startOtlpMetrics } from './otel.js';
export type { OtlpEndpoint } from './otlp.js';
export { loadPromClient, prometheusRegistry, registerMapMetrics } from './prometheus.js';
export {
  defaultMaxSeries,
  type HistogramMetric,
  type LabelValue,
  type MapMetric,
  otherLabel,
  type ValueMetric,
} from './series.js';
export { type MetricsServer, type MetricsServerOptions, serveMetrics } from './server.js';
export type { MapSource } from './source.js';
