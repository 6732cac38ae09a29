// Map metrics for OpenTelemetry: a MetricProducer that reads the maps each time the SDK
// collects (the OTLP exporter's interval), and startOtlpMetrics() wiring it to the OTLP/HTTP
// exporter. The producer hands the SDK finished data points: slot histograms go out as explicit-
// bucket histograms with the slot bounds, which OpenTelemetry's instruments cannot express.

import type { MetricProducer, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { importOptional } from './optional.js';
import { exporterOptions, type OtlpEndpoint, serviceResource } from './otlp.js';
import {
  checkMetric,
  collectHistograms,
  collectValues,
  defaultMaxSeries,
  type MapMetric,
  SeriesCap,
} from './series.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type OtlpHttp = typeof import('@opentelemetry/exporter-metrics-otlp-http');
type Resources = typeof import('@opentelemetry/resources');

const usedFor = 'OpenTelemetry metrics (tsbpf/metrics)';
const scope = { name: 'tsbpf/metrics' };
/** ValueType.DOUBLE of @opentelemetry/api: map counts are exported as doubles, like prom-client's. */
const doubleValue = 1;

function hrNow(): [number, number] {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/**
 * A MetricProducer for a MetricReader's `metricProducers`: each collect reads every map once.
 * Counters are cumulative monotonic sums from the producer's creation.
 */
export async function mapMetricProducer(metrics: readonly MapMetric[]): Promise<MetricProducer> {
  for (const metric of metrics) checkMetric(metric);
  const sdk = await importOptional<SdkMetrics>('@opentelemetry/sdk-metrics', usedFor);
  const { resourceFromAttributes } = await importOptional<Resources>('@opentelemetry/resources', usedFor);
  const startTime = hrNow();
  const caps = new Map(metrics.map((m) => [m, new SeriesCap(m.maxSeries ?? defaultMaxSeries)]));
  return {
    async collect() {
      const endTime = hrNow();
      const errors: unknown[] = [];
      const data: ResourceMetrics['scopeMetrics'][number]['metrics'] = [];
      for (const metric of metrics) {
        const cap = caps.get(metric)!;
        const descriptor = { name: metric.name, description: metric.help, unit: '', valueType: doubleValue };
        const aggregationTemporality = sdk.AggregationTemporality.CUMULATIVE;
        try {
          if (metric.kind === 'histogram') {
            data.push({
              descriptor,
              aggregationTemporality,
              dataPointType: sdk.DataPointType.HISTOGRAM,
              dataPoints: collectHistograms(metric, cap).map((s) => ({
                startTime,
                endTime,
                attributes: s.labels,
                // One more count than boundaries: the values above the last bound (none, for slots).
                value: {
                  buckets: { boundaries: [...metric.buckets.bounds], counts: [...s.counts, 0] },
                  sum: s.sum,
                  count: s.count,
                },
              })),
            });
          } else {
            const dataPoints = collectValues(metric, cap).map((s) => ({
              startTime,
              endTime,
              attributes: s.labels,
              value: s.value,
            }));
            data.push(
              metric.kind === 'counter'
                ? {
                    descriptor,
                    aggregationTemporality,
                    dataPointType: sdk.DataPointType.SUM,
                    isMonotonic: true,
                    dataPoints,
                  }
                : { descriptor, aggregationTemporality, dataPointType: sdk.DataPointType.GAUGE, dataPoints },
            );
          }
        } catch (error) {
          errors.push(error);
        }
      }
      return {
        resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope, metrics: data }] },
        errors,
      };
    },
  };
}

/** `url` is the metrics endpoint, e.g. http://collector:4318/v1/metrics. */
export interface OtlpMetricsOptions extends OtlpEndpoint {
  metrics: readonly MapMetric[];
  /** How often to read the maps and export, in ms (default 60000). */
  intervalMs?: number;
}

export interface OtlpMetrics {
  /** Reads the maps and exports now. */
  flush(): Promise<void>;
  /** Exports a last time and stops. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Exports the map metrics over OTLP/HTTP (JSON) every `intervalMs`. */
export async function startOtlpMetrics(options: OtlpMetricsOptions): Promise<OtlpMetrics> {
  const producer = await mapMetricProducer(options.metrics);
  const sdk = await importOptional<SdkMetrics>('@opentelemetry/sdk-metrics', usedFor);
  const { OTLPMetricExporter } = await importOptional<OtlpHttp>(
    '@opentelemetry/exporter-metrics-otlp-http',
    usedFor,
  );
  const exporter = new OTLPMetricExporter(exporterOptions(options));
  const reader = new sdk.PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: options.intervalMs ?? 60_000,
    metricProducers: [producer],
  });
  const provider = new sdk.MeterProvider({
    readers: [reader],
    ...(await serviceResource(options, usedFor)),
  });
  const close = () => provider.shutdown();
  return { flush: () => reader.forceFlush(), close, [Symbol.asyncDispose]: close };
}
