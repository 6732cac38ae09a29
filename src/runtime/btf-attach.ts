// Loads of programs that attach through kernel BTF (fentry, fexit, fmod_ret, lsm, tp_btf, freplace)
// that fail for reasons of the kernel, not of the program, said in words: a target function the
// kernel does not have, and a kernel that refuses BPF trampolines. Judged by the program's type and
// section (what libbpf derived its expected attach type from), never by its name.
import { NotSupportedError, type TsbpfError } from '../errors.js';
import { EPERM, ESRCH, missingCapabilities } from './errors.js';

// enum bpf_prog_type (include/uapi/linux/bpf.h): TRACING, EXT, LSM.
const btfAttachTypes = new Set([26, 28, 29]);
// libbpf.c section_defs: SEC_ATTACH_BTF sections that name a kernel function, hook or tracepoint,
// and of them those whose programs run from a BPF trampoline (tp_btf runs without one).
const btfTargetKinds = /^(fentry|fexit|fmod_ret|lsm|tp_btf|freplace)(\.s)?(\/|$)/;
const trampolineKinds = new Set(['fentry', 'fexit', 'fmod_ret', 'lsm', 'freplace']);

export interface LoadedProgramKind {
  name: string;
  type: number;
  section: string;
}

/** The error for a BTF-attached program's failed load, or undefined when it is not one of these. */
export function btfAttachLoadError(
  what: string,
  errno: number,
  libbpfLines: string[],
  program: LoadedProgramKind,
): TsbpfError | undefined {
  const kind = btfTargetKinds.exec(program.section)?.[1];
  if (!btfAttachTypes.has(program.type) || !kind) return undefined;
  if (errno === ESRCH) {
    // libbpf.c (libbpf_find_attach_btf_id): "prog 'P': failed to find kernel BTF type ID of 'X': -3"
    const line = libbpfLines.find((l) => l.includes('failed to find kernel BTF type ID of'));
    const target = line && /BTF type ID of '([^']+)'/.exec(line)?.[1];
    if (!target || !line) return undefined;
    const thing = kind === 'tp_btf' ? 'raw tracepoint' : kind === 'lsm' ? 'LSM hook' : 'function';
    return new NotSupportedError(
      `${what}: this kernel has no ${thing} ${target} for SEC("${program.section}") to attach to\n  ${line}`,
      {
        hint:
          `check the name in the kernel's BTF: \`bpftool btf dump file /sys/kernel/btf/vmlinux | grep "'${target}'"\`; ` +
          'static or inlined functions, and those of modules not loaded, have no entry there',
      },
    );
  }
  if (
    errno === EPERM &&
    trampolineKinds.has(kind) &&
    missingCapabilities(['CAP_BPF', 'CAP_PERFMON']).length === 0
  ) {
    return new NotSupportedError(
      `${what}: the kernel refused the ${kind} program (SEC("${program.section}")) with EPERM although the process has CAP_BPF and CAP_PERFMON: this kernel does not run BPF trampolines`,
      {
        hint:
          'the kernel is built without what trampolines need (CONFIG_FUNCTION_TRACER with ftrace direct calls), or a security module refuses them; ' +
          'use a tracepoint or raw_tp program (or a kprobe, where the kernel has kprobes)',
      },
    );
  }
  return undefined;
}
