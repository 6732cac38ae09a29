// perf_event_open(2) through libc's syscall(): struct perf_event_attr as koffi sees it, the syscall
// number per architecture, and the constants of include/uapi/linux/perf_event.h that tsbpf uses.
// The runtime opens sampling events with it, and `tsbpf doctor` its privilege probes.
import koffi from 'koffi';
import { NotSupportedError } from '../../errors.js';
import { libc } from './libc.js';

/** __NR_perf_event_open per architecture (arch/<arch>/entry/syscalls, include/uapi/asm-generic/unistd.h). */
const perfEventOpenNumbers: Record<string, number> = {
  x64: 298,
  arm64: 241,
  riscv64: 241,
  loong64: 241,
  s390x: 331,
  ppc64: 319,
};

/** enum perf_type_id. */
export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;

/** enum perf_sw_ids. */
export const PERF_COUNT_SW_BPF_OUTPUT = 10n;

/** enum perf_event_sample_format. */
export const PERF_SAMPLE_RAW = 1n << 10n;

/** Bits of the attr's flags word (the bitfield after read_format, in declaration order). */
export const ATTR_FLAG_DISABLED = 1n << 0n;
export const ATTR_FLAG_FREQ = 1n << 10n;

/** perf_event_open's flags argument. */
export const PERF_FLAG_PID_CGROUP = 1 << 2;
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

/** PERF_ATTR_SIZE_VER5: the fields of PerfEventAttr and no more. */
export const PERF_ATTR_SIZE = 112;

/**
 * struct perf_event_attr up to PERF_ATTR_SIZE_VER5. sample_period shares a union with
 * sample_freq (ATTR_FLAG_FREQ says which), config1 one with uprobe_path (a string for the uprobe PMU).
 */
export const PerfEventAttr = koffi.struct('tsbpf_perf_event_attr', {
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
});

/** The attr fields a caller sets; the rest are zero. */
export interface PerfEventAttrFields {
  type: number;
  config?: bigint;
  sample_period?: bigint;
  sample_type?: bigint;
  flags?: bigint;
  wakeup_events?: number;
  config1?: string | null;
}

/** Whether this process can call perf_event_open (a known architecture, 64-bit pointers). */
export function perfEventOpenNumber(): number {
  const number = perfEventOpenNumbers[process.arch];
  if (number === undefined || koffi.sizeof('void *') !== 8) {
    throw new NotSupportedError(`perf_event_open is not wired up for ${process.arch} in tsbpf`, {
      hint: `tsbpf knows its syscall number on ${Object.keys(perfEventOpenNumbers).join(', ')}`,
    });
  }
  return number;
}

/**
 * perf_event_open(attr, pid, cpu, -1, flags | PERF_FLAG_FD_CLOEXEC): the new fd, or minus the errno.
 * pid is a process id, -1 for every process, or a cgroup directory's fd with PERF_FLAG_PID_CGROUP.
 */
export function perfEventOpen(attr: PerfEventAttrFields, pid: number, cpu: number, flags = 0): number {
  const number = perfEventOpenNumber();
  const full = {
    config: 0n,
    sample_period: 0n,
    sample_type: 0n,
    read_format: 0n,
    flags: 0n,
    wakeup_events: 0,
    bp_type: 0,
    config1: null,
    config2: 0n,
    branch_sample_type: 0n,
    sample_regs_user: 0n,
    sample_stack_user: 0,
    clockid: 0,
    sample_regs_intr: 0n,
    aux_watermark: 0,
    sample_max_stack: 0,
    reserved: 0,
    ...attr,
    size: PERF_ATTR_SIZE,
  };
  const fd = Number(
    libc().syscall(
      number,
      koffi.pointer(PerfEventAttr),
      full,
      'int',
      pid,
      'int',
      cpu,
      'int',
      -1,
      'unsigned long',
      flags | PERF_FLAG_FD_CLOEXEC,
    ),
  );
  return fd < 0 ? -koffi.errno() : fd;
}
