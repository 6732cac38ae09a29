// The running kernel's BTF, the source of vmlinux.h and of the layouts CO-RE relocates against.
import { readFileSync } from 'node:fs';
import { NotSupportedError } from '../errors.js';
import { type Btf, parseBtf } from './btf.js';

export const KERNEL_BTF_PATH = '/sys/kernel/btf/vmlinux';

/** Reads and parses kernel BTF (vmlinux by default; a module's file given vmlinux as `base`). */
export function readKernelBtf(path = KERNEL_BTF_PATH, base?: Btf): Btf {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new NotSupportedError(`cannot read kernel BTF at ${path}`, {
      cause: error,
      hint: 'The kernel needs CONFIG_DEBUG_INFO_BTF=y; `tsbpf doctor` checks this.',
    });
  }
  return parseBtf(bytes, { file: path, base });
}
