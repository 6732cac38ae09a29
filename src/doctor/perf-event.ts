// perf_event_open() probes that attach nothing: whether this process may open the uprobe PMU (what
// uprobe and uretprobe programs attach through) and a BPF output event (what a perf event array's
// reader opens on every CPU). Both are opened and closed at once.

import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { type Libc, loadLibc } from './libc.js';

/** __NR_perf_event_open per architecture (arch/<arch>/entry/syscalls, include/uapi/asm-generic/unistd.h). */
const perfEventOpenNumbers: Record<string, number> = {
  x64: 298,
  arm64: 241,
  riscv64: 241,
  loong64: 241,
  s390x: 331,
  ppc64: 319,
};

/** From include/uapi/linux/perf_event.h. */
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_BPF_OUTPUT = 10n;
const PERF_SAMPLE_RAW = 1n << 10n;
const PERF_FLAG_FD_CLOEXEC = 8;
/** PERF_ATTR_SIZE_VER5: the fields below and no more. */
const ATTR_SIZE = 112;

interface Perf extends Libc {
  attr: koffi.IKoffiCType;
}

let perf: Perf | undefined;

function load(): Perf {
  if (!perf) {
    perf = {
      ...loadLibc(),
      // struct perf_event_attr up to PERF_ATTR_SIZE_VER5; config1 is uprobe_path for the uprobe PMU.
      attr: koffi.struct('tsbpf_doctor_perf_event_attr', {
        type: 'uint32',
        size: 'uint32',
        config: 'uint64',
        sample_period: 'uint64',
        sample_type: 'uint64',
        read_format: 'uint64',
        flags: 'uint64',
        wakeup_events: 'uint32',
        bp_type: 'uint32',
        config1: 'const char *',
        config2: 'uint64',
        branch_sample_type: 'uint64',
        sample_regs_user: 'uint64',
        sample_stack_user: 'uint32',
        clockid: 'int32',
        sample_regs_intr: 'uint64',
        aux_watermark: 'uint32',
        sample_max_stack: 'uint16',
        reserved: 'uint16',
      }),
    };
  }
  return perf;
}

/** Opens and closes a perf event on CPU 0 for every process; 0 on success, else the errno. */
function tryOpen(attr: Record<string, unknown>): number {
  const number = perfEventOpenNumbers[process.arch];
  if (number === undefined || koffi.sizeof('void *') !== 8) {
    throw new Error(`not tested on ${process.arch}`);
  }
  const p = load();
  const fd = Number(
    p.syscall(
      number,
      koffi.pointer(p.attr),
      { size: ATTR_SIZE, ...attr },
      'int',
      -1,
      'int',
      0,
      'int',
      -1,
      'unsigned long',
      PERF_FLAG_FD_CLOEXEC,
    ),
  );
  if (fd < 0) return koffi.errno();
  p.close(fd);
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
  return tryOpen({ type, config1: '/nonexistent/tsbpf-doctor-uprobe-probe', flags: 1n /* disabled */ });
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
