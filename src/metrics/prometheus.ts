// Map metrics in a prom-client registry. Each metric is a prom-client "custom metric" whose
// get() reads its map: the map is read when Prometheus scrapes, never on a timer, so a scrape
// sees the kernel's counts as they are and an idle exporter costs nothing.

import type { Registry } from 'prom-client';
import { cumulativeBuckets } from './histogram.js';
import { importOptional } from './optional.js';
import {
  checkMetric,
  collectHistograms,
  collectValues,
  defaultMaxSeries,
  type MapMetric,
  SeriesCap,
} from './series.js';

type PromClient = typeof import('prom-client');

/** prom-client, or a ToolchainError saying `npm install prom-client`. */
export function loadPromClient(): Promise<PromClient> {
  return importOptional<PromClient>('prom-client', 'Prometheus metrics (tsbpf/metrics)');
}

interface PromValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** The object prom-client's Registry calls at each scrape (what its own Gauge.get() returns). */
function promMetric(metric: MapMetric) {
  const cap = new SeriesCap(metric.maxSeries ?? defaultMaxSeries);
  return {
    name: metric.name,
    help: metric.help,
    type: metric.kind,
    aggregator: 'sum' as const,
    reset() {},
    async get() {
      const values: PromValue[] = [];
      if (metric.kind === 'histogram') {
        for (const sample of collectHistograms(metric, cap)) {
          for (const [le, count] of cumulativeBuckets(sample.counts, metric.buckets)) {
            values.push({
              value: count,
              labels: { ...sample.labels, le },
              metricName: `${metric.name}_bucket`,
            });
          }
          values.push({ value: sample.sum, labels: sample.labels, metricName: `${metric.name}_sum` });
          values.push({ value: sample.count, labels: sample.labels, metricName: `${metric.name}_count` });
        }
      } else {
        for (const sample of collectValues(metric, cap)) values.push(sample);
      }
      return { name: metric.name, help: metric.help, type: metric.kind, aggregator: 'sum', values };
    },
  };
}

/**
 * Registers each map metric in `registry` (prom-client's): counters and gauges from map values,
 * histograms from slot arrays, all read at scrape time. Returns the registry.
 */
export function registerMapMetrics(registry: Registry, metrics: readonly MapMetric[]): Registry {
  for (const metric of metrics) checkMetric(metric);
  for (const metric of metrics) {
    registry.registerMetric(promMetric(metric) as unknown as Parameters<Registry['registerMetric']>[0]);
  }
  return registry;
}

/** A new prom-client Registry holding `metrics` (prom-client loaded on demand). */
export async function prometheusRegistry(metrics: readonly MapMetric[]): Promise<Registry> {
  const prom = await loadPromClient();
  return registerMapMetrics(new prom.Registry(), metrics);
}
