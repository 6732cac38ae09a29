// libbpf.so.1, which the tsbpf runtime loads through koffi at a program's run time.

import koffi from 'koffi';
import { type CheckResult, check } from './types.js';

export function libbpfVersion(library = 'libbpf.so.1'): string {
  const lib = koffi.load(library);
  const major = Number(lib.func('uint32_t libbpf_major_version(void)')());
  const minor = Number(lib.func('uint32_t libbpf_minor_version(void)')());
  return `${major}.${minor}`;
}

export function checkLibbpf(library = 'libbpf.so.1'): CheckResult {
  const title = 'libbpf';
  try {
    return check('libbpf', title, 'ok', `${library} ${libbpfVersion(library)}`);
  } catch (error) {
    return check(
      'libbpf',
      title,
      'fail',
      `${library} cannot be loaded: ${(error as Error).message.split('\n')[0]}`,
      'install libbpf: apt-get install libbpf1',
    );
  }
}
