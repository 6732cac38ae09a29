// libbpf.so.1 (or the one TSBPF_LIBBPF names), which the tsbpf runtime loads through koffi at a
// program's run time: which file, which version, and which newer features it has.

import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { TsbpfError } from '../errors.js';
import { LIBBPF_ENV, type LibbpfChoice, libbpfChoice, loadLibbpf } from '../runtime/ffi/libbpf-load.js';
import { type CheckResult, check } from './types.js';

function asChoice(library: LibbpfChoice | string): LibbpfChoice {
  return typeof library === 'string' ? { library, fromEnv: false } : library;
}

export function libbpfVersion(library: LibbpfChoice | string = libbpfChoice()): string {
  const lib = koffi.load(asChoice(library).library);
  const major = Number(lib.func('uint32_t libbpf_major_version(void)')());
  const minor = Number(lib.func('uint32_t libbpf_minor_version(void)')());
  return `${major}.${minor}`;
}

/** Whether the libbpf this process would use loads (and is libbpf 1.x). */
export function libbpfLoads(library: LibbpfChoice | string = libbpfChoice()): boolean {
  try {
    loadLibbpf(asChoice(library));
    return true;
  } catch {
    return false;
  }
}

/** Whether the libbpf this process loads exports `name` (false when it cannot be loaded). */
export function libbpfHasSymbol(name: string, library: LibbpfChoice | string = libbpfChoice()): boolean {
  try {
    koffi.load(asChoice(library).library).func(`void ${name}(void)`);
    return true;
  } catch {
    return false;
  }
}

/** The file the dynamic loader mapped for a soname (this process has loaded it), from /proc/self/maps. */
function mappedPath(soname: string): string | undefined {
  try {
    const base = soname.replace(/\.so.*$/, '.so');
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const path = line.slice(line.indexOf('/'));
      if (line.includes('/') && path.split('/').pop()?.startsWith(base)) return path;
    }
  } catch {
    // no procfs: the soname alone
  }
  return undefined;
}

export function checkLibbpf(library: LibbpfChoice | string = libbpfChoice()): CheckResult {
  const title = 'libbpf';
  const choice = asChoice(library);
  try {
    const version = libbpfVersion(choice);
    if (choice.fromEnv) {
      return check('libbpf', title, 'ok', `libbpf ${version} at ${choice.library} (from ${LIBBPF_ENV})`);
    }
    const file = mappedPath(choice.library);
    return check('libbpf', title, 'ok', `libbpf ${version}: ${choice.library}${file ? ` (${file})` : ''}`);
  } catch (error) {
    if (choice.fromEnv) {
      // The runtime's own error for it: names the variable and the path.
      try {
        loadLibbpf(choice);
      } catch (named) {
        if (named instanceof TsbpfError) return check('libbpf', title, 'fail', named.message, named.hint);
      }
    }
    return check(
      'libbpf',
      title,
      'fail',
      `${choice.library} cannot be loaded: ${(error as Error).message.split('\n')[0]}`,
      'install libbpf: apt-get install libbpf1',
    );
  }
}
