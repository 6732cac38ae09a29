// Runtime errors: the verifier's rejection, and the mapping from a failed libbpf/kernel call
// (errno plus what libbpf printed) to the TsbpfError a user can act on.
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

/** The error for a failed call: PermissionError for EPERM/EACCES, SystemCallError otherwise. */
export function callError(what: string, errno: number, details: string[] = [], cause?: unknown): TsbpfError {
  const detail = details.length > 0 ? `: ${details.join('; ')}` : '';
  if (errno === EPERM) {
    return new PermissionError(`${what}: operation not permitted (EPERM)${detail}`, {
      hint: privilegeHint,
      cause,
    });
  }
  if (errno === ENOTSUPP || errno === EOPNOTSUPP) {
    return new NotSupportedError(`${what}: not supported by this kernel (${errnoName(errno)})${detail}`, {
      hint: 'this kernel or its configuration lacks the feature; `tsbpf doctor` lists what is available',
      cause,
    });
  }
  return new SystemCallError(`${what}: ${errnoName(errno)}${detail}`, errno, { cause });
}
