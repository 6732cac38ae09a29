// A load the kernel refused with EINVAL because it has no such program or map type at all (an
// older kernel: bpf_prog_load and map_create reject a type past their own list with EINVAL, as
// they do a bad program or bad map attributes), told apart by libbpf's probe of the type, or the
// kernel's BTF where this libbpf cannot probe it, and said in words with the kernel that added it.
// Likewise a program of a newer attach type (a session program on a kernel before sessions: the
// verifier refuses its session kfuncs) on a kernel whose BTF does not name the type.
import { release } from 'node:os';
import { readKernelBtf } from '../btf/kernel.js';
import { MAP_TYPE_NAMES } from '../btf/maps.js';
import { NotSupportedError } from '../errors.js';
import { EINVAL } from './errors.js';
import { libbpf } from './ffi/libbpf.js';

// enum bpf_prog_type (include/uapi/linux/bpf.h) of the newer kinds, the SEC() name and the
// Linux release that added each (its uapi history).
const newerProgTypes = new Map<number, { kind: string; since: string }>([
  [22, { kind: 'flow_dissector', since: '4.20' }],
  [29, { kind: 'lsm', since: '5.7' }],
  [30, { kind: 'sk_lookup', since: '5.9' }],
  [31, { kind: 'syscall', since: '5.14' }],
  [32, { kind: 'netfilter', since: '6.4' }],
]);

// enum bpf_map_type of the newer kinds and the Linux release that added each (its uapi history).
const newerMapTypes = new Map<number, string>([
  [21, '4.20'], // percpu_cgroup_storage
  [22, '4.20'], // queue
  [23, '4.20'], // stack
  [24, '5.2'], // sk_storage
  [25, '5.4'], // devmap_hash
  [26, '5.6'], // struct_ops
  [27, '5.8'], // ringbuf
  [28, '5.10'], // inode_storage
  [29, '5.11'], // task_storage
  [30, '5.16'], // bloom_filter
  [31, '6.1'], // user_ringbuf
  [32, '6.2'], // cgrp_storage
  [33, '6.9'], // arena
  [34, '6.19'], // insn_array
]);

// enum bpf_attach_type of the newer kinds a program is loaded with (its expected attach type), the
// SEC() kind and the Linux release that added each.
const newerAttachTypes = new Map<number, { kind: string; since: string }>([
  [42, { kind: 'kprobe.multi', since: '5.18' }],
  [46, { kind: 'tcx', since: '6.6' }],
  [47, { kind: 'tcx', since: '6.6' }],
  [48, { kind: 'uprobe.multi', since: '6.6' }],
  ...[49, 50, 51, 52, 53].map((t) => [t, { kind: 'cgroup unix socket', since: '6.7' }] as const),
  [54, { kind: 'netkit', since: '6.7' }],
  [55, { kind: 'netkit', since: '6.7' }],
  [56, { kind: 'kprobe.session', since: '6.10' }],
  [57, { kind: 'uprobe.session', since: '6.13' }],
]);

/**
 * Whether a load that failed with `errno` failed for want of the type: `probed` is libbpf's probe
 * (1: the kernel has the type, 0: it has not, < 0: this libbpf cannot probe it, as libbpf 1.1
 * cannot netfilter programs or arena maps), `named` whether the kernel's BTF enum names the type
 * (undefined without readable kernel BTF), asked only where the probe cannot tell.
 */
export function lacksType(errno: number, probed: number, named: () => boolean | undefined): boolean {
  if (errno !== EINVAL || probed > 0) return false;
  return probed === 0 || named() === false;
}

/** The NotSupportedError for a load refused because the kernel lacks the program type, else undefined. */
export function missingProgTypeError(
  what: string,
  errno: number,
  program: { type: number; section: string },
): NotSupportedError | undefined {
  const known = newerProgTypes.get(program.type);
  if (!known || errno !== EINVAL) return undefined;
  const probed = libbpf().libbpf_probe_bpf_prog_type(program.type, null) as number;
  if (!lacksType(errno, probed, () => kernelEnumHas('bpf_prog_type', program.type))) return undefined;
  return new NotSupportedError(
    `${what}: this kernel has no ${known.kind} programs (program type ${program.type}), which SEC("${program.section}") is`,
    {
      hint: `${known.kind} programs need Linux ${known.since} or newer; \`tsbpf doctor\` lists the program types this kernel runs`,
    },
  );
}

/**
 * The NotSupportedError for a failed load of a program whose expected attach type the kernel's
 * BTF does not name (whatever the errno: it cannot run there), else undefined.
 */
export function missingAttachTypeError(
  what: string,
  program: { expectedAttachType: number; section: string },
): NotSupportedError | undefined {
  const known = newerAttachTypes.get(program.expectedAttachType);
  if (!known || kernelEnumHas('bpf_attach_type', program.expectedAttachType) !== false) return undefined;
  return new NotSupportedError(
    `${what}: this kernel has no ${known.kind} programs (attach type ${program.expectedAttachType}), which SEC("${program.section}") is`,
    {
      hint: `${known.kind} programs need Linux ${known.since} or newer; \`tsbpf doctor\` lists the newer features this kernel has`,
    },
  );
}

/** The NotSupportedError for a map the kernel could not create for want of its type, else undefined. */
export function missingMapTypeError(
  what: string,
  errno: number,
  map: { name: string; type: number },
): NotSupportedError | undefined {
  if (errno !== EINVAL) return undefined;
  const probed = libbpf().libbpf_probe_bpf_map_type(map.type, null) as number;
  if (!lacksType(errno, probed, () => kernelEnumHas('bpf_map_type', map.type))) return undefined;
  return mapTypeError(what, map, release());
}

/** The error itself, for a kernel `kernel` (os.release()) that lacks the map's type. */
export function mapTypeError(
  what: string,
  map: { name: string; type: number },
  kernel: string,
): NotSupportedError {
  const name = MAP_TYPE_NAMES[map.type];
  const type = name ? `BPF_MAP_TYPE_${name.toUpperCase()}` : undefined;
  const since = newerMapTypes.get(map.type);
  const needs =
    type && since
      ? `${type} needs Linux ${since} or newer (this kernel is ${kernel})`
      : `no Linux release tsbpf knows has map type ${map.type}: check the map's type in the C source`;
  return new NotSupportedError(
    `${what}: map ${map.name}: this kernel has no ${type ? `${type} maps (map type ${map.type})` : `map type ${map.type}`}`,
    {
      hint: `${needs}; or load without the map: turn its autocreate off before load (spec.maps.get('${map.name}').autocreate = false; in a generated loader spec.maps.<name>.autocreate) with autoload off for the programs that use it`,
    },
  );
}

/** Whether the kernel's BTF enum `enumName` has `value`; undefined without readable kernel BTF. */
function kernelEnumHas(enumName: string, value: number): boolean | undefined {
  try {
    const btf = readKernelBtf();
    for (let id = 1; id < btf.count; id++) {
      const t = btf.type(id);
      if (t.kind === 'enum' && t.name === enumName)
        // __MAX_BPF_*_TYPE is the count, one past the kernel's last one.
        return t.values.some((v) => Number(v.value) === value && !v.name.startsWith('__MAX'));
    }
  } catch {
    // no kernel BTF: unknown
  }
  return undefined;
}
