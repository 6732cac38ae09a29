// perf_event_open() probes that attach nothing: whether this process may open the uprobe PMU (what
// uprobe and uretprobe programs attach through) and a BPF output event (what a perf event array's
// reader opens on every CPU). Both are opened and closed at once.

import { readFileSync } from 'node:fs';
import { libc } from '../runtime/ffi/libc.js';
import {
  ATTR_FLAG_DISABLED,
  PERF_COUNT_SW_BPF_OUTPUT,
  PERF_SAMPLE_RAW,
  PERF_TYPE_SOFTWARE,
  type PerfEventAttrFields,
  perfEventOpen,
} from '../runtime/ffi/perf-event.js';

/** Opens and closes a perf event on CPU 0 for every process; 0 on success, else the errno. */
function tryOpen(attr: PerfEventAttrFields): number {
  const fd = perfEventOpen(attr, -1, 0);
  if (fd < 0) return -fd;
  libc().close(fd);
  return 0;
}

/**
 * Whether the uprobe PMU lets this process in: a uprobe on a path that does not exist, so that
 * nothing is ever probed. The PMU checks the caller's privilege first (EACCES) and only then
 * looks the path up (ENOENT): ENOENT means a real uprobe would have been allowed.
 * Returns the errno, or undefined when the kernel has no uprobe PMU.
 */
export function tryUprobePmu(devices = '/sys/bus/event_source/devices'): number | undefined {
  let type: number;
  try {
    type = Number.parseInt(readFileSync(`${devices}/uprobe/type`, 'utf8'), 10);
  } catch {
    return undefined;
  }
  return tryOpen({ type, config1: '/nonexistent/tsbpf-doctor-uprobe-probe', flags: ATTR_FLAG_DISABLED });
}

/** Whether this process may open the BPF output event a perf event array reader opens per CPU. */
export function tryBpfOutputEvent(): number {
  return tryOpen({
    type: PERF_TYPE_SOFTWARE,
    config: PERF_COUNT_SW_BPF_OUTPUT,
    sample_type: PERF_SAMPLE_RAW,
    sample_period: 1n,
    wakeup_events: 1,
  });
}
