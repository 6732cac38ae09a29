// SEC() names that newer libbpf releases added to libbpf.c's section_defs (release tags v1.2.0 to
// v1.7.0). An older libbpf opens such a program with no type (BPF_PROG_TYPE_UNSPEC), and its load
// then fails with a bare EINVAL ("missing BPF prog type"). tsbpf tells from that, not from the
// version number, that this libbpf does not know the section, and then:
// - gives it the type and expected attach type newer libbpf gives it, where tsbpf attaches it
//   without that libbpf (netfilter: attachNetfilter makes its link itself), so it loads and runs;
// - otherwise makes the load a NotSupportedError naming the libbpf release that knows the section
//   (with optionalPrograms: 'skip-unsupported' the program is left out with that reason), where
//   libbpf said only EINVAL, or nothing at all for a program whose section it did not know.
import { NotSupportedError, UsageError } from '../errors.js';
import { libbpfVersion } from './ffi/libbpf.js';
import type { ProgramSpec } from './specs.js';

// enum bpf_prog_type / bpf_attach_type (include/uapi/linux/bpf.h)
const BPF_PROG_TYPE_NETFILTER = 32;
const BPF_NETFILTER = 45;

interface NewerSection {
  pattern: RegExp;
  /** The first libbpf release whose section_defs has it. */
  libbpf: [number, number];
  /** Where tsbpf runs it with an older libbpf: its type and expected attach type. */
  adopt?: { type: number; attachType: number };
  /** What works with the older libbpf instead, if anything does. */
  instead?: string;
}

const newerSections: NewerSection[] = [
  {
    pattern: /^struct_ops\.s(\/|$)/,
    libbpf: [1, 2],
    instead: 'write SEC("struct_ops/...") where the operation need not sleep',
  },
  {
    pattern: /^netfilter$/,
    libbpf: [1, 3],
    adopt: { type: BPF_PROG_TYPE_NETFILTER, attachType: BPF_NETFILTER },
  },
  {
    pattern: /^u(ret)?probe\.multi(\.s)?(\/|$)/,
    libbpf: [1, 3],
    instead: 'attach each function with attachUprobe({ binary, symbol }) from a SEC("uprobe") program',
  },
  { pattern: /^usdt\.s(\/|$)/, libbpf: [1, 3], instead: 'write SEC("usdt") where the probe need not sleep' },
  {
    // tc/ingress and tc/egress are libbpf 1.3's aliases of the tcx names.
    pattern: /^tcx?\/(ingress|egress)$/,
    libbpf: [1, 3],
    instead: 'write SEC("tc") and attach it with attachTc({ ifname, direction: \'ingress\' })',
  },
  { pattern: /^netkit\/(primary|peer)$/, libbpf: [1, 3] },
  { pattern: /^cgroup\/(connect|sendmsg|recvmsg|getpeername|getsockname)_unix$/, libbpf: [1, 3] },
  { pattern: /^sk_skb\/verdict$/, libbpf: [1, 4] },
  {
    pattern: /^kprobe\.session(\/|$)/,
    libbpf: [1, 5],
    instead:
      'pair a SEC("kprobe.multi") and a SEC("kretprobe.multi") program that share a map keyed by bpf_get_current_pid_tgid()',
  },
  {
    pattern: /^uprobe\.session(\.s)?(\/|$)/,
    libbpf: [1, 6],
    instead:
      'pair a SEC("uprobe") and a SEC("uretprobe") program that share a map keyed by bpf_get_current_pid_tgid()',
  },
  {
    pattern: /^fsession(\.s)?(\/|$)/,
    libbpf: [1, 7],
    instead:
      'pair a SEC("fentry/...") and a SEC("fexit/...") program that share a map keyed by bpf_get_current_pid_tgid()',
  },
];

/**
 * Sets type and expected attach type of a program whose section this libbpf did not recognize
 * (type 0, BPF_PROG_TYPE_UNSPEC) when tsbpf runs it without the libbpf that knows the section.
 * Recorded as the user's own settings would be, so a reopen at load replays them.
 */
export function adoptNewerSection(spec: ProgramSpec): void {
  if (spec.type !== 0) return;
  const adopt = newerSections.find((s) => s.pattern.test(spec.sectionName))?.adopt;
  if (!adopt) return;
  spec.type = adopt.type;
  spec.expectedAttachType = adopt.attachType;
}

/** The release that added `section` when it is newer than the loaded libbpf, else undefined. */
function newerThanThisLibbpf(section: string): NewerSection | undefined {
  const known = newerSections.find((s) => s.pattern.test(section));
  if (!known) return undefined;
  const [major, minor] = libbpfVersion();
  const [needMajor, needMinor] = known.libbpf;
  // Only said when it is so: a libbpf that should know the section failed for another reason.
  return major < needMajor || (major === needMajor && minor < needMinor) ? known : undefined;
}

/**
 * The NotSupportedError for a section the loaded libbpf does not know; `program` is named where
 * the load can leave it out and load the others.
 */
function newerSectionError(what: string, section: string, program?: string): NotSupportedError | undefined {
  const known = newerThanThisLibbpf(section);
  if (!known) return undefined;
  const need = known.libbpf.join('.');
  const hints = [`install libbpf ${need} or newer and point tsbpf at it: TSBPF_LIBBPF=/path/to/libbpf.so.1`];
  if (known.instead) hints.push(`or ${known.instead}`);
  if (program) {
    hints.push(
      `to load the other programs without ${program}, pass load({ optionalPrograms: 'skip-unsupported' }) or set its autoload to false`,
    );
  }
  return new NotSupportedError(
    `${what}: SEC("${section}") needs libbpf >= ${need} (older ones do not know the section); this process loaded libbpf ${libbpfVersion().join('.')}`,
    { hint: hints.join('; ') },
  );
}

/**
 * The error for a program libbpf left without a type (type 0, which no kernel loads): its
 * section is one a newer libbpf knows (NotSupportedError), or one no libbpf knows (UsageError).
 */
export function unknownSectionError(
  what: string,
  program: { name: string; type: number; section: string },
): NotSupportedError | UsageError | undefined {
  if (program.type !== 0) return undefined;
  const newer = newerSectionError(what, program.section, program.name);
  if (newer) return newer;
  return new UsageError(
    `${what}: libbpf ${libbpfVersion().join('.')} does not know SEC("${program.section}"), so the program has no type`,
    {
      hint: `check the name against libbpf's section names (docs/programs/kinds.md), or give the program its type before load: spec.programs.get('${program.name}').type = ...`,
    },
  );
}

/**
 * libbpf 1.1 checks struct_ops programs while it opens the object, before tsbpf sees them: a
 * SEC("struct_ops.s/...") program fails the open. The error naming the libbpf that knows it.
 */
export function structOpsOpenError(
  what: string,
  messages: string[],
  sections: string[],
): NotSupportedError | undefined {
  const refused = messages.some((m) => /prog \S+ is not struct_ops BPF program/.test(m));
  const section = sections.find((s) => /^struct_ops\.s(\/|$)/.test(s));
  return refused && section ? newerSectionError(what, section) : undefined;
}
