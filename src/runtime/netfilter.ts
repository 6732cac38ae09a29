// Netfilter links (kernel 6.4+, CONFIG_NETFILTER_BPF_LINK): a SEC("netfilter") program on a
// netfilter hook, as nftables' chains are, returning NF_ACCEPT (1) or NF_DROP (0). libbpf 1.1's
// bpf_link_create has no netfilter options (libbpf 1.2 added them), so the link is made here with
// the bpf(2) syscall: union bpf_attr's link_create (include/uapi/linux/bpf.h) with its netfilter
// member { pf, hooknum, priority, flags } at byte 16, after prog_fd, target_fd, attach_type, flags.
import { NotSupportedError, UsageError } from '../errors.js';
import { callError, EINVAL, EOPNOTSUPP, SystemCallError } from './errors.js';

const EBUSY = 16;

import { hostLittleEndian } from './constants.js';
import { bpfSyscall, bpfSyscallNumbers } from './ffi/bpf-syscall.js';

export interface NetfilterOptions {
  /** Protocol family: 'ipv4' (NFPROTO_IPV4) or 'ipv6' (NFPROTO_IPV6), or the number. */
  pf: 'ipv4' | 'ipv6' | number;
  /** Hook: 'prerouting', 'input', 'forward', 'output', 'postrouting' (enum nf_inet_hooks), or the number. */
  hooknum: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | number;
  /**
   * Order among the hook's functions, lower first (nftables' and iptables' chains use the same
   * scale: -300 raw, -150 mangle, 0 filter...). Not INT_MIN or INT_MAX, which the kernel keeps.
   */
  priority: number;
  /** BPF_F_NETFILTER_IP_DEFRAG (1): see packets after IP defragmentation (kernel 6.6+). */
  flags?: number;
}

const families: Record<string, number> = { ipv4: 2, ipv6: 10 };
const hooks: Record<string, number> = { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4 };

const BPF_LINK_CREATE = 28;
const BPF_NETFILTER = 45;
const BPF_PROG_TYPE_NETFILTER = 32;

/** Makes the netfilter link; returns its fd (the caller owns it). */
export function netfilterLink(
  program: { name: string; sectionName: string; type: number; fd: number },
  options: NetfilterOptions,
): number {
  const what = `program ${program.name}: attach netfilter`;
  if (program.type !== BPF_PROG_TYPE_NETFILTER) {
    throw new UsageError(
      `${what}: attachNetfilter() attaches SEC("netfilter") programs; SEC("${program.sectionName}") is not one`,
      {
        hint: 'write it as SEC("netfilter") int fn(struct bpf_nf_ctx *ctx), returning NF_ACCEPT (1) or NF_DROP (0)',
      },
    );
  }
  const pf = pick('pf', options.pf, families);
  const hooknum = pick('hooknum', options.hooknum, hooks);
  if (
    !Number.isInteger(options.priority) ||
    options.priority <= -(2 ** 31) ||
    options.priority >= 2 ** 31 - 1
  ) {
    throw new UsageError(
      `${what}: priority ${options.priority} is not an integer between INT_MIN and INT_MAX`,
      {
        hint: 'the kernel keeps INT_MIN and INT_MAX (NF_IP_PRI_FIRST/LAST); e.g. priority: -100',
      },
    );
  }
  const attr = new DataView(new ArrayBuffer(32));
  const le = hostLittleEndian;
  attr.setUint32(0, program.fd, le);
  attr.setUint32(8, BPF_NETFILTER, le);
  attr.setUint32(16, pf, le);
  attr.setUint32(20, hooknum, le);
  attr.setInt32(24, options.priority, le);
  attr.setUint32(28, options.flags ?? 0, le);
  const fd = bpfSyscall(BPF_LINK_CREATE, attr.buffer);
  if (fd === undefined) {
    throw new NotSupportedError(`${what}: tsbpf does not know the bpf syscall number on ${process.arch}`, {
      hint: `tsbpf knows it on ${Object.keys(bpfSyscallNumbers).join(', ')}`,
    });
  }
  if (fd >= 0) return fd;
  const errno = -fd;
  const where = `${what} (pf ${pf}, hook ${hooknum}, priority ${options.priority})`;
  if (errno === EINVAL) {
    throw new UsageError(`${where}: the kernel refused these options (EINVAL)`, {
      hint:
        'pf is ipv4 or ipv6, hooknum one of prerouting, input, forward, output, postrouting; ' +
        'flags: only BPF_F_NETFILTER_IP_DEFRAG (1), with a priority above -400 (kernel 6.6+)',
    });
  }
  if (errno === EBUSY) {
    throw new SystemCallError(
      `${where}: another BPF program holds this hook at this priority (EBUSY)`,
      errno,
      {
        hint: `\`bpftool link\` lists netfilter links; stop the other one, or pick another priority (e.g. ${options.priority + 1})`,
      },
    );
  }
  if (errno === EOPNOTSUPP) {
    throw new NotSupportedError(`${where}: the kernel has no netfilter links (EOPNOTSUPP)`, {
      hint: 'netfilter links need Linux 6.4+ built with CONFIG_NETFILTER_BPF_LINK (and the defrag flag nf_defrag_ipv4/6)',
    });
  }
  throw callError(where, errno, [], undefined, ['CAP_BPF', 'CAP_NET_ADMIN']);
}

function pick(field: string, value: string | number, names: Record<string, number>): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const known = typeof value === 'string' ? names[value] : undefined;
  if (known === undefined) {
    throw new UsageError(`attachNetfilter: ${field} ${String(value)} is not a known ${field}`, {
      hint: `give one of ${Object.keys(names).join(', ')} (or its number)`,
    });
  }
  return known;
}
