// Which newer program, map and link kinds this machine's libbpf and kernel allow. The libbpf side
// is read from the loaded libbpf's symbols (the function tsbpf would call, or, for a kind that adds
// no function, one exported by the same release), the kernel side from its BTF (the enum constant
// that names the attach type, link type or command in include/uapi/linux/bpf.h): never guessed from
// a version string. docs/platforms.md shows the same table; test/platforms/features.test.ts keeps
// them alike.
import type { Btf } from '../btf/btf.js';
import { type CheckResult, check } from './types.js';

export interface Feature {
  id: string;
  /** What it is, as docs/platforms.md's table names it. */
  title: string;
  /** The libbpf release that added it, and the symbol that shows a libbpf has it. */
  libbpf: string;
  symbol: string;
  /** The kernel release that added it, and the enum constant in its BTF that shows it. */
  kernel: string;
  constant: string;
  /**
   * Kernel support its constant does not show: kprobe-based links need kprobes built in
   * (a kernel without CONFIG_KPROBES still names BPF_TRACE_KPROBE_MULTI).
   */
  needsKprobes?: true;
}

export const FEATURES: readonly Feature[] = [
  {
    id: 'kprobe-multi',
    title: 'kprobe-multi links',
    libbpf: '0.8',
    symbol: 'bpf_program__attach_kprobe_multi_opts',
    kernel: '5.18',
    constant: 'BPF_TRACE_KPROBE_MULTI',
    needsKprobes: true,
  },
  {
    id: 'user-ringbuf',
    title: 'user ring buffer maps',
    libbpf: '1.0',
    symbol: 'user_ring_buffer__new',
    kernel: '6.1',
    constant: 'BPF_MAP_TYPE_USER_RINGBUF',
  },
  {
    id: 'netfilter',
    title: 'netfilter links',
    // attachNetfilter makes the link with bpf(BPF_LINK_CREATE) itself, so libbpf 1.3's
    // bpf_program__attach_netfilter is not needed: any libbpf 1.x loads the program.
    libbpf: '1.0',
    symbol: 'bpf_link_create',
    kernel: '6.4',
    constant: 'BPF_NETFILTER',
  },
  {
    id: 'tcx',
    title: 'tcx links',
    libbpf: '1.3',
    symbol: 'bpf_program__attach_tcx',
    kernel: '6.6',
    constant: 'BPF_TCX_INGRESS',
  },
  {
    id: 'uprobe-multi',
    title: 'uprobe-multi links',
    libbpf: '1.3',
    symbol: 'bpf_program__attach_uprobe_multi',
    kernel: '6.6',
    constant: 'BPF_TRACE_UPROBE_MULTI',
  },
  {
    id: 'netkit',
    title: 'netkit links',
    libbpf: '1.3',
    symbol: 'bpf_program__attach_netkit',
    kernel: '6.7',
    constant: 'BPF_NETKIT_PRIMARY',
  },
  {
    id: 'token',
    title: 'BPF tokens',
    libbpf: '1.4',
    symbol: 'bpf_token_create',
    kernel: '6.9',
    constant: 'BPF_TOKEN_CREATE',
  },
  {
    id: 'kprobe-session',
    title: 'kprobe session programs',
    libbpf: '1.5',
    // kprobe.session adds no function (a kprobe_multi_opts field); this one came in the same release.
    symbol: 'ring_buffer__consume_n',
    kernel: '6.10',
    constant: 'BPF_TRACE_KPROBE_SESSION',
    needsKprobes: true,
  },
  {
    id: 'sockmap-link',
    title: 'sockmap links',
    libbpf: '1.5',
    symbol: 'bpf_program__attach_sockmap',
    kernel: '6.10',
    constant: 'BPF_LINK_TYPE_SOCKMAP',
  },
  {
    id: 'uprobe-session',
    title: 'uprobe session programs',
    libbpf: '1.6',
    // uprobe.session adds no function either; bpf_prog_stream_read came in the same release.
    symbol: 'bpf_prog_stream_read',
    kernel: '6.13',
    constant: 'BPF_TRACE_UPROBE_SESSION',
  },
  {
    id: 'streams',
    title: 'BPF streams',
    libbpf: '1.6',
    symbol: 'bpf_prog_stream_read',
    kernel: '6.17',
    constant: 'BPF_PROG_STREAM_READ_BY_FD',
  },
];

export interface FeatureSupport {
  id: string;
  /** The loaded libbpf exports the feature's symbol; undefined when no libbpf could be loaded. */
  libbpf: boolean | undefined;
  /** The kernel's BTF names the feature's constant; undefined without kernel BTF. */
  kernel: boolean | undefined;
  /** Why the kernel lacks it when its release is not the reason (e.g. no kprobes). */
  kernelLacks?: string;
}

/** The enum constants a BTF blob names (enum and enum64 members). */
export function enumConstants(btf: Btf): Set<string> {
  const names = new Set<string>();
  for (let id = 1; id < btf.count; id++) {
    const t = btf.type(id);
    if (t.kind === 'enum' || t.kind === 'enum64') for (const v of t.values) names.add(v.name);
  }
  return names;
}

/**
 * Each feature's support, given whether the loaded libbpf has a symbol (undefined when none could
 * be loaded) and the kernel's enum constants (undefined when the kernel has no readable BTF).
 */
export function featureSupport(
  hasSymbol: ((name: string) => boolean) | undefined,
  constants: Set<string> | undefined,
  hasKprobes = true,
): FeatureSupport[] {
  return FEATURES.map((f) => {
    const support: FeatureSupport = {
      id: f.id,
      libbpf: hasSymbol?.(f.symbol),
      kernel: constants ? constants.has(f.constant) : undefined,
    };
    if (f.needsKprobes && !hasKprobes && support.kernel !== false) {
      return { ...support, kernel: false, kernelLacks: 'CONFIG_KPROBES, CONFIG_FPROBE' };
    }
    return support;
  });
}

/** One line for the report: what is there, and what waits for a newer libbpf or kernel. */
export function checkFeatures(support: FeatureSupport[]): CheckResult {
  const byId = new Map(FEATURES.map((f) => [f.id, f]));
  const title = (s: FeatureSupport) => byId.get(s.id)?.title ?? s.id;
  const usable = support.filter((s) => s.libbpf && s.kernel === true).map(title);
  const needLibbpf = support
    .filter((s) => s.libbpf === false)
    .map((s) => `${title(s)} (libbpf ${byId.get(s.id)?.libbpf})`);
  const needKernel = support
    .filter((s) => s.kernel === false && s.kernelLacks === undefined)
    .map((s) => `${title(s)} (kernel ${byId.get(s.id)?.kernel})`);
  const kernelLacks = support
    .filter((s) => s.kernel === false && s.kernelLacks !== undefined)
    .map((s) => `${title(s)} (${s.kernelLacks})`);
  const parts: string[] = [];
  if (support.every((s) => s.libbpf !== undefined)) {
    parts.push(`this libbpf and kernel allow: ${usable.length > 0 ? usable.join(', ') : 'none of them'}`);
  }
  if (needLibbpf.length > 0) parts.push(`need a newer libbpf: ${needLibbpf.join(', ')}`);
  if (needKernel.length > 0) parts.push(`need a newer kernel: ${needKernel.join(', ')}`);
  if (kernelLacks.length > 0) parts.push(`this kernel was built without: ${kernelLacks.join(', ')}`);
  if (support.some((s) => s.libbpf === undefined))
    parts.push('libbpf support unknown (see the libbpf check)');
  if (support.some((s) => s.kernel === undefined)) parts.push('kernel support unknown (no kernel BTF)');
  // Optional by nature: none of them is needed to build or run tsbpf programs.
  return check('features', 'Newer BPF features', 'ok', `${parts.join('; ')} (see docs/platforms.md)`);
}
