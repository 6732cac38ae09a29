// Asks the kernel directly whether bpf() works here: BPF_MAP_CREATE through libc's syscall(),
// with no libbpf involved, so a missing libbpf and a refusing kernel are told apart.

import { constants, endianness } from 'node:os';
import koffi, { type TypeObject } from 'koffi';
import { errnoName } from '../linux.js';
import { bpfSyscallNumbers } from '../runtime/ffi/bpf-syscall.js';
import { libc } from '../runtime/ffi/libc.js';
import { type CheckResult, check } from './types.js';

/** From enum bpf_map_type in include/uapi/linux/bpf.h. */
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_MAP_TYPE_RINGBUF = 27;
const BPF_MAP_CREATE = 0;

/** Creates and closes a map; returns 0 on success, else the errno. */
export function tryCreateMap(type: number, keySize: number, valueSize: number, maxEntries: number): number {
  const number = bpfSyscallNumbers[process.arch];
  if (number === undefined) return constants.errno.ENOSYS;
  const c = libc();
  // The head of union bpf_attr for BPF_MAP_CREATE: map_type, key_size, value_size, max_entries
  // (u32 each, host order); the rest stays zero.
  const attr = Buffer.alloc(72);
  const le = endianness() === 'LE';
  const put = (value: number, offset: number) =>
    le ? attr.writeUInt32LE(value, offset) : attr.writeUInt32BE(value, offset);
  put(type, 0);
  put(keySize, 4);
  put(valueSize, 8);
  put(maxEntries, 12);
  const fd = Number(c.syscall(number, 'int', BPF_MAP_CREATE, 'void *', attr, 'unsigned int', attr.length));
  if (fd < 0) return koffi.errno();
  c.close(fd);
  return 0;
}

/** The head of union bpf_attr for BPF_PROG_LOAD (include/uapi/linux/bpf.h), up to expected_attach_type. */
let progLoadAttr: TypeObject | undefined;
const BPF_PROG_LOAD = 5;
/** `r0 = 0; exit`: BPF_ALU64|BPF_MOV|BPF_K into r0, then BPF_JMP|BPF_EXIT. */
const returnZero = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

/**
 * Loads and closes a two-instruction program of BPF_PROG_TYPE_* `progType`; returns 0 on success,
 * else the errno. The kernel's load-time permission checks are per type (bpf_prog_load in
 * kernel/bpf/syscall.c), so this tells what this process may load without attaching anything.
 */
export function tryLoadProgram(progType: number): number {
  const number = bpfSyscallNumbers[process.arch];
  if (number === undefined) return constants.errno.ENOSYS;
  // Pointers in bpf_attr are u64: this layout holds where a C pointer is 8 bytes.
  if (koffi.sizeof('void *') !== 8) throw new Error('not tested on a 32-bit process');
  const c = libc();
  progLoadAttr ??= koffi.struct('tsbpf_doctor_prog_load_attr', {
    prog_type: 'uint32',
    insn_cnt: 'uint32',
    insns: 'void *',
    license: 'const char *',
    log_level: 'uint32',
    log_size: 'uint32',
    log_buf: 'void *',
    kern_version: 'uint32',
    prog_flags: 'uint32',
    prog_name: koffi.array('char', 16),
    prog_ifindex: 'uint32',
    expected_attach_type: 'uint32',
  });
  const attr = {
    prog_type: progType,
    insn_cnt: 2,
    insns: returnZero,
    license: 'GPL',
    prog_name: 'tsbpf_doctor',
  };
  const size = koffi.sizeof(progLoadAttr);
  const fd = Number(
    c.syscall(number, 'int', BPF_PROG_LOAD, koffi.pointer(progLoadAttr), attr, 'unsigned int', size),
  );
  if (fd < 0) return koffi.errno();
  c.close(fd);
  return 0;
}

export function checkBpfSyscall(): CheckResult {
  const title = 'bpf() system call';
  let errno: number;
  try {
    errno = tryCreateMap(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
  } catch (error) {
    return check('bpf-syscall', title, 'fail', `could not call bpf(): ${(error as Error).message}`);
  }
  if (errno === 0) return check('bpf-syscall', title, 'ok', 'created and closed a one-entry array map');
  const name = errnoName(errno);
  if (errno === constants.errno.EPERM || errno === constants.errno.EACCES) {
    return check(
      'bpf-syscall',
      title,
      'fail',
      `map creation refused (${name})`,
      'run as root (sudo) or grant CAP_BPF',
    );
  }
  if (errno === constants.errno.ENOSYS) {
    return check(
      'bpf-syscall',
      title,
      'fail',
      'the kernel has no bpf() (ENOSYS)',
      'use a kernel built with CONFIG_BPF_SYSCALL=y',
    );
  }
  return check('bpf-syscall', title, 'fail', `map creation failed (${name})`);
}

/** BPF ring buffers (5.8+): a map whose size is a power-of-two multiple of the page size. */
export function checkRingbuf(): CheckResult {
  const title = 'Ring buffer maps';
  let errno: number;
  try {
    errno = tryCreateMap(BPF_MAP_TYPE_RINGBUF, 0, 0, Number(libc().getpagesize()));
  } catch (error) {
    return check('ringbuf', title, 'warn', `could not test: ${(error as Error).message}`);
  }
  if (errno === 0) return check('ringbuf', title, 'ok', 'created a BPF_MAP_TYPE_RINGBUF map');
  if (errno === constants.errno.EPERM || errno === constants.errno.EACCES) {
    return check(
      'ringbuf',
      title,
      'warn',
      `not tested: bpf() refused (${errnoName(errno)})`,
      'run as root (sudo)',
    );
  }
  return check(
    'ringbuf',
    title,
    'warn',
    `not supported (${errnoName(errno)}): use perf event arrays instead`,
    'use a kernel 5.8 or newer for ring buffers',
  );
}
