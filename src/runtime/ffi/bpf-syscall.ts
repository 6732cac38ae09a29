// The bpf(2) syscall through libc's syscall(), for what libbpf (1.1) cannot make: its number per
// architecture and a call with a union bpf_attr the caller lays out.
import koffi from 'koffi';
import { libc } from './libc.js';

/** __NR_bpf per architecture (arch/<arch>/entry/syscalls and include/uapi/asm-generic/unistd.h). */
export const bpfSyscallNumbers: Record<string, number> = {
  x64: 321,
  ia32: 357,
  arm64: 280,
  arm: 386,
  riscv64: 280,
  loong64: 280,
  s390x: 351,
  ppc64: 361,
  mips: 4355,
  mipsel: 4355,
};

/**
 * bpf(cmd, attr, size): the result (>= 0), or minus the errno. Undefined where tsbpf does not
 * know the syscall number of this architecture.
 */
export function bpfSyscall(cmd: number, attr: ArrayBuffer | Uint8Array): number | undefined {
  const number = bpfSyscallNumbers[process.arch];
  if (number === undefined) return undefined;
  const result = Number(libc().syscall(number, 'int', cmd, 'void *', attr, 'unsigned int', attr.byteLength));
  return result < 0 ? -koffi.errno() : result;
}
