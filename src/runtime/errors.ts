// Runtime errors: the verifier's rejection, and the mapping from a failed libbpf/kernel call
// (errno plus what libbpf printed) to the TsbpfError a user can act on.
import { NotSupportedError, PermissionError, TsbpfError, type TsbpfErrorOptions } from '../errors.js';
import { type CapabilityName, effectiveCapabilities, errnoName, hasCapability } from '../linux.js';

/** The kernel verifier refused a program. `log` is the verifier's full log. */
export class VerifierError extends TsbpfError {
  override name = 'VerifierError';
  readonly program: string;
  readonly log: string;
  /** The C source line the failing instruction came from, when the object has line info. */
  readonly sourceLine: string | undefined;
  /** The instruction index the verifier stopped at, when the log names one. */
  readonly instruction: number | undefined;

  constructor(
    message: string,
    details: { program: string; log: string; sourceLine?: string; instruction?: number },
    options: TsbpfErrorOptions = {},
  ) {
    super(message, options);
    this.program = details.program;
    this.log = details.log;
    this.sourceLine = details.sourceLine;
    this.instruction = details.instruction;
  }
}

/** A libbpf/kernel call failure: errno and the call's name. */
export class SystemCallError extends TsbpfError {
  override name = 'SystemCallError';
  readonly errno: number;
  constructor(message: string, errno: number, options: TsbpfErrorOptions = {}) {
    super(message, options);
    this.errno = errno;
  }
}

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;

// What each kind of program needs as a user other than root, measured on Linux 6.18 (Debian 12,
// kernel.perf_event_paranoid=2, tracefs mode 0700) with setpriv; docs/troubleshooting.md has the table.
//   every program: CAP_BPF (maps, load); tracing types (raw_tp, tracepoint, kprobe, uprobe) also
//   CAP_PERFMON; XDP/tc/socket CAP_NET_ADMIN; tracepoint attach: read access to tracefs;
//   uprobe/uretprobe attach: CAP_SYS_ADMIN (the uprobe PMU refuses CAP_PERFMON with EACCES).

export const privilegeHint =
  'run as root, or grant CAP_BPF and CAP_PERFMON (plus CAP_NET_ADMIN for XDP/tc/sockets, CAP_SYS_ADMIN for uprobes, ' +
  'CAP_DAC_READ_SEARCH for tracepoints); `tsbpf doctor` says what this user can run';

/**
 * How to give a process the capabilities it lacks (`missing`): from root with setpriv, or file
 * capabilities on a node binary. The commands grant all of `all`, since they replace what it has.
 */
export function grantHint(missing: readonly string[], all: readonly string[] = missing): string {
  const names = [...new Set([...all, ...missing])].map((c) => c.replace(/^CAP_/, '').toLowerCase());
  const list = missing.join(' and ');
  const plus = names.map((n) => `+${n}`).join(',');
  return (
    `run as root, or grant ${list}: start node from root with \`setpriv --reuid=<user> --init-groups ` +
    `--inh-caps=${plus} --ambient-caps=${plus} node app.js\`, or \`setcap ${names.map((n) => `cap_${n}`).join(',')}+ep\` ` +
    'on a node binary kept for this program'
  );
}

/** Tracepoints by name: libbpf reads the id from tracefs, which Debian and others mount root-only. */
export const tracefsHint =
  'run as root, or grant CAP_DAC_READ_SEARCH (reads the root-only tracefs), or open tracefs to a group ' +
  '(as root: `mount -o remount,gid=<group>,mode=0750 /sys/kernel/tracing`), or use a raw tracepoint: ' +
  'SEC("raw_tp/sys_enter") needs only CAP_BPF and CAP_PERFMON';

/** The capabilities bpf() asks for (CAP_SYS_RESOURCE is doctor's alone). */
export type Capability = Exclude<CapabilityName, 'CAP_SYS_RESOURCE'>;

/**
 * A uprobe or uretprobe the kernel refused: the uprobe PMU wants CAP_SYS_ADMIN, and CAP_BPF with
 * CAP_PERFMON are not enough (perf_event_open fails with EACCES; seen on Linux 6.18).
 */
export function uprobePermissionError(what: string, errnoLabel: string, cause?: unknown): PermissionError {
  const lacks = missingCapabilities(['CAP_SYS_ADMIN']).length > 0;
  if (lacks) {
    return new PermissionError(
      `${what}: permission denied (${errnoLabel}): the process lacks CAP_SYS_ADMIN, which uprobes need (CAP_BPF and CAP_PERFMON are not enough)`,
      { hint: grantHint(['CAP_SYS_ADMIN'], ['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_ADMIN']), cause },
    );
  }
  return new PermissionError(`${what}: permission denied (${errnoLabel})`, {
    hint: 'the process has CAP_SYS_ADMIN, so a security module (SELinux, AppArmor) or lockdown refused it: check the audit log',
    cause,
  });
}

/**
 * Which of `needed` the process lacks. CAP_SYS_ADMIN still stands in for CAP_BPF and CAP_PERFMON
 * (kernel/bpf/syscall.c: bpf_capable(), perfmon_capable()).
 */
export function missingCapabilities(needed: readonly Capability[]): Capability[] {
  const caps = effectiveCapabilities();
  if (caps === undefined) return [];
  const has = (c: Capability): boolean => hasCapability(caps, c);
  return needed.filter((c) => !has(c) && !((c === 'CAP_BPF' || c === 'CAP_PERFMON') && has('CAP_SYS_ADMIN')));
}

// From kernel/bpf/syscall.c (bpf_prog_load): is_net_admin_prog_type() and is_perfmon_prog_type().
const netAdminProgTypes = new Set([3, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 22, 23, 25]);
const perfmonProgTypes = new Set([2, 5, 7, 17, 24, 26, 27, 28, 29]);

/** The capabilities loading or attaching a program of this BPF_PROG_TYPE_* needs. */
export function capabilitiesFor(progType: number | undefined): Capability[] {
  if (progType === undefined) return ['CAP_BPF'];
  if (netAdminProgTypes.has(progType)) return ['CAP_BPF', 'CAP_NET_ADMIN'];
  if (perfmonProgTypes.has(progType)) return ['CAP_BPF', 'CAP_PERFMON'];
  return ['CAP_BPF'];
}

/** EPERM/EACCES as a PermissionError that names the capabilities the process lacks. */
export function permissionError(
  what: string,
  errnoLabel: string,
  detail: string,
  needed: readonly Capability[] = ['CAP_BPF'],
  cause?: unknown,
): PermissionError {
  const missing = missingCapabilities(needed);
  if (missing.length > 0) {
    const list = missing.join(' and ');
    return new PermissionError(
      `${what}: operation not permitted (${errnoLabel}): the process lacks ${list}${detail}`,
      { hint: grantHint(missing, needed), cause },
    );
  }
  return new PermissionError(`${what}: operation not permitted (${errnoLabel})${detail}`, {
    hint: privilegeHint,
    cause,
  });
}

/**
 * The error for a failed call: PermissionError for EPERM (naming the capabilities of `needed` the
 * process lacks), NotSupportedError for EOPNOTSUPP/ENOTSUPP, SystemCallError otherwise.
 */
export function callError(
  what: string,
  errno: number,
  details: string[] = [],
  cause?: unknown,
  needed: readonly Capability[] = ['CAP_BPF'],
): TsbpfError {
  const detail = details.length > 0 ? `: ${details.join('; ')}` : '';
  if (errno === EPERM) return permissionError(what, 'EPERM', detail, needed, cause);
  if (errno === ENOTSUPP || errno === EOPNOTSUPP) {
    return new NotSupportedError(`${what}: not supported by this kernel (${errnoName(errno)})${detail}`, {
      hint: 'this kernel or its configuration lacks the feature; `tsbpf doctor` lists what is available',
      cause,
    });
  }
  return new SystemCallError(`${what}: ${errnoName(errno)}${detail}`, errno, { cause });
}
