// Runtime errors: the verifier's rejection, and the mapping from a failed libbpf/kernel call
// (errno plus what libbpf printed) to the TsbpfError a user can act on.
import { readFileSync } from 'node:fs';
import { NotSupportedError, PermissionError, TsbpfError, type TsbpfErrorOptions } from '../errors.js';

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

const errnoNames: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  7: 'E2BIG',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  28: 'ENOSPC',
  38: 'ENOSYS',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
  4001: 'LIBBPF_ERRNO__FORMAT',
  4002: 'LIBBPF_ERRNO__KVERSION',
  4003: 'LIBBPF_ERRNO__ENDIAN',
  4004: 'LIBBPF_ERRNO__INTERNAL',
  4005: 'LIBBPF_ERRNO__RELOC',
  4006: 'LIBBPF_ERRNO__LOAD',
  4007: 'LIBBPF_ERRNO__VERIFY',
  4008: 'LIBBPF_ERRNO__PROG2BIG',
  4009: 'LIBBPF_ERRNO__KVER',
  4010: 'LIBBPF_ERRNO__PROGTYPE',
  4011: 'LIBBPF_ERRNO__WRNGPID',
  4012: 'LIBBPF_ERRNO__INVSEQ',
  4013: 'LIBBPF_ERRNO__NLPARSE',
};

export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`;
}

export const privilegeHint =
  'run as root, or grant CAP_BPF and CAP_PERFMON (plus CAP_NET_ADMIN for XDP/tc/sockets); ' +
  'unprivileged users also need /proc/sys/kernel/unprivileged_bpf_disabled = 0';

export type Capability = 'CAP_NET_ADMIN' | 'CAP_SYS_ADMIN' | 'CAP_PERFMON' | 'CAP_BPF';

// Bit numbers from include/uapi/linux/capability.h.
const capabilityBits: Record<Capability, number> = {
  CAP_NET_ADMIN: 12,
  CAP_SYS_ADMIN: 21,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
};

/** The process's effective capability set (CapEff in /proc/self/status); undefined when unreadable. */
function effectiveCapabilities(): bigint | undefined {
  try {
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match?.[1] ? BigInt(`0x${match[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which of `needed` the process lacks. CAP_SYS_ADMIN still stands in for CAP_BPF and CAP_PERFMON
 * (kernel/bpf/syscall.c: bpf_capable(), perfmon_capable()).
 */
export function missingCapabilities(needed: readonly Capability[]): Capability[] {
  const caps = effectiveCapabilities();
  if (caps === undefined) return [];
  const has = (c: Capability): boolean => (caps & (1n << BigInt(capabilityBits[c]))) !== 0n;
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
      {
        hint: `run as root, or grant ${list} (e.g. \`setpriv --inh-caps=+${missing.map((c) => c.slice(4).toLowerCase()).join(',+')} --ambient-caps=...\` or \`setcap\` on node)`,
        cause,
      },
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
