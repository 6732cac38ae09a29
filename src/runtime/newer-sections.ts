// SEC() names that a newer libbpf knows and an older one opens as "missing BPF prog type" (its
// load then fails with EINVAL). tsbpf gives such programs the type and expected attach type that
// newer libbpf's section_defs give them (libbpf.c, 1.2: netfilter; 1.3: uprobe.multi), so they
// load with libbpf 1.1 too; what attaches them then says which libbpf it needs, if any
// (attachNetfilter makes its link itself; attachUprobeMulti needs libbpf >= 1.3).
import type { ProgramSpec } from './specs.js';

// enum bpf_prog_type / bpf_attach_type (include/uapi/linux/bpf.h)
const BPF_PROG_TYPE_KPROBE = 2;
const BPF_PROG_TYPE_NETFILTER = 32;
const BPF_NETFILTER = 45;
const BPF_TRACE_UPROBE_MULTI = 48;
const BPF_F_SLEEPABLE = 1 << 4;

interface NewerSection {
  pattern: RegExp;
  type: number;
  attachType: number;
  sleepable?: boolean;
}

const newerSections: NewerSection[] = [
  { pattern: /^netfilter$/, type: BPF_PROG_TYPE_NETFILTER, attachType: BPF_NETFILTER },
  {
    pattern: /^u(ret)?probe\.multi(\/|$)/,
    type: BPF_PROG_TYPE_KPROBE,
    attachType: BPF_TRACE_UPROBE_MULTI,
  },
  {
    pattern: /^u(ret)?probe\.multi\.s(\/|$)/,
    type: BPF_PROG_TYPE_KPROBE,
    attachType: BPF_TRACE_UPROBE_MULTI,
    sleepable: true,
  },
];

/**
 * Sets type and expected attach type of a program whose section this libbpf did not recognize
 * (type 0, BPF_PROG_TYPE_UNSPEC) when a newer libbpf knows the section. Recorded as the user's
 * own settings would be, so a reopen at load replays them.
 */
export function adoptNewerSection(spec: ProgramSpec): void {
  if (spec.type !== 0) return;
  const known = newerSections.find((s) => s.pattern.test(spec.sectionName));
  if (!known) return;
  spec.type = known.type;
  spec.expectedAttachType = known.attachType;
  if (known.sleepable) spec.flags |= BPF_F_SLEEPABLE;
}
