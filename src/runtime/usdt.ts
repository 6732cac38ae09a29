// USDT probes (<sys/sdt.h> DTRACE_PROBE / STAP_PROBE, the probes python, node, postgres and libc
// carry) attached through libbpf's bpf_program__attach_usdt: libbpf reads the binary's
// .note.stapsdt notes, sets a uprobe at each site of provider:name (raising its semaphore, if any),
// and fills the spec map <bpf/usdt.bpf.h>'s bpf_usdt_arg() reads arguments through. Here: the
// options, and the errors a user's mistake gets instead of libbpf's errno.
import { existsSync } from 'node:fs';
import { NotSupportedError, TsbpfError, UsageError } from '../errors.js';
import { ENOENT, ESRCH } from './errors.js';
import { libbpfVersion } from './ffi/libbpf.js';
import { resolveBinary } from './program.js';

export interface UsdtOptions {
  /** Path of the binary or library carrying the probe, or an executable's name looked up in PATH. */
  binary: string;
  /** The probe's provider (the first argument of DTRACE_PROBE*), e.g. `python`. */
  provider: string;
  /** The probe's name, e.g. `function__entry`. */
  name: string;
  /** Only this process (default: every process running the binary). */
  pid?: number;
  /** A value the program reads with bpf_usdt_cookie(ctx). */
  cookie?: bigint;
}

const listHint = (binary: string): string =>
  `list the binary's probes with \`readelf -n ${binary}\` (stapsdt notes: Provider and Name)`;

/**
 * Refuses USDT attach under libbpf 1.7 and newer. Measured in the platform matrix: there, programs
 * attached through tsbpf read every argument and the cookie as 0, and semaphore-gated probes
 * (python's) never fire, while 1.1 and 1.5 deliver them (1.6 was not tested). Until the cause is
 * found, a clear error beats events with silently wrong values.
 */
export function assertUsdtSupported(program: string): void {
  const [major = 1, minor = 0] = libbpfVersion();
  if (major === 1 && minor < 7) return;
  throw new NotSupportedError(
    `program ${program}: tsbpf's USDT attach does not work with libbpf ${major}.${minor} yet (probe arguments and cookies read as 0)`,
    {
      hint: 'load with libbpf 1.5 or older for USDT programs (unset TSBPF_LIBBPF, or point it at libbpf 1.5)',
    },
  );
}

/** The binary's path; a UsageError naming the probe and binary when it does not exist. */
export function usdtBinary(program: string, options: UsdtOptions): string {
  const probe = `${options.provider}:${options.name}`;
  let binary: string;
  try {
    binary = resolveBinary(options.binary);
  } catch (cause) {
    throw new UsageError(`program ${program}: USDT ${probe}: cannot find ${options.binary} in PATH`, {
      cause,
      hint: 'give the absolute path of the binary or library that carries the probe',
    });
  }
  if (!existsSync(binary)) {
    throw new UsageError(`program ${program}: USDT ${probe}: ${binary} does not exist`, {
      hint: 'give the path of an existing binary or library that carries the probe',
    });
  }
  return binary;
}

/** The error for a failed attach a user caused, or undefined for callError's generic one. */
export function usdtAttachError(
  program: string,
  binary: string,
  options: UsdtOptions,
  errno: number,
  libbpfLines: string[],
): TsbpfError | undefined {
  const probe = `${options.provider}:${options.name}`;
  // libbpf's usdt.c: no matching note is ENOENT; a file that is not ELF fails in elf_begin/gelf.
  if (libbpfLines.some((l) => /failed to (open|parse) ELF|not an ELF/i.test(l))) {
    return new UsageError(`program ${program}: USDT ${probe}: ${binary} is not an ELF binary`, {
      hint: 'give the binary or shared library itself, not a script or wrapper that runs it',
    });
  }
  if (errno === ENOENT) {
    return new UsageError(`program ${program}: USDT probe ${probe} not found in ${binary}`, {
      hint: `${listHint(binary)}; a binary built without <sys/sdt.h> probes (or stripped of its notes) has none`,
    });
  }
  if (errno === ESRCH) {
    return new TsbpfError(`program ${program}: USDT ${probe}: no process ${options.pid} to probe`);
  }
  return undefined;
}
