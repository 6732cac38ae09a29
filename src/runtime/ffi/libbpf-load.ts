// Which libbpf the runtime loads, and loading it. By default the system's, by soname (libbpf.so.1,
// where the dynamic loader finds it); TSBPF_LIBBPF names another file instead, e.g. a newer libbpf
// built by hand (test/platforms/libbpf-build builds Debian's 1.5 and 1.7 so for the libbpf matrix).
import koffi, { type LibraryHandle } from 'koffi';
import { ToolchainError } from '../../errors.js';

/** The environment variable that names the libbpf to load. */
export const LIBBPF_ENV = 'TSBPF_LIBBPF';

export interface LibbpfChoice {
  /** What dlopen() is given: the path TSBPF_LIBBPF names, or the soname. */
  library: string;
  /** True when TSBPF_LIBBPF chose it. */
  fromEnv: boolean;
}

/** The libbpf this process loads: TSBPF_LIBBPF when set and not empty, else libbpf.so.1. */
export function libbpfChoice(env: NodeJS.ProcessEnv = process.env): LibbpfChoice {
  const named = env[LIBBPF_ENV]?.trim();
  return named ? { library: named, fromEnv: true } : { library: 'libbpf.so.1', fromEnv: false };
}

/** Loads the chosen libbpf; a failure is a ToolchainError naming what to install or fix. */
export function loadLibbpf(choice: LibbpfChoice = libbpfChoice()): LibraryHandle {
  if (choice.fromEnv) return loadNamed(choice.library);
  try {
    return koffi.load(choice.library);
  } catch (cause) {
    throw new ToolchainError(
      'libbpf.so.1 could not be loaded: tsbpf needs libbpf 1.x to load eBPF programs',
      {
        cause,
        hint: 'install it: `apt install libbpf1` (Debian/Ubuntu) or `dnf install libbpf` (Fedora)',
      },
    );
  }
}

/** The libbpf TSBPF_LIBBPF names: an error names the variable and the path, not a dlopen stack. */
function loadNamed(library: string): LibraryHandle {
  const hint = `point ${LIBBPF_ENV} at a libbpf 1.x shared library (a libbpf.so.1 file), or unset it to use the system's libbpf.so.1`;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(library);
  } catch (cause) {
    const reason = firstLine(cause).replace(/^Failed to load shared library: /, '');
    throw new ToolchainError(`${LIBBPF_ENV}=${library} could not be loaded: ${reason}`, { cause, hint });
  }
  let major: number;
  try {
    major = Number(lib.func('uint32 libbpf_major_version(void)')());
  } catch (cause) {
    throw new ToolchainError(`${LIBBPF_ENV}=${library} is not libbpf (it has no libbpf_major_version)`, {
      cause,
      hint,
    });
  }
  if (major !== 1) {
    throw new ToolchainError(`${LIBBPF_ENV}=${library} is libbpf ${major}.x, where libbpf 1.x was expected`, {
      hint,
    });
  }
  return lib;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
