// A load the kernel refused with EINVAL because it has no such program type at all (an older
// kernel: its bpf_prog_load rejects a type past its own list with EINVAL, as it does a bad
// program), told apart by libbpf's probe of the type and said in words with the kernel that
// added it.
import { readKernelBtf } from '../btf/kernel.js';
import { NotSupportedError } from '../errors.js';
import { EINVAL } from './errors.js';
import { libbpf } from './ffi/libbpf.js';

// enum bpf_prog_type (include/uapi/linux/bpf.h) of the newer kinds, the SEC() name and the
// Linux release that added each (its uapi history).
const newerTypes = new Map<number, { kind: string; since: string }>([
  [22, { kind: 'flow_dissector', since: '4.20' }],
  [29, { kind: 'lsm', since: '5.7' }],
  [30, { kind: 'sk_lookup', since: '5.9' }],
  [31, { kind: 'syscall', since: '5.14' }],
  [32, { kind: 'netfilter', since: '6.4' }],
]);

/** The NotSupportedError for a load refused because the kernel lacks the program type, else undefined. */
export function missingProgTypeError(
  what: string,
  errno: number,
  program: { type: number; section: string },
): NotSupportedError | undefined {
  const known = newerTypes.get(program.type);
  if (errno !== EINVAL || !known) return undefined;
  // 1: the kernel has the type; 0: it has not; < 0: this libbpf cannot probe it (libbpf 1.1 does
  // not know netfilter), and then the kernel's BTF says whether its enum bpf_prog_type names it.
  const probed = libbpf().libbpf_probe_bpf_prog_type(program.type, null) as number;
  if (probed > 0 || (probed < 0 && kernelNamesProgType(program.type) !== false)) return undefined;
  return new NotSupportedError(
    `${what}: this kernel has no ${known.kind} programs (program type ${program.type}), which SEC("${program.section}") is`,
    {
      hint: `${known.kind} programs need Linux ${known.since} or newer; \`tsbpf doctor\` lists the program types this kernel runs`,
    },
  );
}

/** Whether the kernel's enum bpf_prog_type has `type`; undefined without readable kernel BTF. */
function kernelNamesProgType(type: number): boolean | undefined {
  try {
    const btf = readKernelBtf();
    for (let id = 1; id < btf.count; id++) {
      const t = btf.type(id);
      if (t.kind === 'enum' && t.name === 'bpf_prog_type')
        // __MAX_BPF_PROG_TYPE is the count, one past the kernel's last type.
        return t.values.some((v) => Number(v.value) === type && !v.name.startsWith('__MAX'));
    }
  } catch {
    // no kernel BTF: unknown
  }
  return undefined;
}
