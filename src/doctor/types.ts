/** ok: fine. warn: an optional feature is missing; tsbpf works without it. fail: tsbpf cannot work. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable identifier, for --json readers: 'kernel-btf', 'clang', ... */
  id: string;
  /** Short human name: 'Kernel BTF'. */
  title: string;
  status: CheckStatus;
  /** What was found: '/sys/kernel/btf/vmlinux (5.3 MB)', 'clang 14.0.6 at /usr/bin/clang'. */
  detail: string;
  /** What to do about a warn or fail (a command where there is one). */
  fix?: string;
}

export interface DoctorReport {
  /** True when nothing failed: this machine can build and run tsbpf programs. */
  ready: boolean;
  checks: CheckResult[];
  /**
   * Per kind of program ('tracepoint', 'uprobe/uretprobe', ...), whether it runs for this user
   * and, when not, whether privilege or the kernel is why (the run-* checks say more).
   */
  programs?: { kind: string; runs: boolean; blockedBy?: 'privilege' | 'kernel' }[];
  /**
   * Per newer feature ('tcx', 'token', ...: see docs/platforms.md), whether the loaded libbpf has
   * it (by symbol) and the kernel has it (by its BTF; undefined without kernel BTF).
   */
  features?: { id: string; libbpf: boolean | undefined; kernel: boolean | undefined }[];
}

export function check(
  id: string,
  title: string,
  status: CheckStatus,
  detail: string,
  fix?: string,
): CheckResult {
  return fix === undefined || status === 'ok'
    ? { id, title, status, detail }
    : { id, title, status, detail, fix };
}
