// What this exporter publishes, read from the program's maps at each scrape:
//   sysstats_syscalls_total{comm}            system calls per process name (a counter)
//   sysstats_syscall_latency_seconds         every system call's latency (a histogram)
// Add a metric here: a map, how its key becomes labels, how its value becomes a number.

import type { MapMetric } from 'tsbpf/metrics';
import { log2Buckets } from 'tsbpf/metrics';
import type { SysstatsObjects } from './sysstats.js';

export function sysstatsMetrics(objs: SysstatsObjects): MapMetric[] {
  return [
    {
      kind: 'counter',
      name: 'sysstats_syscalls_total',
      help: 'System calls made, per process name.',
      map: objs.maps.counts,
      // Keyed by pid in the kernel, labelled by name here: processes of one name add up, and
      // past 1000 names the rest are counted under comm="other" (maxSeries).
      labelNames: ['comm'],
      labels: (_pid, stats) => ({ comm: stats.comm }),
      value: (stats) => stats.syscalls,
      maxSeries: 1000,
    },
    {
      kind: 'histogram',
      name: 'sysstats_syscall_latency_seconds',
      help: 'Time from system call entry to exit.',
      map: objs.maps.latency, // per-CPU: the CPUs' histograms are added
      buckets: log2Buckets(32, { unit: 1e-6 }), // slot n: [2^n, 2^(n+1)) microseconds
      slots: (hist) => hist.slots,
      sum: (hist) => Number(hist.sumNs) / 1e9,
    },
  ];
}
