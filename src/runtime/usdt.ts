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
 * sizeof(struct __bpf_usdt_spec), the value of the `__bpf_usdt_specs` map that <bpf/usdt.bpf.h>
 * declares and libbpf's user space fills at attach: 12 argument specs, the cookie and the count.
 * libbpf 1.7 (x86 SIB arguments) added bit-fields to each argument spec that the ABI cannot pack
 * where its comment says, so an argument spec grew from 16 to 24 bytes and the spec from 208 to 304
 * (measured: libbpf 1.6.3 and older write 208 bytes, 1.7.0 writes 304). The BPF side reads the
 * layout of the header it was compiled with; the other layout reads every argument and the cookie
 * as 0 or garbage. Both sides must come from the same side of 1.7.
 */
const SPEC_SIZE_BEFORE_1_7 = 208;
const SPEC_SIZE_SINCE_1_7 = 304;

function writtenSpecSize([major, minor]: [number, number]): number {
  return major > 1 || minor >= 7 ? SPEC_SIZE_SINCE_1_7 : SPEC_SIZE_BEFORE_1_7;
}

function headerOf(specSize: number): string {
  if (specSize === SPEC_SIZE_BEFORE_1_7) return 'of libbpf 1.6 or older';
  if (specSize === SPEC_SIZE_SINCE_1_7) return 'of libbpf 1.7 or newer';
  return 'of no libbpf release tsbpf knows';
}

/** How to make the two sides agree: the loaded libbpf's headers, or the libbpf of the object's. */
function layoutFix(loaded: string, specSize: number, written: number): string {
  const where = `(tsbpf gen -I, or includeDirs in tsbpf build's config, naming the folder that holds its bpf/usdt.bpf.h)`;
  if (specSize === SPEC_SIZE_BEFORE_1_7) {
    return `compile it against ${loaded}'s headers ${where}, or load it with libbpf 1.6 or older (unset TSBPF_LIBBPF)`;
  }
  if (specSize === SPEC_SIZE_SINCE_1_7 && written === SPEC_SIZE_BEFORE_1_7) {
    return `compile it against ${loaded}'s headers (any libbpf 1.1 to 1.6, e.g. the system's libbpf-dev), or load it with libbpf 1.7 or newer (TSBPF_LIBBPF=/path/to/libbpf.so.1)`;
  }
  return `compile it against ${loaded}'s headers ${where}`;
}

/**
 * Checks, before libbpf attaches a USDT program, that its object can read what this libbpf writes:
 * `specSize` is the object's `__bpf_usdt_specs` value size, undefined when it has no such map.
 */
export function assertUsdtLayout(program: string, specSize: number | undefined): void {
  if (specSize === undefined) {
    // libbpf's own answer is ESRCH, which would read as "no such process".
    throw new UsageError(
      `program ${program}: its object does not include <bpf/usdt.bpf.h>, which USDT programs need`,
      {
        hint: '#include <bpf/usdt.bpf.h> in the C source: it declares the maps libbpf fills at attach (__bpf_usdt_specs, __bpf_usdt_ip_to_spec_id) and bpf_usdt_arg() that reads them',
      },
    );
  }
  const version = libbpfVersion();
  const written = writtenSpecSize(version);
  if (specSize === written) return;
  const loaded = `libbpf ${version[0]}.${version[1]}`;
  throw new NotSupportedError(
    `program ${program}: compiled with the <bpf/usdt.bpf.h> ${headerOf(specSize)} (${specSize}-byte USDT specs), but the loaded ${loaded} writes ${written}-byte ones: every probe argument and the cookie would read wrong`,
    { hint: layoutFix(loaded, specSize, written) },
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
  // Before 1.7, libbpf reads a base + index * scale (x86 SIB) operand such as 32(%rsp,%rax,8) as
  // one register named "rsp,%rax,8" and fails with ENOENT, which is not "probe not found".
  const sib = libbpfLines.map((l) => /unrecognized register '([^']*,[^']*)'/.exec(l)?.[1]).find(Boolean);
  if (sib) {
    const [major, minor] = libbpfVersion();
    return new NotSupportedError(
      `program ${program}: USDT ${probe}: an argument is addressed base + index * scale (%${sib}), which libbpf reads from 1.7 on, not the loaded libbpf ${major}.${minor}`,
      {
        hint: "load it with libbpf 1.7 or newer (TSBPF_LIBBPF=/path/to/libbpf.so.1), the program compiled against that libbpf's headers (docs/programs/usdt.md)",
      },
    );
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
